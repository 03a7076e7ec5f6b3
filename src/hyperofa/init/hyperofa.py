"""`hyperofa`: a trained hypernetwork maps a target token's set of word vectors to its row.

The network is trained on source tokens by the `hypernet` stage (input: their word vectors;
target: their source rows — coordinates when factorized); this initializer only predicts. The
shared `initialize` then copies shared tokens over and leaves the rest random (DESIGN §3.3).
"""

from __future__ import annotations

import numpy as np
from torch import nn

from hyperofa.hypernet.train import predict
from hyperofa.init.base import InitInputs


class HyperOFAInitializer:
    name = "hyperofa"

    def __init__(self, net: nn.Module):
        self.net = net

    def covers(self, inputs: InitInputs) -> np.ndarray:
        """Target tokens with at least one matched word."""
        return inputs.target_words.covered()

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> np.ndarray:
        words = inputs.target_words
        return predict(self.net, words.indptr, words.indices, token_ids)

    def heldout(self, inputs: InitInputs, source_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Source tokens the network never trained on (its test split) from their words."""
        words = inputs.source_words
        rows = predict(self.net, words.indptr, words.indices, source_ids)
        return rows, words.covered()[source_ids]
