"""`random`: no method rows; everything not copied stays normal(source mean, source std)."""

from __future__ import annotations

import numpy as np

from hyperofa.init.base import InitInputs


class RandomInitializer:
    name = "random"

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> None:
        return None


def build() -> RandomInitializer:
    return RandomInitializer()
