"""Intrinsic evaluation of initializers: predict the rows of held-out *source* tokens (removed
from the candidates) and compare with their true rows.

Every initializer with a held-out view (`init.base.HeldOut`) is scored on the same tokens: the
test split of the hypernetwork's split of the source tokens with matched words (its defaults, so a
`hyperofa` job's test tokens are these too). A token the method does not cover gets the random row
`initialize` would give it (drawn from the other rows' statistics), so every method is scored on
every token; `intrinsic_coverage` says how many it covered.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hyperofa.config.initializers import OFAConfig
from hyperofa.hypernet.data import split_tokens
from hyperofa.init.base import Initializer, InitInputs
from hyperofa.init.ofa import OFAInitializer
from hyperofa.init.random import heldout_random

HELDOUT_SPLIT = (0.97, 0.025, 0.005)  # the hypernet split (DESIGN §3.3); the test part is held out
HELDOUT_SEED = 42


def intrinsic_scores(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """Mean cosine of predicted vs true rows, and mean|pred − true| / mean|true|. [n, D] each."""
    pred, true = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    norms = np.linalg.norm(pred, axis=1) * np.linalg.norm(true, axis=1)
    cosine = np.sum(pred * true, axis=1) / np.maximum(norms, 1e-12)
    l1 = np.abs(pred - true).mean() / np.abs(true).mean()
    return {"cosine": float(cosine.mean()), "l1_norm": float(l1)}


def heldout_source_tokens(inputs: InitInputs) -> np.ndarray:
    """The held-out source tokens: the test split of those with a row and matched words."""
    n = min(len(inputs.source_rows), inputs.source_words.num_tokens)
    matched = np.flatnonzero(inputs.source_words.covered()[:n])
    return split_tokens(matched, HELDOUT_SPLIT, HELDOUT_SEED)[2]


def intrinsic_of(initializer: Initializer, inputs: InitInputs, test_ids: np.ndarray) -> dict:
    """`intrinsic_cosine`, `intrinsic_l1`, `intrinsic_coverage`, `intrinsic_tokens` of one
    initializer on held-out source tokens; {} when it has no held-out view or there are none."""
    heldout = getattr(initializer, "heldout", None)
    if heldout is None or len(test_ids) == 0:
        return {}
    rows, covered = heldout(inputs, test_ids)
    fallback = heldout_random(inputs, test_ids)
    scores = intrinsic_scores(
        np.where(covered[:, None], rows, fallback), inputs.source_rows[test_ids]
    )
    return {
        "intrinsic_cosine": scores["cosine"],
        "intrinsic_l1": scores["l1_norm"],
        "intrinsic_coverage": float(covered.mean()),
        "intrinsic_tokens": len(test_ids),
    }


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
        "random": heldout_random(inputs, test_ids),
    }
    out = {}
    for name, pred in predictions.items():
        scores = intrinsic_scores(pred, true)
        out[f"intrinsic_cosine_{name}"] = scores["cosine"]
        out[f"intrinsic_l1_{name}"] = scores["l1_norm"]
    return out
