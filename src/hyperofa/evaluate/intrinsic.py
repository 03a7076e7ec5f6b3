"""Intrinsic evaluation of initializers: predict the rows of held-out *source* tokens (removed
from the candidates) and compare with their true rows."""

from __future__ import annotations

import dataclasses

import numpy as np

from hyperofa.config.initializers import OFAConfig
from hyperofa.init.base import InitInputs, random_rows
from hyperofa.init.ofa import OFAInitializer


def intrinsic_scores(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """Mean cosine of predicted vs true rows, and mean|pred − true| / mean|true|. [n, D] each."""
    pred, true = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    norms = np.linalg.norm(pred, axis=1) * np.linalg.norm(true, axis=1)
    cosine = np.sum(pred * true, axis=1) / np.maximum(norms, 1e-12)
    l1 = np.abs(pred - true).mean() / np.abs(true).mean()
    return {"cosine": float(cosine.mean()), "l1_norm": float(l1)}


def intrinsic_comparison(
    inputs: InitInputs, test_ids: np.ndarray, hyperofa_rows: np.ndarray, ofa: OFAConfig
) -> dict[str, float]:
    """Cosine and normalized L1 on held-out source tokens for hyperofa (rows predicted by a net
    that never trained on them), ofa (with OFA's k and T) and random rows."""
    true = inputs.source_rows[test_ids]
    offline_ofa = OFAInitializer(dataclasses.replace(ofa, use_gpu=False))
    predictions = {
        "hyperofa": hyperofa_rows,
        "ofa": offline_ofa.predict(inputs, inputs.source_words, test_ids, excluded=test_ids),
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
