"""Where each target row came from."""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Provenance(IntEnum):
    SPECIAL = 0
    COPIED_EXACT = 1
    COPIED_CI = 2
    INITIALIZED = 3
    RANDOM = 4


def provenance_counts(provenance: np.ndarray) -> dict[str, int]:
    """Number of target tokens per provenance (lower-case names); the values sum to V_t."""
    counts = np.bincount(provenance.astype(np.int64), minlength=len(Provenance))
    return {p.name.lower(): int(counts[p]) for p in Provenance}
