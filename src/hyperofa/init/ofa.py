"""`ofa`: a convex combination of the source rows of the most similar source tokens.

For each target token, cosine similarity in word space to every source token that has a vector;
the top-k neighbours are weighted by softmax(sim / T) (OFA: k = 10, T = 0.1). faiss does the
search (inner product on L2-normalized vectors), so no dense V_t × V_s matrix is ever built.
"""

from __future__ import annotations

import logging

import numpy as np

from hyperofa.errors import ConfigError
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

    def __init__(self, top_k: int = 10, temperature: float = 0.1, use_gpu: bool = True):
        if top_k < 1:
            raise ConfigError("initializer.top_k", top_k, "an integer ≥ 1")
        if temperature <= 0:
            raise ConfigError("initializer.temperature", temperature, "a positive number")
        self.top_k, self.temperature, self.use_gpu = top_k, temperature, use_gpu

    def fill(self, inputs: InitInputs, token_ids: np.ndarray, chunk: int = 16_384) -> np.ndarray:
        candidates = np.flatnonzero(inputs.source_has_vector)
        if len(candidates) == 0:
            return None
        k = min(self.top_k, len(candidates))
        index = CosineIndex(inputs.source_vectors[candidates], self.use_gpu)
        out = np.empty((len(token_ids), inputs.source_rows.shape[1]), dtype=np.float32)
        for start in range(0, len(token_ids), chunk):
            sims, nbrs = index.search(inputs.target_vectors[token_ids[start : start + chunk]], k)
            weights = softmax_weights(sims, self.temperature)  # (q, k)
            neighbour_rows = inputs.source_rows[candidates[nbrs]]  # (q, k, dim)
            out[start : start + chunk] = np.einsum("qk,qkd->qd", weights, neighbour_rows)
        return out


def build(top_k: int = 10, temperature: float = 0.1, use_gpu: bool = True) -> OFAInitializer:
    return OFAInitializer(top_k=top_k, temperature=temperature, use_gpu=use_gpu)
