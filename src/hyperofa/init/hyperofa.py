"""`hyperofa`: a hypernetwork trained on source tokens maps a token's set of word vectors to its row.

Training pairs are the source tokens with matched words (input: their word vectors; target: their
source row — coordinates when factorized). The trained network predicts the rows of target tokens
with matched words; the shared `initialize` then copies shared tokens over and leaves the rest
random (DESIGN §3.3). The trained hypernet is cached under `cache/hypernet/<key>` (key: its config
and the keys of its inputs), so a sweep trains it once per setting, and a rerun after a kill
resumes from its last checkpoint.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

from hyperofa.artifacts import cache_key, write_json_atomic
from hyperofa.errors import IncompatibleInputsError
from hyperofa.hypernet.config import configs_from_group
from hyperofa.hypernet.train import intrinsic_scores, predict, train_hypernet
from hyperofa.init.base import InitInputs, random_rows
from hyperofa.init.ofa import OFAInitializer
from hyperofa.paths import cache_root

log = logging.getLogger(__name__)


def intrinsic_comparison(
    inputs: InitInputs, test_ids: np.ndarray, hyperofa_rows: np.ndarray, ofa: OFAInitializer
) -> dict[str, float]:
    """Cosine and normalized L1 of predicted vs true source rows on held-out source tokens, for
    hyperofa, for ofa (those tokens removed from its candidates) and for random rows."""
    true = inputs.source_rows[test_ids]
    predictions = {
        "hyperofa": hyperofa_rows,
        "ofa": ofa.predict(inputs, inputs.source_words, test_ids, excluded=test_ids),
        "random": random_rows(
            inputs.source_rows, len(test_ids), np.random.default_rng(inputs.seed)
        ),
    }
    out = {}
    for name, pred in predictions.items():
        scores = intrinsic_scores(pred, true)
        out[f"intrinsic_cosine_{name}"] = scores["cosine"]
        out[f"intrinsic_l1_{name}"] = scores["l1_norm"]
    return out


class HyperOFAInitializer:
    name = "hyperofa"

    def __init__(self, hypernet: Any, ofa_top_k: int = 10, ofa_temperature: float = 0.1):
        self.model_cfg, self.train_cfg = configs_from_group(hypernet)
        self.ofa = OFAInitializer(top_k=ofa_top_k, temperature=ofa_temperature, use_gpu=False)
        self.metrics: dict[str, float] = {}
        self.loggers: list | None = None  # extra Lightning loggers (W&B); CSV is always written

    def check(self, word_dim: int) -> None:
        """Fail before any heavy stage when the word vectors do not fit the hypernet's input."""
        if word_dim != self.model_cfg.input_dim:
            raise IncompatibleInputsError(
                f"word vectors have dim {word_dim} but hypernet.model.cfg.input_dim is "
                f"{self.model_cfg.input_dim}; set hypernet.model.cfg.input_dim={word_dim}"
            )

    def run_dir(self, inputs: InitInputs) -> Path:
        config = {
            "model": dataclasses.asdict(self.model_cfg),
            "train": dataclasses.asdict(self.train_cfg),
        }
        return (
            cache_root() / "hypernet" / cache_key("hypernet", config, inputs.extras.get("keys", {}))
        )

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> np.ndarray:
        sw, tw = inputs.source_words, inputs.target_words
        run_dir = self.run_dir(inputs)
        # the source map may cover more ids than the rows (unused embedding rows): train on rows only
        n = len(inputs.source_rows)
        result = train_hypernet(
            sw.indptr[: n + 1],
            sw.indices[: sw.indptr[n]],
            inputs.word_vectors,
            inputs.source_rows,
            self.model_cfg,
            self.train_cfg,
            run_dir,
            loggers=[build(run_dir) for build in self.loggers] if self.loggers else None,
        )
        rows = predict(result.model, tw.indptr, tw.indices, token_ids)
        test_ids = result.splits["test"]
        test_rows = predict(result.model, sw.indptr, sw.indices, test_ids)
        self.metrics = {
            **intrinsic_comparison(inputs, test_ids, test_rows, self.ofa),
            "hypernet_best_val_loss": result.metrics["best_val_loss"],
            "hypernet_epochs": result.metrics["epochs"],
            "hypernet_test_tokens": len(test_ids),
        }
        write_json_atomic(run_dir / "intrinsic.json", self.metrics)
        log.info(
            "hyperofa intrinsic (test source tokens): %s",
            ", ".join(f"{k} {v:.4f}" for k, v in self.metrics.items() if k.startswith("intrinsic")),
        )
        return rows


def build(hypernet: Any, ofa_top_k: int = 10, ofa_temperature: float = 0.1) -> HyperOFAInitializer:
    return HyperOFAInitializer(hypernet, ofa_top_k, ofa_temperature)
