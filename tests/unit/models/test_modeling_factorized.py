import pytest
import torch
import torch.nn.functional as F
from transformers import BertConfig, XLMRobertaConfig
from transformers.modeling_outputs import MaskedLMOutput

from hyperofa.models import FactorizedConfig, FactorizedForMaskedLM
from tests.tiny import tiny_bert, tiny_xlmr
from tests.unit.models.common import EXTRA, batch, factorized


@pytest.mark.parametrize("make", [tiny_bert, tiny_xlmr])
def test_logits_equal_a_reference_built_from_the_source_pieces(make):
    src = make(40)
    model = factorized(src)
    emb, (ids, mask, _) = model.get_input_embeddings(), batch(40 + EXTRA)
    C, P = emb.coordinates.weight, emb.primitives.weight.T  # (V, D'), (D', D)
    with torch.no_grad():
        hidden = src.base_model(inputs_embeds=C[ids] @ P, attention_mask=mask).last_hidden_state
        head = model.head  # the source's transform, checked against it below
        reference = (head(hidden) @ P.T) @ C.T + model.bias
        got = model(ids, attention_mask=mask).logits
    torch.testing.assert_close(got, reference, atol=1e-6, rtol=1e-6)
    dense = src.cls.predictions.transform.dense if hasattr(src, "cls") else src.lm_head.dense
    assert torch.equal(head.dense.weight, dense.weight)


@pytest.mark.parametrize(
    ("make", "config_class"), [(tiny_bert, BertConfig), (tiny_xlmr, XLMRobertaConfig)]
)
def test_config_keeps_the_encoder_config_through_a_dict(make, config_class):
    config = factorized(make(40)).config
    again = FactorizedConfig.from_dict(config.to_dict())
    assert type(again.encoder) is config_class
    assert again.encoder.to_dict() == config.encoder.to_dict()
    assert (again.vocab_size, again.hidden_size, again.num_primitives) == (40 + EXTRA, 16, 4)
    assert again.head_activation == "gelu"


def test_forward_returns_full_logits_the_loss_where_labelled_and_hidden_states():
    model = factorized(tiny_bert(40))
    ids, mask, labels = batch(40 + EXTRA)
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, labels=labels, output_hidden_states=True)
        states = model.encoder(ids, attention_mask=mask, output_hidden_states=True).hidden_states
    assert isinstance(out, MaskedLMOutput)
    assert out.logits.shape == (3, 10, 40 + EXTRA)
    selected = labels != -100
    torch.testing.assert_close(out.loss, F.cross_entropy(out.logits[selected], labels[selected]))
    assert len(out.hidden_states) == 3  # embeddings + 2 layers
    assert all(torch.equal(a, b) for a, b in zip(out.hidden_states, states, strict=True))


def test_attention_mask_hides_padding():
    model = factorized(tiny_bert(40))
    ids, mask, _ = batch(40 + EXTRA)
    changed = ids.clone()
    changed[2, 8] = 5  # a padded position
    with torch.no_grad():
        a = model(ids, attention_mask=mask).logits[2, :7]
        b = model(changed, attention_mask=mask).logits[2, :7]
    torch.testing.assert_close(a, b)


def test_the_head_is_tied_to_the_input_factors():
    model = factorized(tiny_bert(40))
    ids, mask, labels = batch(40 + EXTRA)
    model(ids, attention_mask=mask, labels=labels).loss.backward()
    emb = model.get_input_embeddings()
    assert emb.coordinates.weight.grad is not None and emb.primitives.weight.grad is not None
    assert model.get_output_embeddings() is None
    assert not any("decoder" in name for name, _ in model.named_parameters())


def test_built_from_config_the_output_bias_starts_at_zero():
    config = factorized(tiny_bert(40)).config
    model = FactorizedForMaskedLM(config)
    assert torch.equal(model.bias, torch.zeros(40 + EXTRA))
