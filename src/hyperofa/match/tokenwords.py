"""The token → word map (CSR with multiplicities) and each token's mean vector in word space."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hyperofa.config.enums import WordWeighting
from hyperofa.errors import ConfigError, IncompatibleInputsError

# token vector = mean over the multiset (public OFA) or the set of matched words
WEIGHTINGS = tuple(w.value for w in WordWeighting)
PAIR_BUDGET = 1 << 16  # (token, word) pairs summed at once: ≤ this many rows read, float64
# groups of PAIR_BUDGET pairs summed at once, on the cores this process may use (a SLURM job's
# share of a node, not the node's count)
THREADS = min(
    4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
)


@dataclass(frozen=True)
class TokenWordMap:
    """CSR map: the word rows of token t are `indices[indptr[t]:indptr[t + 1]]` (sorted, unique);
    `multiplicity` (aligned with `indices`) counts the surface forms of that word whose
    tokenization holds t (1..3)."""

    indptr: np.ndarray  # int64 (V+1,)
    indices: np.ndarray  # int64 (nnz,)
    multiplicity: np.ndarray  # int8 (nnz,)

    def __post_init__(self) -> None:
        if len(self.multiplicity) != len(self.indices) or self.indptr[-1] != len(self.indices):
            raise IncompatibleInputsError(
                f"token-word map: {len(self.indices):,} word rows, {len(self.multiplicity):,} "
                f"multiplicities and indptr ending at {int(self.indptr[-1]):,} must agree"
            )

    @property
    def num_tokens(self) -> int:
        return len(self.indptr) - 1

    def degree(self) -> np.ndarray:
        """Distinct words per token, int64 (V,)."""
        return np.diff(self.indptr)

    def covered(self) -> np.ndarray:
        """bool (V,): the token collected at least one word."""
        return self.degree() > 0

    def words_of(self, token_id: int) -> np.ndarray:
        return self.indices[self.indptr[token_id] : self.indptr[token_id + 1]]

    def counts(self) -> dict[str, float]:
        deg = self.degree()
        covered = int((deg > 0).sum())
        return {
            "tokens": self.num_tokens,
            "covered": covered,
            "coverage": round(covered / max(self.num_tokens, 1), 4),
            "pairs": int(len(self.indices)),
            "pairs_with_multiplicity": int(self.multiplicity.sum(dtype=np.int64)),
            "median_words_per_covered_token": float(np.median(deg[deg > 0])) if covered else 0.0,
        }


def token_vectors(
    token_words: TokenWordMap,
    word_vectors: np.ndarray,
    weighting: str = "multiset",
    tokens: np.ndarray | None = None,
) -> np.ndarray:
    """Each token's vector in word space: the mean of its words' vectors, float64 (n, d), zero
    rows for tokens without words.

    A token's list is the public code's (a word repeated once per form holding the token, in
    word order), each vector weighted 1/len in float64 and summed in list order: the means are
    bit-identical to it (ties between tokens stay ties). Only the rows of listed words are read,
    each once per read of `PAIR_BUDGET` (token, word) pairs, so a memory-mapped table is never
    copied or converted whole. Groups of tokens are summed on `THREADS` threads.

    Args:
        weighting: "multiset" — a word counts once per surface form that holds the token (the
            public OFA code's mean over its lists); "set" — once (de-duplicated).
        tokens: the token ids to compute, int (n,); default every token.
    """
    if weighting not in WEIGHTINGS:
        raise ConfigError("word_weighting", weighting, f"one of {', '.join(WEIGHTINGS)}")
    ids = np.arange(token_words.num_tokens) if tokens is None else np.asarray(tokens, np.int64)
    out = np.zeros((len(ids), word_vectors.shape[1]), dtype=np.float64)

    def add(group: np.ndarray) -> None:
        _add_means(out, group, _Lists.of(token_words, ids[group], weighting), word_vectors)

    # groups write disjoint rows; numpy's row reads and scipy's sums release the GIL
    with ThreadPoolExecutor(THREADS, thread_name_prefix="token-vectors") as pool:
        list(pool.map(add, _groups(token_words.degree()[ids], PAIR_BUDGET)))
    return out


def _groups(sizes: np.ndarray, cap: int) -> list[np.ndarray]:
    """Runs of consecutive positions whose sizes add up to about `cap` (a run ends with the
    first position that starts past it, so one large size makes a run of its own)."""
    window = (np.cumsum(sizes) - sizes) // max(cap, 1)
    return np.split(np.arange(len(sizes)), np.flatnonzero(np.diff(window)) + 1)


@dataclass(frozen=True)
class _Lists:
    """Some tokens' lists one after another, as (word, times) pairs: the word rows (int64),
    how often each stands in its list in a row (int64), and each token's number of pairs."""

    words: np.ndarray
    times: np.ndarray
    pairs: np.ndarray

    @classmethod
    def of(cls, token_words: TokenWordMap, ids: np.ndarray, weighting: str) -> _Lists:
        starts, deg = token_words.indptr[ids], token_words.degree()[ids]
        offsets = np.concatenate([[0], np.cumsum(deg)])
        picked = np.repeat(starts - offsets[:-1], deg) + np.arange(offsets[-1])
        times = (
            token_words.multiplicity[picked].astype(np.int64)
            if weighting == "multiset"
            else np.ones(len(picked), np.int64)
        )
        return cls(token_words.indices[picked], times, deg)


def _add_means(out: np.ndarray, rows: np.ndarray, lists: _Lists, vectors) -> None:
    """out[rows[k]] = Σ vectors[w] / len over the k-th list, in list order, reading the rows of
    `PAIR_BUDGET` pairs at a time, each distinct row once; a list cut between two reads goes on
    from its sum.

    The sums go through a sparse product, which adds each row's terms one after another as the
    public code's `sum(axis=0)` does (numpy's `add.reduceat` would add them pairwise); a word
    standing k times in a row is k columns of the same row."""
    ends = np.cumsum(lists.pairs)
    starts = ends - lists.pairs
    entries = np.concatenate([[0], np.cumsum(lists.times)])  # list entries before each pair
    length = entries[ends] - entries[starts]  # entries of each list
    weight = np.repeat(1.0 / np.maximum(length, 1), lists.pairs)  # of each pair's entries
    for p0 in range(0, len(lists.words), PAIR_BUDGET):
        p1 = min(p0 + PAIR_BUDGET, len(lists.words))
        distinct, column = np.unique(lists.words[p0:p1], return_inverse=True)
        first, last = np.searchsorted(ends, p0, "right"), np.searchsorted(starts, p1, "left")
        listed = np.arange(first, last)
        listed = listed[lists.pairs[listed] > 0]
        carried = int(starts[listed[0]] < p0)  # the first list goes on: its sum so far, weighted 1
        block = np.empty((len(distinct) + carried, out.shape[1]), dtype=np.float64)
        block[carried:] = vectors[distinct]
        times = lists.times[p0:p1]
        columns = np.repeat(column + carried, times)
        terms = np.repeat(weight[p0:p1], times)
        cuts = np.concatenate([[0], entries[np.minimum(ends[listed], p1)] - entries[p0]])
        if carried:
            block[0] = out[rows[listed[0]]]
            columns, terms = np.concatenate([[0], columns]), np.concatenate([[1.0], terms])
            cuts[1:] += 1
        mean = sp.csr_matrix((terms, columns, cuts), (len(listed), len(block)))
        out[rows[listed]] = mean @ block
