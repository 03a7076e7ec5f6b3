"""What every stage shares: keyed inputs and cheap identities of user-given files."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from hyperofa.artifacts import Artifact

T = TypeVar("T")


@dataclass(frozen=True)
class Keyed(Generic[T]):
    """A stage input and the key that identifies it in the cache keys of what is built from it."""

    value: T
    key: str


def fingerprint(path: Path) -> str:
    """A cheap identity of a user-given file or dir: names, sizes and modification times."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(path.parent)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def load_npy(path: Path) -> np.ndarray:
    return np.load(path, allow_pickle=False)


def read_metrics(art: Artifact) -> dict:
    """An artifact's `metrics.json` ({} when it has none)."""
    path = art.path / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else {}
