"""A tiny learnable hypernetwork problem: each token's target is a linear map of the mean of its
word vectors, so a set model can fit it and the loss must go down."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from hyperofa.config.hypernet import HypernetModelConfig, HypernetTrainConfig
from hyperofa.config.training import TrainerConfig
from hyperofa.hypernet.train import TrainResult, train_hypernet


@dataclass
class Problem:
    indptr: np.ndarray  # int64 [V+1]
    indices: np.ndarray  # int64 [nnz]
    word_vectors: np.ndarray  # float32 [N, d]
    targets: np.ndarray  # float32 [V, D]


def make_problem(
    n_tokens: int = 160, n_words: int = 300, dim: int = 8, out_dim: int = 6, seed: int = 0
) -> Problem:
    rng = np.random.default_rng(seed)
    counts = np.minimum(rng.zipf(1.7, n_tokens), 20)
    counts[rng.random(n_tokens) < 0.15] = 0  # tokens without matched words
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    indices = np.concatenate([rng.choice(n_words, size=c, replace=False) for c in counts]).astype(
        np.int64
    )
    word_vectors = rng.standard_normal((n_words, dim)).astype(np.float32)
    mapping = rng.standard_normal((dim, out_dim)).astype(np.float32)
    targets = np.zeros((n_tokens, out_dim), dtype=np.float32)
    for t in np.flatnonzero(counts):
        targets[t] = word_vectors[indices[indptr[t] : indptr[t + 1]]].mean(0) @ mapping + 0.5
    return Problem(indptr, indices, word_vectors, targets)


def tiny_configs(
    architecture: str = "bilstm", **train_overrides
) -> tuple[HypernetModelConfig, HypernetTrainConfig]:
    model = HypernetModelConfig(
        architecture=architecture,
        input_dim=8,
        hidden_size=12,
        num_layers=1,
        num_heads=2,
        ff_dim=16,
        dropout=0.1,
        max_context=12,
    )
    train = dict(
        batch_size=16,
        lr=1e-2,
        max_epochs=3,
        step_size=1,
        gamma=0.9,
        split=(0.75, 0.2, 0.05),
        checkpoint_every_n_steps=2,
        early_stopping_patience=None,
        seed=3,
    )
    train.update(train_overrides)
    return model, HypernetTrainConfig(**train)


def train_problem(problem: Problem, run_dir, model_cfg, train_cfg, **kw) -> TrainResult:
    """`train_hypernet` on a tiny problem, without a progress bar."""
    p = problem
    return train_hypernet(
        p.indptr,
        p.indices,
        p.word_vectors,
        p.targets,
        model_cfg,
        train_cfg,
        run_dir,
        hw=kw.pop("hw", TrainerConfig(progress=False)),
        **kw,
    )


@pytest.fixture
def problem() -> Problem:
    return make_problem()


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny nets on a shared 2-core box: a second OpenMP thread costs ~20× here under load."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
