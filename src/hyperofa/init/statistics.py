"""`mean` and `normal`: new rows from the statistics of the source rows (Hewitt 2021).

`mean` gives every new token the mean source row; `normal` draws each from N(μ, Σ), the mean and
population covariance (divided by n, as Hewitt's note and mergekit tokensurgeon's
`random_matching_distribution`) of the source rows — coordinates when factorized. Both cover every
token that is not copied. The draws use their own stream of the run's seed, so they do not depend
on the random rows `initialize` draws first.
"""

from __future__ import annotations

import numpy as np

from hyperofa.init.base import InitInputs

NORMAL_STREAM = 1  # the seed's stream for `normal` draws: np.random.default_rng([seed, 1])


def mean_row(rows: np.ndarray) -> np.ndarray:
    """float64 (k,): the mean of `rows` (n, k)."""
    return rows.mean(axis=0, dtype=np.float64)


def covariance(rows: np.ndarray, chunk: int = 65_536) -> np.ndarray:
    """float64 (k, k): the population covariance of `rows` (n, k), i.e. divided by n; summed in
    chunks, so no float64 copy of the whole table."""
    mu = mean_row(rows)
    total = np.zeros((rows.shape[1], rows.shape[1]))
    for start in range(0, len(rows), chunk):
        centered = rows[start : start + chunk].astype(np.float64) - mu
        total += centered.T @ centered
    return total / len(rows)


def without(rows: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """`rows` less the rows `ids` (a held-out token must not inform its own prediction)."""
    keep = np.ones(len(rows), dtype=bool)
    keep[ids[ids < len(rows)]] = False
    return rows[keep]


class MeanInitializer:
    name = "mean"

    def covers(self, inputs: InitInputs) -> np.ndarray:
        return np.ones(inputs.num_target, dtype=bool)

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> np.ndarray:
        row = mean_row(inputs.source_rows).astype(np.float32)
        return np.tile(row, (len(token_ids), 1))

    def heldout(self, inputs: InitInputs, source_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        row = mean_row(without(inputs.source_rows, source_ids)).astype(np.float32)
        return np.tile(row, (len(source_ids), 1)), np.ones(len(source_ids), dtype=bool)


class NormalInitializer:
    name = "normal"

    def covers(self, inputs: InitInputs) -> np.ndarray:
        return np.ones(inputs.num_target, dtype=bool)

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> np.ndarray:
        return draw_normal(inputs.source_rows, len(token_ids), inputs.seed)

    def heldout(self, inputs: InitInputs, source_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = draw_normal(without(inputs.source_rows, source_ids), len(source_ids), inputs.seed)
        return rows, np.ones(len(source_ids), dtype=bool)


def draw_normal(rows: np.ndarray, n: int, seed: int) -> np.ndarray:
    """float32 (n, k): draws from N(mean, covariance) of `rows`; `eigh` also takes a singular
    covariance (e.g. rows of rank < k)."""
    rng = np.random.default_rng([seed, NORMAL_STREAM])
    mu, sigma = mean_row(rows), covariance(rows)
    return rng.multivariate_normal(mu, sigma, size=n, method="eigh").astype(np.float32)
