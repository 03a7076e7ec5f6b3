"""Stage `initialize`: the target rows (coordinates when factorized, else embeddings), their
provenance and the copy map, from an initializer wired by the pipeline."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from hyperofa.artifacts import Artifact, cached_stage, write_json_atomic
from hyperofa.config.initializers import HyperOFAConfig, InitializerConfig, OFAConfig
from hyperofa.evaluate.intrinsic import intrinsic_comparison
from hyperofa.hypernet.train import TrainResult, predict
from hyperofa.init.base import Initializer, InitInputs
from hyperofa.init.base import initialize as fill_rows
from hyperofa.paths import cache_root
from hyperofa.stages import copy as copy_stage
from hyperofa.stages import match as match_stage
from hyperofa.stages.common import Keyed, load_npy

log = logging.getLogger(__name__)
ROWS = "rows.safetensors"


@dataclass(frozen=True)
class InitParts:
    """The artifacts an initialization is computed from."""

    rows: Keyed[np.ndarray]  # source coordinates (V_s, D') or embeddings (V_s, D)
    primitives: np.ndarray | None  # (D', D) when factorized
    source_match: Artifact
    target_match: Artifact
    copy: Artifact
    vectors: Keyed[np.ndarray]  # the word-vector table (N, d)


@dataclass(frozen=True)
class Initialization:
    rows: np.ndarray  # (V_t, D') or (V_t, D)
    primitives: np.ndarray | None
    provenance: np.ndarray  # int8 (V_t,)
    copied_from: np.ndarray  # int64 (V_t,): the source id a row copies, -1 = not copied


def init_inputs(parts: InitParts, seed: int) -> InitInputs:
    return InitInputs(
        source_rows=parts.rows.value,
        copy=copy_stage.load(parts.copy),
        source_words=match_stage.load(parts.source_match),
        target_words=match_stage.load(parts.target_match),
        word_vectors=parts.vectors.value,
        seed=seed,
    )


def hyperofa_metrics(inputs: InitInputs, cfg: HyperOFAConfig, trained: TrainResult) -> dict:
    """The intrinsic comparison on the hypernet's held-out source tokens, and its figures."""
    test = trained.splits["test"]
    words = inputs.source_words
    predicted = predict(trained.model, words.indptr, words.indices, test)
    ofa = OFAConfig(top_k=cfg.ofa_top_k, temperature=cfg.ofa_temperature)
    metrics = {
        **intrinsic_comparison(inputs, test, predicted, ofa),
        "hypernet_best_val_loss": trained.metrics["best_val_loss"],
        "hypernet_epochs": trained.metrics["epochs"],
        "hypernet_test_tokens": len(test),
    }
    log.info(
        "hyperofa intrinsic (test source tokens): %s",
        ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if k.startswith("intrinsic")),
    )
    return metrics


def initialize(
    cfg: InitializerConfig,
    initializer: Initializer,
    seed: int,
    parts: InitParts,
    hypernet: tuple[Artifact, TrainResult] | None = None,
) -> Artifact:
    """Rows for every target token: random, the method's where it covers, copies over both."""

    def build(tmp: Path) -> dict:
        inputs = init_inputs(parts, seed)
        result = fill_rows(initializer, inputs)
        tensors = {"embeddings": result.rows}
        if parts.primitives is not None:
            tensors = {"coordinates": result.rows, "primitives": parts.primitives}
        save_file(tensors, str(tmp / ROWS))
        np.save(tmp / "provenance.npy", result.provenance)
        np.save(tmp / "copied_from.npy", inputs.copy.source_id)
        metrics = {}
        if hypernet is not None and isinstance(cfg, HyperOFAConfig):
            metrics = hyperofa_metrics(inputs, cfg, hypernet[1])
        write_json_atomic(tmp / "metrics.json", metrics)
        return result.counts()

    dim = parts.primitives.shape[0] if parts.primitives is not None else None
    config = {"initializer": asdict(cfg), "dim": dim, "seed": seed}
    inputs = {
        "rows": parts.rows.key,
        "source_match": parts.source_match.key,
        "target_match": parts.target_match.key,
        "copy": parts.copy.key,
        **({"hypernet": hypernet[0].key} if hypernet is not None else {}),
    }
    return cached_stage(cache_root(), "initialize", config, inputs, build)


def load(art: Artifact) -> Initialization:
    t = load_file(str(art.path / ROWS))
    return Initialization(
        rows=t.get("coordinates", t.get("embeddings")),
        primitives=t.get("primitives"),
        provenance=load_npy(art.path / "provenance.npy"),
        copied_from=load_npy(art.path / "copied_from.npy"),
    )
