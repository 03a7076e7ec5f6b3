"""The token → word map (CSR with multiplicities) and each token's mean vector in word space."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hyperofa.config.enums import WordWeighting
from hyperofa.errors import ConfigError, IncompatibleInputsError

# token vector = mean over the multiset (public OFA) or the set of matched words
WEIGHTINGS = tuple(w.value for w in WordWeighting)


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

    Args:
        weighting: "multiset" — a word counts once per surface form that holds the token (the
            public OFA code's mean over its lists); "set" — once (de-duplicated).
        tokens: the token ids to compute, int (n,); default every token.
    """
    if weighting not in WEIGHTINGS:
        raise ConfigError("word_weighting", weighting, f"one of {', '.join(WEIGHTINGS)}")
    ids = np.arange(token_words.num_tokens) if tokens is None else np.asarray(tokens, np.int64)
    starts, deg = token_words.indptr[ids], token_words.degree()[ids]
    offsets = np.concatenate([[0], np.cumsum(deg)])
    picked = np.repeat(starts - offsets[:-1], deg) + np.arange(offsets[-1])  # rows' pairs, in order
    times = token_words.multiplicity[picked] if weighting == "multiset" else 1
    # a word repeated `times` in a row, each weighted 1/len: the public code's list, summed in its
    # order, so the float64 means are bit-identical to it (ties between tokens stay ties)
    words = np.repeat(token_words.indices[picked], times)
    lengths = np.bincount(np.repeat(np.arange(len(ids)), deg), np.ones(len(picked)) * times)
    lengths = np.pad(lengths, (0, len(ids) - len(lengths))).astype(np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    weights = np.repeat(1.0 / np.maximum(lengths, 1), lengths)
    mean = sp.csr_matrix((weights, words, indptr), shape=(len(ids), word_vectors.shape[0]))
    out = np.empty((len(ids), word_vectors.shape[1]), dtype=np.float64)
    for c in range(0, word_vectors.shape[1], 16):  # float64 sums, no float64 copy of the table
        out[:, c : c + 16] = mean @ word_vectors[:, c : c + 16].astype(np.float64)
    return out
