"""Stage `initialize`: the target rows (coordinates when factorized, else embeddings), their
provenance and the copy map, from an initializer wired by the pipeline."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from hyperofa.artifacts import Artifact, cached_stage, write_json_atomic
from hyperofa.config.evaluate import EvalConfig
from hyperofa.config.initializers import HyperOFAConfig, InitializerConfig, OFAConfig
from hyperofa.corpus.streams import text_batches
from hyperofa.evaluate.intrinsic import heldout_source_tokens, intrinsic_comparison, intrinsic_of
from hyperofa.evaluate.probe import TextProbe, sample_texts
from hyperofa.hypernet.train import TrainResult, predict
from hyperofa.init.base import Initializer, InitInputs
from hyperofa.init.base import initialize as fill_rows
from hyperofa.init.manual import ManualInitializer
from hyperofa.models import ModelFamily
from hyperofa.paths import cache_root
from hyperofa.stages import copy as copy_stage
from hyperofa.stages import focus as focus_stage
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
    source_tokenizer: Any = None  # `fvt`, `stacked`, overrides (their keys are in `copy`'s)
    target_tokenizer: Any = None
    static: Artifact | None = None  # FOCUS's static token embeddings (stage `focus`)
    probe: Keyed[TextProbe] | None = None  # the training-text probe (`stacked`, calibrate=text)


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
        source_tokenizer=parts.source_tokenizer,
        target_tokenizer=parts.target_tokenizer,
        static_vectors=focus_stage.load(parts.static) if parts.static is not None else None,
    )


def text_probe(
    family: ModelFamily,
    model: Keyed,
    target: Keyed,
    train: Keyed,
    size: int,
    seed: int,
    batches: EvalConfig,
) -> Keyed[TextProbe]:
    """The probe of `size` training texts (a seeded sample of the first `size` of each language
    in `train`, any layout `corpus.streams` reads), on the source model under the target
    tokenizer, batched as the evaluation's (`max_length`, `batch_size` of `batches`)."""
    texts = sample_texts(text_batches(train.value, cap=size), size, seed)
    log.info("initialize: the training-text probe holds %d texts", len(texts))
    probe = TextProbe(
        family, model.value, target.value, texts, seed, batches.max_length, batches.batch_size
    )
    key = f"{train.key}:{model.key}:{target.key}:{size}:{batches.max_length}"
    return Keyed(probe, key)


def check_overrides(cfg: InitializerConfig, parts: InitParts) -> None:
    """IncompatibleInputsError now, before any training, for an override naming an unknown or a
    copied token."""
    if cfg.overrides:
        ManualInitializer(cfg.overrides).targets(init_inputs(parts, seed=0))


def intrinsic_metrics(
    cfg: InitializerConfig,
    initializer: Initializer,
    inputs: InitInputs,
    trained: TrainResult | None,
) -> dict:
    """The method's own intrinsic scores on the held-out source tokens (a hyperofa job: its
    hypernet's test split), plus hyperofa's comparison with ofa and random."""
    test = trained.splits["test"] if trained is not None else heldout_source_tokens(inputs)
    metrics = intrinsic_of(initializer, inputs, test)
    if trained is not None and isinstance(cfg, HyperOFAConfig):
        metrics.update(hyperofa_metrics(inputs, cfg, trained))
    if "intrinsic_cosine" in metrics:
        log.info(
            "%s intrinsic (%d held-out source tokens): cosine %.4f, coverage %.3f",
            initializer.name, metrics["intrinsic_tokens"], metrics["intrinsic_cosine"],
            metrics["intrinsic_coverage"],
        )  # fmt: skip
    return metrics


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
        if parts.probe is not None:
            inputs.probe = parts.probe.value.bind(inputs.copy, inputs.source_rows, parts.primitives)
        result = fill_rows(initializer, inputs)
        tensors = {"embeddings": result.rows}
        if parts.primitives is not None:
            tensors = {"coordinates": result.rows, "primitives": parts.primitives}
        save_file(tensors, str(tmp / ROWS))
        np.save(tmp / "provenance.npy", result.provenance)
        np.save(tmp / "copied_from.npy", inputs.copy.source_id)
        trained = hypernet[1] if hypernet is not None else None
        metrics = intrinsic_metrics(cfg, initializer, inputs, trained)
        metrics.update(getattr(initializer, "calibration", {}))
        write_json_atomic(tmp / "metrics.json", metrics)
        return result.counts()

    dim = parts.primitives.shape[0] if parts.primitives is not None else None
    # version 2: every method's intrinsic scores in metrics.json (version 1 is never reused)
    config = {"initializer": asdict(cfg), "dim": dim, "seed": seed, "version": 2}
    inputs = {
        "rows": parts.rows.key,
        "source_match": parts.source_match.key,
        "target_match": parts.target_match.key,
        "copy": parts.copy.key,
        **({"hypernet": hypernet[0].key} if hypernet is not None else {}),
        **({"static": parts.static.key} if parts.static is not None else {}),
        **({"probe": parts.probe.key} if parts.probe is not None else {}),
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
