"""`random`: no method rows; everything not copied stays normal(source mean, source std)."""

from __future__ import annotations

import numpy as np

from hyperofa.init.base import InitInputs, random_rows


class RandomInitializer:
    name = "random"

    def covers(self, inputs: InitInputs) -> np.ndarray:
        return np.zeros(inputs.num_target, dtype=bool)

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> np.ndarray:
        return np.empty((0, inputs.source_rows.shape[1]), dtype=np.float32)  # covers nothing

    def heldout(self, inputs: InitInputs, source_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows `initialize` would draw (the intrinsic baseline): covered, so they are scored."""
        rows = random_rows(inputs.source_rows, len(source_ids), np.random.default_rng(inputs.seed))
        return rows, np.ones(len(source_ids), dtype=bool)
