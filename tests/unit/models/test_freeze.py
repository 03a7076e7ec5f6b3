import numpy as np
import pytest
import torch

from hyperofa.errors import IncompatibleInputsError
from hyperofa.models import CAUSAL_DECODER, MASKED_ENCODER, freeze_source_rows
from hyperofa.models.freeze import vocabulary_parameters
from tests.unit.models import common as masked
from tests.unit.models.causal_common import EXTRA, SOURCE_VOCAB, assembled, batch

N = SOURCE_VOCAB


def _step(model, optimizer, family=CAUSAL_DECODER) -> None:
    """One update on a batch that uses new and source tokens alike."""
    ids, mask = batch(SOURCE_VOCAB + EXTRA)
    ids[:, ::2] = torch.arange(N, N + EXTRA).repeat(3)[: ids[:, ::2].numel()].view(3, -1)
    optimizer.zero_grad()
    family.training_loss(model, {"input_ids": ids, "attention_mask": mask}).loss.backward()
    optimizer.step()


def _snapshot(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize(
    ("kind", "dim", "frozen"),
    [
        ("gemma3_tied", None, ["model.embed_tokens.weight"]),
        ("llama_untied", None, ["model.embed_tokens.weight", "lm_head.weight"]),
        ("phi_biased", None, ["model.embed_tokens.weight", "lm_head.weight", "lm_head.bias"]),
        ("llama_untied", 8, ["model.embed_tokens.coordinates.weight", "head.coordinates.weight"]),
    ],
)
def test_after_a_step_the_source_rows_are_unchanged_and_the_new_rows_moved(kind, dim, frozen):
    model = assembled(kind, dim=dim).train()
    names = {id(p): n for n, p in model.named_parameters()}
    assert sorted(names[id(p)] for p in vocabulary_parameters(model)) == sorted(frozen)
    before = _snapshot(model)
    freeze_source_rows(model, N)
    _step(model, torch.optim.Adam(model.parameters(), lr=1e-2))
    for name in frozen:
        now = model.get_parameter(name)
        assert torch.equal(now[:N], before[name][:N]), name
        assert (now[N:] != before[name][N:]).any(), name
    others = [n for n in before if n not in frozen]
    assert all((model.get_parameter(n) != before[n]).any() for n in others if "norm" not in n)


def test_decoupled_weight_decay_moves_zero_gradient_rows_unless_the_optimizer_is_protected():
    model = assembled("llama_untied").train()
    before = model.get_input_embeddings().weight.detach().clone()
    freeze_source_rows(model, N)
    _step(model, torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1))
    assert not torch.equal(model.get_input_embeddings().weight[:N], before[:N])

    model = assembled("llama_untied").train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    freeze_source_rows(model, N).protect(optimizer)
    for _ in range(2):
        _step(model, optimizer)
    assert torch.equal(model.get_input_embeddings().weight[:N], before[:N])
    assert torch.equal(model.lm_head.weight[:N], assembled("llama_untied").lm_head.weight[:N])


def test_frozen_primitives_keep_the_source_embeddings_of_a_factorized_model():
    model = assembled("gemma3_tied", dim=8).train()
    before = CAUSAL_DECODER.source_embeddings(model)
    handle = freeze_source_rows(model, N, freeze_primitives=True)
    _step(model, torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2))
    after = CAUSAL_DECODER.source_embeddings(model)
    np.testing.assert_array_equal(after[:N], before[:N])
    assert (after[N:] != before[N:]).any()
    handle.remove()
    assert model.get_input_embeddings().primitives.weight.requires_grad


def test_removed_hooks_let_every_row_train_again():
    model = assembled("llama_untied").train()
    freeze_source_rows(model, N).remove()
    before = model.lm_head.weight.detach().clone()
    _step(model, torch.optim.SGD(model.parameters(), lr=1e-1))
    assert (model.lm_head.weight[:N] != before[:N]).any()


def test_a_masked_lm_freezes_its_embeddings_and_output_bias():
    model = masked.factorized(masked.tiny_bert(N)).train()
    chosen = {id(p) for p in vocabulary_parameters(model)}
    names = sorted(n for n, p in model.named_parameters() if id(p) in chosen)
    assert names == ["bias", "encoder.embeddings.word_embeddings.coordinates.weight"]
    before = _snapshot(model)
    freeze_source_rows(model, N)
    ids, mask, labels = masked.batch(N + masked.EXTRA)
    labels[:, 4] = N  # a new token is scored too
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    batch_ = {"input_ids": ids, "attention_mask": mask, "labels": labels}
    MASKED_ENCODER.training_loss(model, batch_).loss.backward()
    optimizer.step()
    for name in names:
        assert torch.equal(model.get_parameter(name)[:N], before[name][:N]), name
    assert not torch.equal(model.bias[N:], before["bias"][N:])


@pytest.mark.parametrize("n_source", [-1, SOURCE_VOCAB + EXTRA + 1])
def test_n_source_outside_the_vocabulary_is_refused(n_source):
    with pytest.raises(IncompatibleInputsError, match=f"n_source {n_source}: expected"):
        freeze_source_rows(assembled("gemma3_tied"), n_source)
