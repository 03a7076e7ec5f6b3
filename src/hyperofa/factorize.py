"""Factorize: E ≈ F·P by truncated SVD (OFA §3.2).

Coordinates F = U[:, :D'] (V×D', orthonormal columns) and primitives P = diag(s[:D'])·Vᵀ[:D']
(D'×D), as in the public OFA code, so F·P is the best rank-D' approximation of E.

A tall E (V > D, every real vocabulary) is factorized through its Gram matrix: EᵀE (D×D, float64,
summed over row blocks) = V·diag(s²)·Vᵀ by a symmetric eigendecomposition, then U = E·V·diag(1/s),
also by row blocks. Memory is E plus F plus a block, where `np.linalg.svd` holds E, the full U
and LAPACK's workspace (~7 GB at XLM-R's 250k × 768). Results equal the SVD's to float32
precision (tests/unit/test_factorize.py) but for signs, which an SVD leaves to its LAPACK: here
each primitive row's largest-magnitude entry is positive (F's column flips with it, so F·P does
not change). A wide E, or one whose kept singular values vanish (U is not determined by E there),
goes to `np.linalg.svd` with the same sign rule.
"""

from __future__ import annotations

import logging

import numpy as np

from hyperofa.errors import ConfigError

log = logging.getLogger(__name__)

BLOCK_ROWS = 16_384  # rows of E per float64 block (100 MB at D = 768)
RANK_TOLERANCE = 1e-6  # a kept singular value below this × the largest: fall back to the SVD


def check_dim(dim: int | None, hidden_size: int) -> None:
    """`factorize.dim` must be null (no factorization) or 0 < dim ≤ hidden size."""
    if dim is None:
        return
    if not isinstance(dim, int) or isinstance(dim, bool) or dim <= 0 or dim > hidden_size:
        raise ConfigError(
            "factorize.dim",
            dim,
            f"null or an integer in 1..{hidden_size} (the model's hidden size)",
        )


def factorize(embeddings: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact truncated SVD of the source input embeddings.

    Args:
        embeddings: E, float (V, D); a memory map is read block by block, never copied whole.
        dim: D', the number of primitives.
    Returns:
        coordinates F float32 (V, D') and primitives P float32 (D', D).
    """
    check_dim(dim, embeddings.shape[1])
    rows, hidden = embeddings.shape
    if rows > hidden:
        s, v = _right_singular(embeddings, dim)
        if s[-1] > RANK_TOLERANCE * s[0]:
            return _coordinates(embeddings, s, v), _primitives(s, v)
    u, s, vt = np.linalg.svd(np.asarray(embeddings, dtype=np.float32), full_matrices=False)
    flip = _signs(vt[:dim].T)
    coordinates = np.ascontiguousarray(u[:, :dim] * flip, dtype=np.float32)
    return coordinates, _primitives(s[:dim], vt[:dim].T * flip)


def _right_singular(embeddings: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The top `dim` singular values (descending, float64) and right singular vectors (D, dim)
    of E, from the eigendecomposition of EᵀE, signs fixed by `_signs`."""
    gram = np.zeros((embeddings.shape[1],) * 2, dtype=np.float64)
    for start in range(0, len(embeddings), BLOCK_ROWS):
        block = np.asarray(embeddings[start : start + BLOCK_ROWS], dtype=np.float64)
        gram += block.T @ block
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    top = np.argsort(eigenvalues, kind="stable")[::-1][:dim]
    v = eigenvectors[:, top]
    return np.sqrt(np.clip(eigenvalues[top], 0.0, None)), v * _signs(v)


def _coordinates(embeddings: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """U[:, :dim] = E·V·diag(1/s), float32 (V, dim), computed by row blocks in float64."""
    out = np.empty((len(embeddings), len(s)), dtype=np.float32)
    scaled = v / s
    for start in range(0, len(embeddings), BLOCK_ROWS):
        block = np.asarray(embeddings[start : start + BLOCK_ROWS], dtype=np.float64)
        out[start : start + len(block)] = block @ scaled
    return out


def _primitives(s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """P = diag(s)·Vᵀ, float32 (dim, D)."""
    return np.ascontiguousarray(s[:, None] * v.T, dtype=np.float32)


def _signs(v: np.ndarray) -> np.ndarray:
    """±1 per column of `v` (D, dim) making its largest-magnitude entry positive."""
    peak = v[np.argmax(np.abs(v), axis=0), np.arange(v.shape[1])]
    return np.where(peak < 0, -1.0, 1.0)


def relative_error(
    embeddings: np.ndarray, coordinates: np.ndarray, primitives: np.ndarray
) -> float:
    """‖E − F·P‖_F / ‖E‖_F, by row blocks (no V×D temporary)."""
    residual, total = 0.0, 0.0
    for start in range(0, len(embeddings), BLOCK_ROWS):
        block = np.asarray(embeddings[start : start + BLOCK_ROWS], dtype=np.float64)
        approx = coordinates[start : start + BLOCK_ROWS].astype(np.float64) @ primitives
        residual += float(np.square(block - approx).sum())
        total += float(np.square(block).sum())
    return float(np.sqrt(residual / total)) if total > 0 else 0.0
