"""`ofa`: a convex combination of the source rows of the most similar source tokens.

For each target token, cosine similarity in word space to every source token that has a vector;
the top-k neighbours are weighted by softmax(sim / T) (OFA: k = 10, T = 0.1). faiss does the
search (inner product on L2-normalized vectors), so no dense V_t × V_s matrix is ever built.
"""

from __future__ import annotations

import logging

import numpy as np

from hyperofa.config.initializers import OFAConfig
from hyperofa.errors import EmptyInputError
from hyperofa.init.base import InitInputs
from hyperofa.knn import CosineIndex

log = logging.getLogger(__name__)


def softmax_weights(similarities: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax(sim / T), float64 for stability; rows sum to 1."""
    z = similarities.astype(np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    w = np.exp(z)
    return w / w.sum(axis=1, keepdims=True)


class OFAInitializer:
    name = "ofa"

    def __init__(self, cfg: OFAConfig):
        self.top_k, self.temperature, self.use_gpu = cfg.top_k, cfg.temperature, cfg.use_gpu

    def covers(self, inputs: InitInputs) -> np.ndarray:
        """Target tokens with a vector in word space (at least one matched word)."""
        return inputs.target_has_vector

    def fill(self, inputs: InitInputs, token_ids: np.ndarray, chunk: int = 16_384) -> np.ndarray:
        candidates = np.flatnonzero(inputs.source_has_vector)
        if len(candidates) == 0:
            raise EmptyInputError("ofa: no source token has a vector in word space")
        k = min(self.top_k, len(candidates))
        index = CosineIndex(inputs.source_vectors[candidates], self.use_gpu)
        out = np.empty((len(token_ids), inputs.source_rows.shape[1]), dtype=np.float32)
        for start in range(0, len(token_ids), chunk):
            sims, nbrs = index.search(inputs.target_vectors[token_ids[start : start + chunk]], k)
            weights = softmax_weights(sims, self.temperature)  # (q, k)
            neighbour_rows = inputs.source_rows[candidates[nbrs]]  # (q, k, dim)
            out[start : start + chunk] = np.einsum("qk,qkd->qd", weights, neighbour_rows)
        return out
