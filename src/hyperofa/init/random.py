"""`random`: no method rows; everything not copied stays normal(source mean, source std)."""

from __future__ import annotations

import numpy as np

from hyperofa.init.base import InitInputs, random_rows
from hyperofa.init.statistics import without


class RandomInitializer:
    name = "random"

    def covers(self, inputs: InitInputs) -> np.ndarray:
        return np.zeros(inputs.num_target, dtype=bool)

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> np.ndarray:
        return np.empty((0, inputs.source_rows.shape[1]), dtype=np.float32)  # covers nothing

    def heldout(self, inputs: InitInputs, source_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Random rows from the other source rows' statistics, all scored (the baseline)."""
        return heldout_random(inputs, source_ids), np.ones(len(source_ids), dtype=bool)


def heldout_random(inputs: InitInputs, source_ids: np.ndarray) -> np.ndarray:
    """What `initialize` would draw for held-out source tokens, from the other rows' mean/std."""
    rng = np.random.default_rng(inputs.seed)
    return random_rows(without(inputs.source_rows, source_ids), len(source_ids), rng)
