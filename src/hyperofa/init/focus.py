"""`focus`: FOCUS (Dobler & de Melo, EMNLP 2023) — a new token's row is a sparse convex
combination of the source rows of shared tokens, weighted by sparsemax over its cosine
similarities to them in a static token-embedding space.

As deepfocus (`focus.py::FOCUS`) does it: the static space is fastText trained on target-language
text tokenized by the target tokenizer (the `focus` stage, `init.static_vectors`); anchors are the
shared tokens (our copy map: exact and case-insensitive copies) that have a static vector; each new
token with a static vector gets `sparsemax(cos(new, anchors)) @ anchor source rows`; the others
stay random. Ours leaves special tokens out of the anchors and computes sparsemax exactly on each
row's top scores (see `sparsemax`), never a dense V_new × V_anchor matrix at once.

Held-out view (intrinsic scores): a source token's static vector is that of the target token
copying it; its anchors are the other shared tokens (none copying a held-out source token).
"""

from __future__ import annotations

import numpy as np

from hyperofa.errors import IncompatibleInputsError
from hyperofa.init.base import InitInputs
from hyperofa.init.static_vectors import StaticVectors
from hyperofa.vocab.copy import CopyKind, CopyMap

TOP = 256  # scores per row sparsemax starts from; doubled where the support reaches it
CHUNK = 1_024  # query rows per similarity block


def _support(desc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(τ, support size) of rows sorted in descending order: k* = the last k with
    1 + k·z_(k) > Σ_{j≤k} z_(j), τ = (Σ_{j≤k*} z_(j) − 1) / k*."""
    k = np.arange(1, desc.shape[1] + 1)
    total = np.cumsum(desc, axis=1)
    ok = 1 + k * desc > total
    size = desc.shape[1] - np.argmax(ok[:, ::-1], axis=1)  # the last True (k = 1 always holds)
    tau = (total[np.arange(len(desc)), size - 1] - 1) / size
    return tau, size


def sparsemax(scores: np.ndarray, top: int = TOP) -> tuple[np.ndarray, np.ndarray]:
    """Sparsemax of each row of `scores` (n, m) (Martins & Astudillo 2016): the Euclidean
    projection onto the probability simplex, max(z − τ, 0).

    Returns (columns, weights), int64 and float64 (n, w): each row's w highest scores' columns in
    descending order and their weights (zero past the support). Exact: the threshold is found on
    the top w scores and w doubles until every row's support is smaller than w (or w = m), so no
    score left out could be in the support.
    """
    scores = np.asarray(scores, dtype=np.float64)
    width = min(top, scores.shape[1])
    while True:
        if width < scores.shape[1]:
            cols = np.argpartition(-scores, width - 1, axis=1)[:, :width]
            order = np.argsort(-np.take_along_axis(scores, cols, 1), axis=1, kind="stable")
            cols = np.take_along_axis(cols, order, 1)
        else:
            cols = np.argsort(-scores, axis=1, kind="stable")
        desc = np.take_along_axis(scores, cols, 1)
        tau, size = _support(desc)
        if width == scores.shape[1] or np.all(size < width):
            return cols, np.maximum(desc - tau[:, None], 0.0)
        width = min(2 * width, scores.shape[1])


def unit(x: np.ndarray) -> np.ndarray:
    """float64 rows scaled to unit length (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def focus_rows(queries: np.ndarray, anchors: np.ndarray, anchor_rows: np.ndarray) -> np.ndarray:
    """float32 (q, k): sparsemax(cos(query, anchors)) @ anchor_rows, per query (q, d); anchors
    (a, d) with their rows (a, k)."""
    keys = unit(anchors)
    out = np.empty((len(queries), anchor_rows.shape[1]), dtype=np.float32)
    for start in range(0, len(queries), CHUNK):
        cols, weights = sparsemax(unit(queries[start : start + CHUNK]) @ keys.T)
        width = int((weights > 0).sum(axis=1).max())  # supports come first (descending)
        picked = anchor_rows[cols[:, :width]].astype(np.float64)
        out[start : start + CHUNK] = np.einsum("qw,qwk->qk", weights[:, :width], picked)
    return out


def static_of(inputs: InitInputs) -> StaticVectors:
    if inputs.static_vectors is None:
        raise IncompatibleInputsError(
            "this initializer needs InitInputs.static_vectors (stage focus)"
        )
    if len(inputs.static_vectors.known) != inputs.num_target:
        raise IncompatibleInputsError(
            f"static vectors cover {len(inputs.static_vectors.known):,} target tokens, the copy map "
            f"{inputs.num_target:,}: built for another target tokenizer"
        )
    return inputs.static_vectors


def static_anchors(copy: CopyMap, known: np.ndarray, excluded: np.ndarray | None = None):
    """Target ids of the shared tokens (exact or case-insensitive copies) with a static vector,
    leaving out those copying a source id in `excluded`."""
    shared = (copy.kind == CopyKind.EXACT) | (copy.kind == CopyKind.CASE_INSENSITIVE)
    if excluded is not None:
        shared &= ~np.isin(copy.source_id, excluded)
    return np.flatnonzero(shared & known)


def copying_targets(copy: CopyMap, source_ids: np.ndarray) -> np.ndarray:
    """For each source id, a target id copying it (an exact copy before a case-insensitive one),
    or -1."""
    source_ids = np.asarray(source_ids, dtype=np.int64)
    out = np.full(len(source_ids), -1, dtype=np.int64)
    if len(source_ids) == 0:
        return out
    sorter = np.argsort(source_ids)
    for kind in (CopyKind.CASE_INSENSITIVE, CopyKind.EXACT):  # exact last: it wins
        targets = np.flatnonzero(copy.kind == kind)
        copied = copy.source_id[targets]
        pos = np.minimum(np.searchsorted(source_ids, copied, sorter=sorter), len(source_ids) - 1)
        hit = source_ids[sorter[pos]] == copied
        out[sorter[pos[hit]]] = targets[hit]
    return out


def heldout_static_queries(inputs: InitInputs, source_ids: np.ndarray):
    """(query target ids, covered mask) of held-out source tokens in the static space."""
    static = static_of(inputs)
    targets = copying_targets(inputs.copy, source_ids)
    covered = targets >= 0
    covered[covered] = static.known[targets[covered]]
    return targets[covered], covered


class FocusInitializer:
    name = "focus"

    def covers(self, inputs: InitInputs) -> np.ndarray:
        """New tokens with a static vector (seen min_count+ times in the target text)."""
        return static_of(inputs).known & (inputs.copy.kind == CopyKind.NONE)

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> np.ndarray:
        static = static_of(inputs)
        anchors = static_anchors(inputs.copy, static.known)
        return self._rows(inputs, static.vectors[token_ids], anchors)

    def heldout(self, inputs: InitInputs, source_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        static = static_of(inputs)
        queries, covered = heldout_static_queries(inputs, source_ids)
        anchors = static_anchors(inputs.copy, static.known, excluded=source_ids)
        rows = np.zeros((len(source_ids), inputs.source_rows.shape[1]), dtype=np.float32)
        if covered.any():
            rows[covered] = self._rows(inputs, static.vectors[queries], anchors)
        return rows, covered

    def _rows(self, inputs: InitInputs, queries: np.ndarray, anchors: np.ndarray) -> np.ndarray:
        if len(anchors) == 0:
            raise IncompatibleInputsError("focus: no shared token has a static vector (anchors)")
        anchor_rows = inputs.source_rows[inputs.copy.source_id[anchors]]
        return focus_rows(queries, inputs.static_vectors.vectors[anchors], anchor_rows)
