"""`ofa`: a convex combination of the source rows of the most similar source tokens.

As the public OFA code does it (cisnlp/ofa `ofa/utils.py::create_target_embeddings`, DESIGN §3.3):
a token's vector in word space is the mean of its words' vectors over the multiset of
(word, surface form) matches (`word_weighting: set` averages the de-duplicated words instead);
each target token's top-k source tokens by cosine similarity are weighted by softmax(sim / T) over
those k only (k = 10, T = 0.1) and their rows averaged with those weights.

What we do where the public code leaves a choice to its tools:
- Candidates are all source tokens, as there: a token without words has a zero vector, hence
  similarity 0 (sklearn's `cosine_similarity`), and can be picked when fewer than k others beat 0.
- Similarity is float64, as the public code's (dense float64 vectors, sklearn): faiss searches the
  float32 vectors for the top k + `RESCORE_MARGIN`, whose cosines are then recomputed in float64
  (summed in dimension order, `hyperofa.ordered_sums`), so float32 rounding cannot reorder
  neighbours.
- Ties at the k-th place (equal similarity, e.g. two source tokens matched by exactly the same
  words; pool gap ≤ `TIE_TOLERANCE`): resolved as the public code resolves them, by
  `np.argpartition` over the query's float64 similarity to every source token in id order (a
  dense row, built for tied queries only, its dots summed in dimension order by a compiled loop
  so that equal source vectors get equal similarities wherever they sit). Token means are
  summed in the public code's order, so they are bit-identical to its means and its ties are
  ours. Its similarities come from a BLAS product, which can round equal rows differently by
  position and batch; that decides a few ties differently (98.8 % of rows equal on the embedded
  default, all differences at ties: see `bench/ofa_parity.py`; `tests/unit/test_ofa_oracle.py`
  counts them).
- If no source token has words at all, `fill` raises EmptyInputError (the public code would
  average k arbitrary source rows of similarity 0).
No dense V_t × V_s matrix is ever built.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from hyperofa.config.initializers import OFAConfig
from hyperofa.errors import EmptyInputError
from hyperofa.init.base import InitInputs
from hyperofa.knn import CosineIndex
from hyperofa.match import TokenWordMap, token_vectors

log = logging.getLogger(__name__)

RESCORE_MARGIN = 16  # extra faiss neighbours re-ranked in float64
TIE_TOLERANCE = 1e-12  # k-th and (k+1)-th similarity this close: resolved as the public code does
TIED_BATCH = 64  # tied queries whose dense similarity rows exist at once


def softmax_weights(similarities: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax(sim / T), float64 for stability; rows sum to 1."""
    z = similarities.astype(np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    w = np.exp(z)
    return w / w.sum(axis=1, keepdims=True)


def unit_rows(x: np.ndarray) -> np.ndarray:
    """float64 rows scaled to unit length; zero rows stay zero (sklearn's `normalize`)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


class OFAInitializer:
    name = "ofa"

    def __init__(self, cfg: OFAConfig):
        self.cfg = cfg
        self.top_k, self.temperature, self.use_gpu = cfg.top_k, cfg.temperature, cfg.use_gpu
        self.word_weighting = str(cfg.word_weighting)

    def covers(self, inputs: InitInputs) -> np.ndarray:
        """Target tokens with at least one matched word."""
        return inputs.target_words.covered()

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> np.ndarray:
        return self.predict(inputs, inputs.target_words, token_ids)

    def heldout(self, inputs: InitInputs, source_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Held-out source tokens against the other source tokens (on the CPU index)."""
        offline = OFAInitializer(dataclasses.replace(self.cfg, use_gpu=False))
        rows = offline.predict(inputs, inputs.source_words, source_ids, excluded=source_ids)
        return rows, inputs.source_words.covered()[source_ids]

    def predict(
        self,
        inputs: InitInputs,
        query_words: TokenWordMap,
        token_ids: np.ndarray,
        excluded: np.ndarray | None = None,
        chunk: int = 4_096,
    ) -> np.ndarray:
        """Rows (len(token_ids), k) float32 for tokens of `query_words` (the target map, or the
        source map for held-out source tokens, then left out of the candidates by `excluded`)."""
        candidates = self._candidates(inputs, excluded)
        if candidates is None:
            raise EmptyInputError("ofa: no candidate source token has a matched word")
        k = min(self.top_k, candidates.size)
        out = np.empty((len(token_ids), inputs.source_rows.shape[1]), dtype=np.float32)
        for start in range(0, len(token_ids), chunk):
            ids = token_ids[start : start + chunk]
            queries = unit_rows(self._vectors(inputs, query_words, ids))
            sims, nbrs = candidates.top_k(queries, k)
            weights = softmax_weights(sims, self.temperature)  # (q, k)
            out[start : start + chunk] = np.einsum("qk,qkd->qd", weights, inputs.source_rows[nbrs])
        return out

    def _candidates(self, inputs: InitInputs, excluded: np.ndarray | None) -> Candidates | None:
        n = min(len(inputs.source_rows), inputs.source_words.num_tokens)
        allowed = np.ones(n, dtype=bool)
        if excluded is not None:
            allowed[excluded[excluded < n]] = False
        covered = inputs.source_words.covered()[:n]
        with_words = np.flatnonzero(allowed & covered)
        if len(with_words) == 0:
            return None
        vectors = unit_rows(self._vectors(inputs, inputs.source_words, with_words))
        index = CosineIndex(vectors, self.use_gpu)
        return Candidates(with_words, vectors, index, np.flatnonzero(allowed & ~covered), allowed)

    def _vectors(self, inputs: InitInputs, words: TokenWordMap, ids: np.ndarray) -> np.ndarray:
        return token_vectors(words, inputs.word_vectors, self.word_weighting, tokens=ids)


@dataclass(frozen=True)
class Candidates:
    """The source tokens a query may pick: `with_words` (ids) with their unit vectors (float64)
    searched through `index`, and `without` words (similarity 0); `allowed` bool (n,)."""

    with_words: np.ndarray
    vectors: np.ndarray
    index: CosineIndex
    without: np.ndarray
    allowed: np.ndarray

    @property
    def size(self) -> int:
        return len(self.with_words) + len(self.without)

    def top_k(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(float64 similarities, source ids), (q, k) each, of unit `queries` (q, d)."""
        from hyperofa.ordered_sums import gathered_dots

        found = min(k + RESCORE_MARGIN, len(self.with_words))
        _, pos = self.index.search(queries, found)
        safe = np.maximum(pos, 0)  # faiss pads with -1 when it finds fewer
        sims = np.empty(pos.shape)
        gathered_dots(self.vectors, np.ascontiguousarray(queries, dtype=np.float64), safe, sims)
        sims[pos < 0] = -np.inf
        ids = self.with_words[safe]
        zeros = self.without[: k + 1]
        if len(zeros):
            sims = np.hstack([sims, np.zeros((len(queries), len(zeros)))])
            ids = np.hstack([ids, np.broadcast_to(zeros, (len(queries), len(zeros)))])
        order = np.lexsort((ids, -sims), axis=-1)
        sims, ids = np.take_along_axis(sims, order, 1), np.take_along_axis(ids, order, 1)
        if sims.shape[1] > k:
            with np.errstate(invalid="ignore"):  # -inf - -inf where faiss padded: no tie
                tied = np.flatnonzero(sims[:, k - 1] - sims[:, k] <= TIE_TOLERANCE)
            for start in range(0, len(tied), TIED_BATCH):
                batch = tied[start : start + TIED_BATCH]
                sims[batch, :k], ids[batch, :k] = self.public_picks(queries[batch], k)
        return sims[:, :k], ids[:, :k]

    @cached_property
    def columns(self) -> np.ndarray:
        """The unit vectors as C-contiguous float64 columns (d, n), for `ordered_dots`."""
        return np.ascontiguousarray(self.vectors.T)

    def public_picks(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The public code's top k of each unit query (q, d): `np.argpartition` over its float64
        similarity to every source token, in id order (0 without words)."""
        from hyperofa.ordered_sums import ordered_dots

        dots = np.empty((len(queries), len(self.with_words)))
        ordered_dots(self.columns, np.ascontiguousarray(queries, dtype=np.float64), dots)
        row = np.where(self.allowed, 0.0, -np.inf)
        sims, ids = np.empty((len(queries), k)), np.empty((len(queries), k), dtype=np.int64)
        for q, similarity in enumerate(dots):
            row[self.with_words] = similarity
            ids[q] = np.argpartition(row, -k)[-k:]
            sims[q] = row[ids[q]]
        return sims, ids
