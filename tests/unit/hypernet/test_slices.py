"""`hypernet.train.max_words_per_batch`: a batch runs in slices of bounded padded words, with
the whole batch's loss and gradients (each slice recomputed for the backward pass)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hyperofa.hypernet.data import TokenWordSets, collate, word_slices
from hyperofa.hypernet.loss import hypernet_loss
from hyperofa.hypernet.models import build_hypernet
from hyperofa.hypernet.module import predictions
from hyperofa.hypernet.train import predict

from .conftest import make_problem, tiny_configs
from .conftest import train_problem as _train


@pytest.mark.parametrize("max_words", [None, 1, 5, 12, 40, 10_000])
def test_slices_cover_the_batch_once_within_the_cap(max_words):
    lengths = torch.tensor([3, 9, 1, 12, 4, 4, 7, 2, 12, 5])
    slices = word_slices(lengths, max_words)
    assert sorted(torch.cat(slices).tolist()) == list(range(10))
    for s in slices:
        padded = len(s) * int(lengths[s].max())
        assert max_words is None or padded <= max_words or len(s) == 1
    whole = max_words is None or max_words >= 10 * 12
    assert (len(slices) == 1) == whole
    assert word_slices(torch.tensor([], dtype=torch.long), 4)[0].numel() == 0


def _batch(architecture: str, dropout: float):
    problem = make_problem()
    model_cfg, _ = tiny_configs(architecture)
    model_cfg.dropout = dropout
    torch.manual_seed(0)
    net = build_hypernet(model_cfg, problem.word_vectors, output_dim=6)
    tokens = np.flatnonzero(np.diff(problem.indptr) > 0)[:24]
    data = TokenWordSets(problem.indptr, problem.indices, tokens, problem.targets, 12)
    return net, collate([data[i] for i in range(len(data))])


def _loss_and_grads(net, batch, max_words):
    net.zero_grad()
    torch.manual_seed(5)
    loss, _ = hypernet_loss(predictions(net, batch, max_words), batch.targets, 0.1, 0.25)
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in net.parameters() if p.requires_grad]


@pytest.mark.parametrize("architecture", ["bilstm", "setformer"])
def test_sliced_batch_gives_the_whole_batch_loss_and_gradients(architecture):
    net, batch = _batch(architecture, dropout=0.0)
    net.train()
    assert len(word_slices(batch.lengths, 30)) > 3
    whole_loss, whole_grads = _loss_and_grads(net, batch, None)
    sliced_loss, sliced_grads = _loss_and_grads(net, batch, 30)
    torch.testing.assert_close(sliced_loss, whole_loss, rtol=1e-5, atol=1e-6)
    for a, b in zip(sliced_grads, whole_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_a_recomputed_slice_replays_its_dropout_masks():
    net, batch = _batch("bilstm", dropout=0.5)
    net.train()
    first = _loss_and_grads(net, batch, 30)
    again = _loss_and_grads(net, batch, 30)  # same seed: same masks, in forward and recompute
    torch.testing.assert_close(first[0], again[0])
    for a, b in zip(first[1], again[1], strict=True):
        torch.testing.assert_close(a, b)
    assert all(torch.isfinite(g).all() for g in first[1])


def test_training_and_prediction_with_a_word_cap(problem, tmp_path):
    model_cfg, train_cfg = tiny_configs(max_epochs=2, max_words_per_batch=40)
    result = _train(problem, tmp_path, model_cfg, train_cfg)
    assert np.isfinite(result.metrics["best_val_loss"])
    tokens = np.flatnonzero(np.diff(problem.indptr) > 0)
    capped = predict(result.model, problem.indptr, problem.indices, tokens, max_words=20)
    whole = predict(result.model, problem.indptr, problem.indices, tokens, max_words=None)
    np.testing.assert_allclose(capped, whole, rtol=1e-5, atol=1e-6)
