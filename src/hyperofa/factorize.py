"""Factorize: E ≈ F·P by truncated SVD (OFA §3.2).

Coordinates F = U[:, :D'] (V×D', orthonormal columns) and primitives P = diag(s[:D'])·Vᵀ[:D']
(D'×D), as in the public OFA code, so F·P is the best rank-D' approximation of E.
"""

from __future__ import annotations

import logging

import numpy as np

from hyperofa.errors import ConfigError

log = logging.getLogger(__name__)


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
        embeddings: E, float (V, D).
        dim: D', the number of primitives.
    Returns:
        coordinates F float32 (V, D') and primitives P float32 (D', D).
    """
    check_dim(dim, embeddings.shape[1])
    u, s, vt = np.linalg.svd(np.asarray(embeddings, dtype=np.float32), full_matrices=False)
    coordinates = np.ascontiguousarray(u[:, :dim], dtype=np.float32)
    primitives = np.ascontiguousarray(s[:dim, None] * vt[:dim], dtype=np.float32)
    return coordinates, primitives


def relative_error(
    embeddings: np.ndarray, coordinates: np.ndarray, primitives: np.ndarray
) -> float:
    """‖E − F·P‖_F / ‖E‖_F."""
    residual = embeddings - coordinates @ primitives
    return float(np.linalg.norm(residual) / np.linalg.norm(embeddings))
