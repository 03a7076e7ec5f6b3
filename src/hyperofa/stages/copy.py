"""Stage `copy`: target tokens shared with the source vocabulary (exact, then case-insensitive)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hyperofa.artifacts import Artifact, cached_stage
from hyperofa.paths import cache_root
from hyperofa.stages.common import Keyed, load_npy
from hyperofa.vocab.copy import CopyMap, copy_map


def copy(source: Keyed, target: Keyed) -> Artifact:
    """The target→source id map of two tokenizers."""

    def build(tmp: Path) -> dict:
        m = copy_map(source.value, target.value)
        np.save(tmp / "source_id.npy", m.source_id)
        np.save(tmp / "kind.npy", m.kind)
        return {"source": len(source.value), "target": len(target.value), **m.counts()}

    # version 2: the public code's collision rules (version 1 is never reused)
    inputs = {"source": source.key, "target": target.key}
    return cached_stage(cache_root(), "copy", {"version": 2}, inputs, build)


def load(art: Artifact) -> CopyMap:
    return CopyMap(load_npy(art.path / "source_id.npy"), load_npy(art.path / "kind.npy"))
