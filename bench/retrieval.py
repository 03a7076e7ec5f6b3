"""SR-B-scale sentence retrieval: top-k accuracy for 400 languages × 1,000 sentences, dim 384,
on synthetic L2-normalized vectors (queries = their English vector + noise). faiss
(`evaluate.retrieval.top_k_accuracy`) vs a dense numpy reference (Q·Cᵀ, argpartition); both must
give the same scores. Vector generation is not timed."""

from __future__ import annotations

import time

import numpy as np

from hyperofa.evaluate.retrieval import top_k_accuracy


def dense_top_k_accuracy(
    queries: np.ndarray, candidates: np.ndarray, gold: np.ndarray, ks=(1, 5, 10)
) -> dict[str, float]:
    """The same scores from the full (Q, C) similarity matrix."""
    sims = queries @ candidates.T
    k_max = max(ks)
    top = np.argpartition(-sims, k_max, axis=1)[:, :k_max]
    ranked = np.take_along_axis(top, np.argsort(-np.take_along_axis(sims, top, 1), axis=1), 1)
    hits = ranked == gold[:, None]
    return {f"top{k}": float(hits[:, :k].any(1).mean()) for k in ks}


def _language(
    rng: np.random.Generator, n: int, dim: int, noise: float
) -> tuple[np.ndarray, np.ndarray]:
    english = rng.normal(size=(n, dim)).astype(np.float32)
    queries = english + noise * rng.normal(size=(n, dim)).astype(np.float32)
    for x in (english, queries):
        x /= np.linalg.norm(x, axis=1, keepdims=True)
    return queries, english


def main(languages: int = 400, sentences: int = 1000, dim: int = 384, noise: float = 6.0) -> None:
    rng = np.random.default_rng(0)
    gold = np.arange(sentences)
    t_faiss = t_dense = 0.0
    mismatches = 0
    averages = []
    for _ in range(languages):
        queries, english = _language(rng, sentences, dim, noise)
        t0 = time.perf_counter()
        fast = top_k_accuracy(queries, english, gold)
        t1 = time.perf_counter()
        ref = dense_top_k_accuracy(queries, english, gold)
        t_dense += time.perf_counter() - t1
        t_faiss += t1 - t0
        mismatches += fast != ref
        averages.append(fast["top10"])
    print(f"retrieval top-1/5/10: {languages} languages × {sentences:,} sentences, dim {dim}")
    print(f"  faiss IndexFlatIP (top_k_accuracy): {t_faiss:7.2f}s")
    print(f"  numpy dense Q·Cᵀ + argpartition   : {t_dense:7.2f}s")
    print(f"  ratio dense/faiss                  : {t_dense / t_faiss:6.2f}x")
    print(f"  languages whose scores differ: {mismatches}; mean top-10 {np.mean(averages):.3f}")


if __name__ == "__main__":
    main()
