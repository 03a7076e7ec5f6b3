"""Seeds and RNG scopes: keyed seeds (a resumed run draws what an uninterrupted one drew), the
global RNG state as checkpoint-safe values, and a scope that restores global state."""

from __future__ import annotations

import contextlib
import random
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

# Lightning warnings that our resumable samplers make moot, or that a cached run dir triggers
QUIET_WARNINGS = (
    ".*does not have many workers.*",
    ".*exists and is not empty.*",
    ".*your dataloader is not resumable.*",
)


def seed_everything(seed: int) -> None:
    """Python, numpy and torch global generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def keyed_seed(*parts: int) -> int:
    """A well-mixed 63-bit seed for a tuple of non-negative ints."""
    state = np.random.SeedSequence([int(p) for p in parts]).generate_state(2, dtype=np.uint32)
    return int(state[0]) << 31 | int(state[1]) >> 1


def step_seed(seed: int, step: int) -> int:
    """A well-mixed 32-bit seed for (seed, global step)."""
    return int(np.random.SeedSequence((seed, step)).generate_state(1)[0])


@contextlib.contextmanager
def scoped_global_state() -> Iterator[None]:
    """Restore torch's global RNG and deterministic-algorithms flag afterwards (a Trainer with
    `deterministic=True` sets it process-wide); quiet the warnings in QUIET_WARNINGS."""
    deterministic = torch.are_deterministic_algorithms_enabled()
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        for pattern in QUIET_WARNINGS:
            warnings.filterwarnings("ignore", pattern)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(deterministic)


def rng_state() -> dict[str, Any]:
    """Python, numpy and torch RNG states as checkpoint-safe (weights_only) values."""
    version, python, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state = {
        "python": [version, list(python), gauss],
        "torch": torch.get_rng_state(),
        "numpy": [kind, keys.tolist(), pos, has_gauss, cached],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    version, python, gauss = state["python"]
    random.setstate((version, tuple(python), gauss))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
