"""The token → word map (CSR with multiplicities) and each token's mean vector in word space."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from hyperofa.config.enums import WordWeighting
from hyperofa.errors import ConfigError, IncompatibleInputsError

# token vector = mean over the multiset (public OFA) or the set of matched words
WEIGHTINGS = tuple(w.value for w in WordWeighting)
GROUP_PAIRS = 1 << 16  # (token, word) pairs summed by one task
# tasks run on the cores this process may use (a SLURM job's share of a node, not the node's count)
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
    bit-identical to it (ties between tokens stay ties). Each listed row is read where it lies
    (a memory-mapped table is never copied or converted whole) by a compiled loop
    (`hyperofa.ordered_sums`), on `THREADS` threads, a group of ~`GROUP_PAIRS` pairs each.

    Args:
        weighting: "multiset" — a word counts once per surface form that holds the token (the
            public OFA code's mean over its lists); "set" — once (de-duplicated).
        tokens: the token ids to compute, int (n,); default every token.
    """
    if weighting not in WEIGHTINGS:
        raise ConfigError("word_weighting", weighting, f"one of {', '.join(WEIGHTINGS)}")
    from hyperofa.ordered_sums import add_list_means

    ids = np.arange(token_words.num_tokens) if tokens is None else np.asarray(tokens, np.int64)
    out = np.zeros((len(ids), word_vectors.shape[1]), dtype=np.float64)
    table = np.asarray(word_vectors)  # a memory map's own pages, not a copy
    if table.dtype not in (np.float32, np.float64):  # the loop reads these two (float16: widened)
        table = table.astype(np.float64)
    starts, ends = token_words.indptr[ids], token_words.indptr[ids + 1]
    _check_rows(token_words.indices, starts, ends, len(table))

    def add(group: np.ndarray) -> None:
        add_list_means(
            out,
            group,
            starts[group],
            ends[group],
            token_words.indices,
            token_words.multiplicity,
            weighting == "multiset",
            table,
        )

    # groups write disjoint rows; the compiled loop releases the GIL
    with ThreadPoolExecutor(THREADS, thread_name_prefix="token-vectors") as pool:
        list(pool.map(add, runs_of_size(ends - starts, GROUP_PAIRS)))
    return out


def _check_rows(words: np.ndarray, starts: np.ndarray, ends: np.ndarray, num_rows: int) -> None:
    """The listed words are rows of the table (the compiled loop does not check its reads); each
    list is sorted, so its first and last entries bound it."""
    listed = ends > starts
    if not listed.any():
        return
    low, high = int(words[starts[listed]].min()), int(words[ends[listed] - 1].max())
    if low < 0 or high >= num_rows:
        raise IncompatibleInputsError(
            f"token-word map lists word row {low if low < 0 else high:,}; the word-vector table "
            f"has {num_rows:,} rows (a map built from another table?)"
        )


def runs_of_size(sizes: np.ndarray, cap: int) -> list[np.ndarray]:
    """Runs of consecutive positions whose sizes add up to about `cap` (a run ends with the
    first position that starts past it, so one large size makes a run of its own)."""
    window = (np.cumsum(sizes) - sizes) // max(cap, 1)
    return np.split(np.arange(len(sizes)), np.flatnonzero(np.diff(window)) + 1)
