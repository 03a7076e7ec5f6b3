"""Evaluation metrics as pure functions over label sequences, and the per-language average.

Retrieval top-k accuracy lives in `retrieval.top_k_accuracy`; these cover tagging and
classification.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from seqeval.metrics import f1_score, precision_score, recall_score


def entity_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, float]:
    """Entity-level micro precision / recall / F1 (seqeval, conlleval-compatible default mode).

    `gold[i]` and `pred[i]` are the IOB tags of sentence i, one per word.
    """
    _check_lengths(gold, pred)
    gold, pred = [list(s) for s in gold], [list(s) for s in pred]
    return {
        "precision": float(precision_score(gold, pred, zero_division=0)),
        "recall": float(recall_score(gold, pred, zero_division=0)),
        "f1": float(f1_score(gold, pred, zero_division=0)),
    }


def pos_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, float]:
    """Token accuracy and `f1` = seqeval F1 over the raw tags.

    The F1 is what XTREME-style tagging code (used by Glot500 and OFA) reports for POS: seqeval
    run on unprefixed UPOS tags, which merges runs of the same tag into one "entity". It is kept
    for comparability with the papers; `accuracy` is the clean token-level figure.
    """
    _check_lengths(gold, pred)
    flat_gold = [t for s in gold for t in s]
    flat_pred = [t for s in pred for t in s]
    correct = sum(g == p for g, p in zip(flat_gold, flat_pred, strict=True))
    with warnings.catch_warnings():  # "NOUN seems not to be NE tag": deliberate here
        warnings.simplefilter("ignore", UserWarning)
        f1 = float(f1_score([list(s) for s in gold], [list(s) for s in pred], zero_division=0))
    return {"accuracy": correct / len(flat_gold) if flat_gold else float("nan"), "f1": f1}


def macro_f1(gold: Sequence[int], pred: Sequence[int]) -> float:
    """Unweighted mean of per-class F1 over the classes present in `gold` or `pred`.

    Same definition as scikit-learn's `f1_score(average="macro")` with default labels: a class
    with no true and no predicted positives is left out; F1 is 0 when precision + recall is 0.
    """
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} labels, pred {len(pred)}")
    if not len(gold):
        return float("nan")
    g, p = np.asarray(gold), np.asarray(pred)
    scores = []
    for c in np.union1d(g, p):
        tp = float(np.sum((g == c) & (p == c)))
        denom = float(np.sum(g == c) + np.sum(p == c))  # 2·tp + fp + fn
        scores.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(scores))


def accuracy(gold: Sequence[int], pred: Sequence[int]) -> float:
    """Share of positions where pred equals gold."""
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} labels, pred {len(pred)}")
    return float(np.mean(np.asarray(gold) == np.asarray(pred))) if len(gold) else float("nan")


def average_over_languages(per_language: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Unweighted mean of each metric over languages (NaNs skipped), as the papers average."""
    names = sorted({k for scores in per_language.values() for k in scores})
    out = {}
    for name in names:
        values = [s[name] for s in per_language.values() if name in s and np.isfinite(s[name])]
        out[name] = float(np.mean(values)) if values else float("nan")
    return out


def _check_lengths(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> None:
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} sentences, pred {len(pred)}")
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags, {len(p)} predicted")
