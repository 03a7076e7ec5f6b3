"""The compiled dot loop adds in dimension order: equal to a plain loop over dimensions, and equal
columns get equal values wherever they sit, across its blocks."""

from __future__ import annotations

import numpy as np

from hyperofa.ordered_sums import _BLOCK, ordered_dots


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
