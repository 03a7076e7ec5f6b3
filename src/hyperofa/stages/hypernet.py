"""Stage `hypernet`: the HyperOFA hypernetwork trained on source tokens, once per (rows, word
vectors, config, hardware).

Training runs in a work dir keyed like the artifact (`<cache>/hypernet/<key>.work`), under the
stage's lock: a second job needing the same network waits and reuses it, and a job killed
mid-training resumes from `last.ckpt` when the same command runs again. The finished artifact
keeps the best weights, the splits, the CSV curves and the figures.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np

from hyperofa.artifacts import Artifact, cache_key, cached_stage
from hyperofa.config.hypernet import HypernetConfig
from hyperofa.config.training import TrainerConfig
from hyperofa.hypernet.module import CHECKPOINTS
from hyperofa.hypernet.train import RESULT, SPLITS, TrainResult, load_trained, train_hypernet
from hyperofa.match import TokenWordMap
from hyperofa.paths import cache_root
from hyperofa.stages.common import Keyed
from hyperofa.training.loggers import Tracking, close_loggers

STAGE = "hypernet"
KEPT = (RESULT, SPLITS, "csv", f"{CHECKPOINTS}/best.ckpt")


def hypernet(
    cfg: HypernetConfig,
    hw: TrainerConfig,
    tracking: Tracking,
    rows: Keyed[np.ndarray],
    source_words: Keyed[TokenWordMap],
    vectors: Keyed[np.ndarray],
) -> Artifact:
    """The trained network mapping a source token's word vectors to its row of `rows`."""
    config = {
        "model": asdict(cfg.model),
        "train": asdict(cfg.train),
        "hardware": {"accelerator": hw.accelerator, "precision": hw.precision},
    }
    inputs = {"rows": rows.key, "source_words": source_words.key, "word_vectors": vectors.key}
    work = cache_root() / STAGE / f"{cache_key(STAGE, config, inputs)}.work"

    def build(tmp: Path) -> dict:
        result = _train(cfg, hw, tracking, rows.value, source_words.value, vectors.value, work)
        for name in KEPT:
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(work / name), tmp / name)
        return result.metrics

    art = cached_stage(cache_root(), STAGE, config, inputs, build)
    shutil.rmtree(work, ignore_errors=True)
    return art


def _train(
    cfg: HypernetConfig,
    hw: TrainerConfig,
    tracking: Tracking,
    rows: np.ndarray,
    words: TokenWordMap,
    vectors: np.ndarray,
    work: Path,
) -> TrainResult:
    n = len(rows)  # the map may cover more ids than the rows (unused embeddings): rows only
    indptr, indices = words.indptr[: n + 1], words.indices[: words.indptr[n]]
    loggers = tracking.loggers("hypernet", "hypernet")
    try:
        return train_hypernet(
            indptr, indices, vectors, rows, cfg.model, cfg.train, work, hw=hw, loggers=loggers
        )
    finally:
        close_loggers(loggers)


def load(art: Artifact, cfg: HypernetConfig, vectors: np.ndarray) -> TrainResult:
    """The best network (eval mode), its splits and figures."""
    return load_trained(art.path, cfg.model, vectors)
