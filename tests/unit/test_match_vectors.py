"""Token means read the word table in pieces: bit-identical to the public code's list means
however the lists are cut between reads, and never reading the table whole."""

from __future__ import annotations

import numpy as np
import pytest

import hyperofa.match.tokenwords as tokenwords
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


@pytest.mark.parametrize("budget", [1, 2, 7, 64, 1 << 16])
@pytest.mark.parametrize("weighting", ["multiset", "set"])
def test_means_are_the_public_means_however_the_reads_are_cut(monkeypatch, budget, weighting):
    rng = np.random.default_rng(budget)
    twm = _random_map(rng, tokens=40, words=90)
    vectors = rng.normal(size=(90, 5)).astype(np.float32)
    monkeypatch.setattr(tokenwords, "PAIR_BUDGET", budget)
    expected = oracle_ofa.subword_vectors(40, _public_lists(twm, weighting), vectors)
    np.testing.assert_array_equal(token_vectors(twm, vectors, weighting), expected)
    some = np.array([5, 39, 3, 0, 5, 17])  # any order, repeats and empty lists included
    np.testing.assert_array_equal(token_vectors(twm, vectors, weighting, some), expected[some])
    assert token_vectors(twm, vectors, weighting, np.array([], np.int64)).shape == (0, 5)


class CountingTable(np.ndarray):
    """A word table that remembers the rows each read asked for."""

    reads: list[np.ndarray]

    def __getitem__(self, key):
        if isinstance(key, np.ndarray):
            CountingTable.reads.append(key)
        return np.asarray(self).__getitem__(key)


def test_the_table_is_read_in_pieces_of_listed_rows_only_once_a_piece(monkeypatch):
    rng = np.random.default_rng(0)
    twm = _random_map(rng, tokens=60, words=500)
    vectors = rng.normal(size=(500, 4)).astype(np.float32)
    monkeypatch.setattr(tokenwords, "PAIR_BUDGET", 32)
    CountingTable.reads = []
    table = vectors.view(CountingTable)
    tokens = np.array([2, 2, 5])  # 5 holds every word
    ours = token_vectors(twm, table, tokens=tokens)
    pairs = np.concatenate([twm.words_of(t) for t in tokens])  # the listed words, one per pair
    reads = CountingTable.reads
    assert max(map(len, reads)) <= 32 and all(np.all(np.diff(r) > 0) for r in reads)
    np.testing.assert_array_equal(np.unique(np.concatenate(reads)), np.unique(pairs))
    # no row twice in a read: token 2's second list repeats rows read for its first
    assert len(pairs) // 32 <= len(reads) and sum(map(len, reads)) < len(pairs)
    np.testing.assert_array_equal(ours, token_vectors(twm, vectors, tokens=tokens))
