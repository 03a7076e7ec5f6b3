"""The compiled dot loops add in dimension order: equal to a plain loop over dimensions, equal
columns get equal values wherever they sit, and picked rows get the values of the dense row."""

from __future__ import annotations

import numpy as np
import pytest

from hyperofa.ordered_sums import _BLOCK, column_moments, gathered_dots, ordered_dots


def test_dots_are_summed_in_dimension_order_whatever_the_position():
    rng = np.random.default_rng(0)
    n, d = 2 * _BLOCK + 37, 23
    columns = rng.normal(size=(d, n))
    for copy in (1, _BLOCK - 1, _BLOCK, 2 * _BLOCK + 36):  # across and at block edges
        columns[:, copy] = columns[:, 0]
    queries = rng.normal(size=(5, d))
    out = np.full((5, n), np.nan)
    ordered_dots(columns, queries, out)
    expected = np.zeros((5, n))
    for j in range(d):  # one rounded product and one rounded sum per dimension, in order
        expected += queries[:, j : j + 1] * columns[j]
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(out[:, [1, _BLOCK - 1, _BLOCK, 2 * _BLOCK + 36]], out[:, [0] * 4])
    np.testing.assert_allclose(out, queries @ columns, rtol=1e-12, atol=1e-12)


def test_gathered_dots_are_the_ordered_dots_of_the_picked_rows():
    rng = np.random.default_rng(1)
    rows = rng.normal(size=(50, 9))
    queries = rng.normal(size=(6, 9))
    dense = np.empty((6, 50))
    ordered_dots(np.ascontiguousarray(rows.T), queries, dense)
    for k in (1, 3, 4, 5, 8, 11):  # whole groups of four and remainders
        picks = rng.integers(0, 50, (6, k))
        out = np.full((6, k), np.nan)
        gathered_dots(rows, queries, picks, out)
        np.testing.assert_array_equal(out, np.take_along_axis(dense, picks, 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_moments_are_numpys_mean_and_std(dtype):
    rng = np.random.default_rng(2)
    rows = (rng.normal(size=(20_011, 37)) * rng.uniform(0.01, 3, 37) + 5).astype(dtype)
    mean, std = column_moments(rows)
    np.testing.assert_array_equal(mean, rows.mean(axis=0, dtype=np.float64))
    np.testing.assert_array_equal(std, rows.std(axis=0, dtype=np.float64))
