"""Cosine top-k search with faiss (exact inner product on L2-normalized vectors; GPU if present)."""

from __future__ import annotations

import faiss
import numpy as np


def l2_normalized(x: np.ndarray) -> np.ndarray:
    """A float32 copy of `x` with unit-norm rows (zero rows stay zero)."""
    x = np.ascontiguousarray(x, dtype=np.float32).copy()
    faiss.normalize_L2(x)
    return x


class CosineIndex:
    """Exact cosine search over `candidates` (N, d); never builds a dense Q × N matrix."""

    def __init__(self, candidates: np.ndarray, use_gpu: bool = True):
        index = faiss.IndexFlatIP(candidates.shape[1])
        if use_gpu and hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0:
            index = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)
        index.add(l2_normalized(candidates))
        self.index = index

    def search(
        self, queries: np.ndarray, k: int, batch: int = 65_536
    ) -> tuple[np.ndarray, np.ndarray]:
        """(similarities (Q, k) in descending order, candidate rows (Q, k) int64)."""
        sims, ids = [], []
        for start in range(0, len(queries), batch):
            s, i = self.index.search(l2_normalized(queries[start : start + batch]), k)
            sims.append(s)
            ids.append(i)
        if not sims:
            return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
        return np.concatenate(sims), np.concatenate(ids)
