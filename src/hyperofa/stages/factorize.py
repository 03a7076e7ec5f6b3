"""Stage `factorize`: E ≈ F·P by truncated SVD, once per (model, D')."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from hyperofa.artifacts import Artifact, cached_stage
from hyperofa.factorize import factorize as svd_factorize
from hyperofa.factorize import relative_error
from hyperofa.paths import cache_root
from hyperofa.stages.common import Keyed

log = logging.getLogger(__name__)
FACTORS = "factors.safetensors"


def factorize(embeddings: Keyed[np.ndarray], dim: int) -> Artifact:
    """Coordinates F (V×D') and primitives P (D'×D) of the source input embeddings."""
    E = embeddings.value

    def build(tmp: Path) -> dict:
        coordinates, primitives = svd_factorize(E, dim)
        save_file({"coordinates": coordinates, "primitives": primitives}, str(tmp / FACTORS))
        err = relative_error(E, coordinates, primitives)
        log.info(
            "factorize: E %s → F %s · P %s, relative error %.4f",
            E.shape,
            coordinates.shape,
            primitives.shape,
            err,
        )
        return {"rows": len(coordinates), "dim": dim, "hidden": E.shape[1], "relative_error": err}

    # version 2: Gram eigendecomposition, signs fixed (version 1, LAPACK signs, is never reused)
    config = {"dim": dim, "rows": len(E), "version": 2}
    return cached_stage(cache_root(), "factorize", config, {"model": embeddings.key}, build)


def load(art: Artifact) -> tuple[np.ndarray, np.ndarray]:
    """(coordinates (V, D'), primitives (D', D)), float32."""
    t = load_file(str(art.path / FACTORS))
    return t["coordinates"], t["primitives"]
