import pytest
import torch
import torch.nn.functional as F

from hyperofa.models import MASKED_ENCODER, encoder, masked_lm_loss
from hyperofa.models.heads import head_activation
from tests.unit.models.common import EXTRA, SOURCES, batch, factorized, logits

KINDS = [f"plain_{k}" for k in sorted(SOURCES)] + ["factorized_bert", "factorized_xlmr"]


def _model(kind: str):
    form, _, source = kind.partition("_")
    src = SOURCES[source](40 + EXTRA)
    return src if form == "plain" else factorized(SOURCES[source](40))


@pytest.mark.parametrize("kind", KINDS)
def test_masked_lm_loss_equals_the_full_logits_loss_restricted_to_masked_positions(kind):
    model = _model(kind)
    ids, mask, labels = batch(40 + EXTRA)
    full = logits(model, ids, mask)
    with torch.no_grad():
        loss, masked = masked_lm_loss(model, ids, mask, labels)
    selected = labels != -100
    assert masked.shape == (int(selected.sum()), 40 + EXTRA)
    torch.testing.assert_close(masked, full[selected])
    torch.testing.assert_close(loss, F.cross_entropy(full[selected], labels[selected]))


def test_masked_lm_loss_without_masked_positions_is_a_zero_with_a_graph():
    model = _model("plain_bert").train()
    ids, mask, labels = batch(40 + EXTRA)
    loss, masked = masked_lm_loss(model, ids, mask, torch.full_like(labels, -100))
    loss.backward()
    assert loss.requires_grad and float(loss.detach()) == 0.0 and masked.shape == (0, 40 + EXTRA)


@pytest.mark.parametrize("kind", ["plain_xlmr", "factorized_xlmr"])
def test_training_loss_says_where_the_scored_tokens_are(kind):
    model = _model(kind)
    ids, mask, labels = batch(40 + EXTRA)
    out = MASKED_ENCODER.training_loss(
        model, {"input_ids": ids, "attention_mask": mask, "labels": labels}
    )
    assert torch.equal(out.positions, labels != -100)
    assert torch.equal(out.targets, labels[out.positions])
    per_token = F.cross_entropy(out.logits, out.targets, reduction="none")
    torch.testing.assert_close(per_token.mean(), out.loss)


@pytest.mark.parametrize("kind", KINDS)
def test_encoder_is_the_base_model_under_the_head(kind):
    model = _model(kind)
    base = encoder(model)
    ids, mask, _ = batch(40 + EXTRA)
    with torch.no_grad():
        states = base(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    assert len(states.hidden_states) == 3 and states.last_hidden_state.shape == (3, 10, 16)
    assert base.config.vocab_size == 40 + EXTRA and hasattr(base, "embeddings")
    assert MASKED_ENCODER.encoder(model) is base


def test_head_activation_follows_each_architecture():
    src = SOURCES["bert"](40)
    src.config.hidden_act = "relu"
    assert head_activation(src) == "relu"
    assert head_activation(SOURCES["roberta"](40)) == "gelu"  # RoBERTa's head ignores hidden_act
