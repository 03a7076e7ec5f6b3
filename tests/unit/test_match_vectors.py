"""Token means: bit-identical to the public code's list means however the tokens are grouped
and threaded, read from a memory-mapped table in place, refused where the map lists rows the
table lacks."""

from __future__ import annotations

import numpy as np
import pytest

import hyperofa.match.tokenwords as tokenwords
from hyperofa.errors import IncompatibleInputsError
from hyperofa.match import TokenWordMap, token_vectors
from tests import oracle_ofa


def _random_map(rng: np.random.Generator, tokens: int, words: int) -> TokenWordMap:
    """Heavy-tailed degrees (some tokens with no words, one with most), multiplicities 1..3."""
    degree = np.minimum(rng.zipf(1.6, tokens) - 1, words)
    degree[3] = 0
    degree[5] = words
    rows = [np.sort(rng.choice(words, d, replace=False)) for d in degree]
    indptr = np.concatenate([[0], np.cumsum(degree)])
    indices = np.concatenate(rows).astype(np.int64)
    multiplicity = rng.integers(1, 4, len(indices)).astype(np.int8)
    return TokenWordMap(indptr, indices, multiplicity)


def _public_lists(twm: TokenWordMap, weighting: str) -> dict[int, list[int]]:
    lists = {}
    for t in range(twm.num_tokens):
        span = slice(twm.indptr[t], twm.indptr[t + 1])
        times = twm.multiplicity[span] if weighting == "multiset" else 1
        lists[t] = np.repeat(twm.indices[span], times).tolist()
    return lists


@pytest.mark.parametrize(("group", "threads"), [(1, 1), (2, 3), (7, 2), (64, 4), (1 << 16, 2)])
@pytest.mark.parametrize("weighting", ["multiset", "set"])
def test_means_are_the_public_means_however_the_work_is_cut(monkeypatch, group, threads, weighting):
    rng = np.random.default_rng(group)
    twm = _random_map(rng, tokens=40, words=90)
    vectors = rng.normal(size=(90, 5)).astype(np.float32)
    monkeypatch.setattr(tokenwords, "GROUP_PAIRS", group)
    monkeypatch.setattr(tokenwords, "THREADS", threads)
    expected = oracle_ofa.subword_vectors(40, _public_lists(twm, weighting), vectors)
    np.testing.assert_array_equal(token_vectors(twm, vectors, weighting), expected)
    some = np.array([5, 39, 3, 0, 5, 17])  # any order, repeats and empty lists included
    np.testing.assert_array_equal(token_vectors(twm, vectors, weighting, some), expected[some])
    assert token_vectors(twm, vectors, weighting, np.array([], np.int64)).shape == (0, 5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_a_memory_mapped_table_of_any_float_dtype_is_read_in_place(tmp_path, dtype):
    rng = np.random.default_rng(0)
    twm = _random_map(rng, tokens=60, words=500)
    vectors = rng.normal(size=(500, 4)).astype(dtype)
    np.save(tmp_path / "vectors.npy", vectors)
    table = np.load(tmp_path / "vectors.npy", mmap_mode="r")
    expected = oracle_ofa.subword_vectors(60, _public_lists(twm, "multiset"), vectors)
    np.testing.assert_array_equal(token_vectors(twm, table), expected)


def test_a_map_listing_rows_past_the_table_is_refused():
    rng = np.random.default_rng(1)
    twm = _random_map(rng, tokens=20, words=50)
    vectors = rng.normal(size=(49, 3))  # the map lists row 49 (token 5 holds every word)
    with pytest.raises(IncompatibleInputsError, match="word row 49.*49 rows"):
        token_vectors(twm, vectors)
    np.testing.assert_array_equal(token_vectors(twm, vectors, tokens=np.array([3])), [[0, 0, 0]])
