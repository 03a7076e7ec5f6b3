"""One hypernetwork training epoch at paper scale (BiLSTM, code defaults, word dim 200), driven
step by step from `hyperofa.hypernet` as `bench/hypernet.py` does.

A full epoch on 2 CPU cores takes hours, so a stated sample of the epoch's length-grouped batches
runs (every k-th, plus the longest one, so peak memory is the epoch's) and the epoch time is
extrapolated by padded words: each direction of the BiLSTM runs the padded batch, so a step costs
about batch × longest length. The validation pass (2.5 % of the tokens) is left out. A batch runs
in checkpointed slices of at most `MAX_WORDS` padded words (`hypernet.train.max_words_per_batch`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from bench._synthetic.inputs import InputPaths
from bench._synthetic.stages import Clock, Work

SAMPLED_BATCHES = 12
MAX_WORDS = 16_384  # hypernet.train.max_words_per_batch at paper scale (conf/hypernet/*.yaml)


def _sampled(padded: np.ndarray) -> list[int]:
    stride = max(1, math.ceil(len(padded) / SAMPLED_BATCHES))
    return sorted(set(range(0, len(padded), stride)) | {int(padded.argmax())})


def _step(net, optimizer, batch, cfg) -> None:
    from hyperofa.hypernet.loss import hypernet_loss
    from hyperofa.hypernet.module import predictions

    pred = predictions(net, batch, cfg.max_words_per_batch)
    loss, _ = hypernet_loss(pred, batch.targets, cfg.lambda_contrastive, cfg.temperature)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
    optimizer.step()


def epoch(inputs: InputPaths, work: Work, clock: Clock) -> dict:
    """Source tokens with matched words → their coordinates (D' = stages.INIT_DIM)."""
    from hyperofa.config.hypernet import HypernetModelConfig as HypernetConfig
    from hyperofa.config.hypernet import HypernetTrainConfig
    from hyperofa.hypernet.data import (
        Augmentation,
        LengthGroupedSampler,
        TokenWordSets,
        collate,
        split_tokens,
    )
    from hyperofa.hypernet.models import build_hypernet
    from hyperofa.hypernet.train import validate_inputs

    indptr, indices = work.load("match_source", "indptr"), work.load("match_source", "indices")
    targets = work.load("factorize", "coordinates")
    vectors = np.load(inputs.word_vectors, mmap_mode="r")
    model_cfg = HypernetConfig(input_dim=vectors.shape[1])
    cfg = HypernetTrainConfig(max_words_per_batch=MAX_WORDS)
    with clock:  # what `train_hypernet` does before its first step
        matched = validate_inputs(indptr, indices, vectors, targets, model_cfg)
        train_ids = split_tokens(matched, cfg.split, cfg.split_seed)[0]
        torch.manual_seed(cfg.seed)
        net = build_hypernet(model_cfg, vectors, output_dim=targets.shape[1]).train()
        optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        aug = Augmentation(cfg.augment_p, cfg.augment_min_words, cfg.augment_keep, cfg.seed)
        data = TokenWordSets(indptr, indices, train_ids, targets, model_cfg.max_context, aug)
        lengths = data.lengths()
        sampler = LengthGroupedSampler(
            lengths, cfg.batch_size, cfg.length_group_chunk, cfg.seed, cfg.group_by_length
        )
        batches = sampler.batches(0)
    setup = (clock.seconds, clock.cpu)
    padded = np.array([lengths[b].max() * len(b) for b in batches], dtype=np.int64)
    picked = _sampled(padded)
    for i in picked:
        with clock:
            _step(net, optimizer, collate([data[(0, int(p))] for p in batches[i]]), cfg)
    steps = clock.seconds - setup[0]
    clock.scale_since(setup, padded.sum() / padded[picked].sum())
    note = (
        f"~ {len(picked)} of {len(batches)} batches run (every "
        f"{max(1, math.ceil(len(batches) / SAMPLED_BATCHES))}th + the longest), extrapolated by "
        f"padded words; BiLSTM h{model_cfg.hidden_size}, batch {cfg.batch_size} "
        f"(≤{cfg.max_words_per_batch:,} padded words a pass), "
        f"{len(train_ids):,} train tokens, mean {lengths.mean():.0f} words/token "
        f"(≤{model_cfg.max_context}); {steps / len(picked):.1f} s/sampled step"
    )
    return {
        "items": len(batches) * cfg.batch_size,
        "unit": "tokens",
        "note": note,
        "extrapolated": True,
    }
