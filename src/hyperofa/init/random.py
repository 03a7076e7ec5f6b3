"""`random`: no method rows; everything not copied stays normal(source mean, source std)."""

from __future__ import annotations

import numpy as np

from hyperofa.init.base import InitInputs


class RandomInitializer:
    name = "random"

    def covers(self, inputs: InitInputs) -> np.ndarray:
        return np.zeros(inputs.num_target, dtype=bool)

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> np.ndarray:
        return np.empty((0, inputs.source_rows.shape[1]), dtype=np.float32)  # covers nothing
