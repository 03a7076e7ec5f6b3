"""Hypernet training throughput at batch 256: length-grouped batches vs the same model on randomly
ordered batches, on synthetic data shaped like ours (word dim 100, heavy-tailed 1–256 words per
token, D_out 100)."""

from __future__ import annotations

import time

import numpy as np
import torch
from torch.utils.data import DataLoader

from hyperofa.config.hypernet import HypernetModelConfig as HypernetConfig
from hyperofa.hypernet.data import Augmentation, LengthGroupedSampler, TokenWordSets, collate
from hyperofa.hypernet.loss import hypernet_loss
from hyperofa.hypernet.models import build_hypernet


def synthetic(n_tokens: int = 8192, n_words: int = 50_000, dim: int = 100, seed: int = 0):
    rng = np.random.default_rng(seed)
    sizes = np.arange(1, 257)
    p = sizes**-1.6
    counts = rng.choice(sizes, size=n_tokens, p=p / p.sum())
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    indices = rng.integers(0, n_words, indptr[-1]).astype(np.int64)
    words = rng.standard_normal((n_words, dim)).astype(np.float32)
    targets = rng.standard_normal((n_tokens, 100)).astype(np.float32)
    return indptr, indices, words, targets


def samples_per_second(grouped: bool, n_batches: int, **model_kw) -> tuple[float, float]:
    indptr, indices, words, targets = synthetic()
    torch.manual_seed(0)
    net = build_hypernet(
        HypernetConfig(architecture="bilstm", input_dim=100, **model_kw), words, output_dim=100
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    data = TokenWordSets(indptr, indices, np.arange(len(targets)), targets, 256, Augmentation())
    sampler = LengthGroupedSampler(data.lengths(), 256, 40, seed=0, group_by_length=grouped)
    batches = iter(DataLoader(data, batch_sampler=sampler, collate_fn=collate))
    started, seen, padded, real = None, 0, 0, 0
    for i in range(n_batches + 1):  # the first batch warms up
        if i == 1:
            started = time.perf_counter()
        b = next(batches)
        loss, _ = hypernet_loss(net(b.word_ids, b.lengths), b.targets, 0.1, 0.25)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:
            seen, padded, real = (
                seen + len(b.lengths),
                padded + b.word_ids.numel(),
                real + int(b.lengths.sum()),
            )
    return seen / (time.perf_counter() - started), 1 - real / padded


def main(n_batches: int = 4, hidden_size: int = 800) -> None:
    print(
        f"BiLSTM hypernet (hidden {hidden_size}, 1 layer), batch 256, {n_batches} training steps each"
    )
    grouped, pad_g = samples_per_second(True, n_batches, hidden_size=hidden_size)
    shuffled, pad_r = samples_per_second(False, n_batches, hidden_size=hidden_size)
    print(f"  length-grouped batches: {grouped:8.1f} samples/s  (padding {pad_g:.0%})")
    print(f"  random batches        : {shuffled:8.1f} samples/s  (padding {pad_r:.0%})")
    print(f"  ratio grouped/random  : {grouped / shuffled:6.2f}x")


if __name__ == "__main__":
    main()
