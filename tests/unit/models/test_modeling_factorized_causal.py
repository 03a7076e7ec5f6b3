import pytest
import torch
import torch.nn.functional as F
from transformers import Gemma3TextConfig, LlamaConfig
from transformers.modeling_outputs import CausalLMOutputWithPast
from transformers.models.gemma3.modeling_gemma3 import Gemma3TextScaledWordEmbedding

from hyperofa.models import (
    FactorizedCausalConfig,
    FactorizedCausalEmbedding,
    FactorizedForCausalLM,
)
from tests.tiny_decoder import DECODERS
from tests.unit.models.causal_common import EXTRA, SOURCE_VOCAB, assembled, batch


@pytest.mark.parametrize("kind", ["gemma3_softcap", "llama_untied", "phi_biased"])
def test_logits_equal_a_reference_built_from_the_source_pieces(kind):
    source, model = DECODERS[kind](SOURCE_VOCAB), assembled(kind, dim=8)
    emb, (ids, mask) = model.get_input_embeddings(), batch(SOURCE_VOCAB + EXTRA)
    C, P = emb.coordinates.weight, emb.primitives.weight.T  # (V, D'), (D', D)
    head = emb if model.head is None else model.head
    C_out, P_out = head.coordinates.weight, head.primitives.weight.T
    scale = 4.0 if kind.startswith("gemma3") else 1.0  # Gemma 3 scales inputs by √hidden = √16
    with torch.no_grad():
        hidden = source.model(inputs_embeds=C[ids] @ P * scale, attention_mask=mask)
        reference = hidden.last_hidden_state @ P_out.T @ C_out.T
        if source.lm_head.bias is not None:
            reference = reference + model.bias
        if kind == "gemma3_softcap":
            reference = torch.tanh(reference / 2.0) * 2.0
        got = model(ids, attention_mask=mask).logits
    torch.testing.assert_close(got, reference, atol=1e-6, rtol=1e-6)
    assert model.config.embed_scale == scale
    assert (model.head is None) == (kind == "gemma3_softcap")


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_the_input_scale_is_gemmas_own_also_in_bf16(dtype):
    g = torch.Generator().manual_seed(0)
    rows, ids = torch.randn(30, 640, generator=g), torch.arange(30)
    native = Gemma3TextScaledWordEmbedding(30, 640, 0, embed_scale=640**0.5).to(dtype)
    factorized = FactorizedCausalEmbedding(30, 640, 640, embed_scale=640**0.5).to(dtype)
    with torch.no_grad():
        native.weight.copy_(rows)
        factorized.coordinates.weight.copy_(rows)
        factorized.primitives.weight.copy_(torch.eye(640))
    assert torch.equal(factorized(ids), native(ids))


@pytest.mark.parametrize(
    ("kind", "config_class"), [("gemma3_tied", Gemma3TextConfig), ("llama_untied", LlamaConfig)]
)
def test_config_keeps_the_decoder_config_through_a_dict(kind, config_class):
    config = assembled(kind, dim=8).config
    again = FactorizedCausalConfig.from_dict(config.to_dict())
    assert type(again.decoder) is config_class
    assert again.decoder.to_dict() == config.decoder.to_dict()
    assert (again.vocab_size, again.hidden_size, again.num_primitives) == (
        SOURCE_VOCAB + EXTRA,
        16,
        8,
    )
    assert again.tied == (kind == "gemma3_tied")
    assert again.output_num_primitives == (0 if again.tied else 8)


def test_forward_returns_the_shifted_loss_hidden_states_and_the_kept_logits():
    model = assembled("llama_untied", dim=8)
    ids, mask = batch(SOURCE_VOCAB + EXTRA)
    labels = ids.masked_fill(mask == 0, -100)
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, labels=labels, output_hidden_states=True)
        last = model(input_ids=ids, attention_mask=mask, logits_to_keep=3).logits
    assert isinstance(out, CausalLMOutputWithPast)
    assert out.logits.shape == (3, 10, SOURCE_VOCAB + EXTRA)
    expected = F.cross_entropy(out.logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten())
    torch.testing.assert_close(out.loss, expected)
    assert len(out.hidden_states) == 3  # embeddings + 2 layers
    torch.testing.assert_close(last, out.logits[:, -3:])


@pytest.mark.parametrize("kind", ["gemma3_tied", "llama_untied"])
def test_gradients_reach_the_factors_the_head_uses(kind):
    model = assembled(kind, dim=8).train()
    ids, mask = batch(SOURCE_VOCAB + EXTRA)
    model(ids, attention_mask=mask, labels=ids).loss.backward()
    emb = model.get_input_embeddings()
    assert emb.coordinates.weight.grad is not None and emb.primitives.weight.grad is not None
    assert model.get_output_embeddings() is None
    if model.head is not None:
        assert model.head.coordinates.weight.grad.abs().sum() > 0
        assert model.head.primitives.weight.grad.abs().sum() > 0


def test_the_attention_implementation_asked_for_reaches_the_decoder(tmp_path):
    model = assembled("gemma3_tied", dim=8)
    model.save_pretrained(tmp_path)
    eager = FactorizedForCausalLM.from_pretrained(tmp_path, attn_implementation="eager").eval()
    assert eager.model.config._attn_implementation == "eager"
    assert model.model.config._attn_implementation == "sdpa"
    ids, mask = batch(SOURCE_VOCAB + EXTRA)
    with torch.no_grad():
        torch.testing.assert_close(
            eager(ids, attention_mask=mask).logits, model(ids, attention_mask=mask).logits
        )
