"""Match: every subword of a tokenizer collects the words of a word-vector space it occurs in.

OFA §3 / hyper-ofa `get_subword_to_word_mappings`: each word is tokenized as it is, with a leading
space and capitalized; every subword id in any of those tokenizations collects the word. The map is
kept as CSR (indptr, indices) so that 401k tokens × 3.6M words stays compact.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

log = logging.getLogger(__name__)

WORD_INTERNAL = "$"


@dataclass(frozen=True)
class TokenWordMap:
    """CSR map: the word rows of token t are `indices[indptr[t]:indptr[t + 1]]` (sorted, unique)."""

    indptr: np.ndarray  # int64 (V+1,)
    indices: np.ndarray  # int64 (nnz,)

    @property
    def num_tokens(self) -> int:
        return len(self.indptr) - 1

    def degree(self) -> np.ndarray:
        """Words per token, int64 (V,)."""
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
            "median_words_per_covered_token": float(np.median(deg[deg > 0])) if covered else 0.0,
        }


def word_variants(word: str) -> list[str]:
    """The surface forms a word is tokenized in (DESIGN §3.1).

    `haus` → `haus`, ` haus`, ` Haus`; a word-internal piece `$haus` → `haus`, `Haus` (no space:
    it never starts a word). No lowercasing.
    """
    if word.startswith(WORD_INTERNAL):
        bare = word[1:]
        return [bare, bare[:1].upper() + bare[1:]] if bare else []
    return [word, " " + word, " " + word[:1].upper() + word[1:]]


def build_token_word_map(
    words: Sequence[str],
    encode_batch: Callable[[list[str]], list[list[int]]],
    vocab_size: int,
    batch_size: int = 20_000,
) -> TokenWordMap:
    """Match every word (the part after `lang:`) to the subword ids of its tokenizations.

    Args:
        words: word strings, row i of the word-vector table (language prefix already removed).
        encode_batch: tokenizes a list of strings without special tokens (a fast tokenizer's
            batch call, so Rust does the work in parallel).
        vocab_size: number of token ids (rows of the map).
    """
    token_chunks: list[np.ndarray] = []
    word_chunks: list[np.ndarray] = []
    for start in tqdm(range(0, len(words), batch_size), desc="match", unit="batch", leave=False):
        surfaces, owners = [], []
        for offset, word in enumerate(words[start : start + batch_size]):
            for variant in word_variants(word):
                surfaces.append(variant)
                owners.append(start + offset)
        if not surfaces:
            continue
        encoded = encode_batch(surfaces)
        lengths = np.fromiter((len(ids) for ids in encoded), dtype=np.int64, count=len(encoded))
        flat = np.fromiter(
            (i for ids in encoded for i in ids), dtype=np.int64, count=int(lengths.sum())
        )
        token_chunks.append(flat)
        word_chunks.append(np.repeat(np.asarray(owners, dtype=np.int64), lengths))
    tokens = np.concatenate(token_chunks) if token_chunks else np.zeros(0, np.int64)
    owners_all = np.concatenate(word_chunks) if word_chunks else np.zeros(0, np.int64)
    return _to_csr(tokens, owners_all, vocab_size, num_words=len(words))


def _to_csr(tokens: np.ndarray, words: np.ndarray, vocab_size: int, num_words: int) -> TokenWordMap:
    valid = (tokens >= 0) & (tokens < vocab_size)
    pair = np.unique(tokens[valid] * max(num_words, 1) + words[valid])  # sorts by token, then word
    tok, word = pair // max(num_words, 1), pair % max(num_words, 1)
    indptr = np.zeros(vocab_size + 1, dtype=np.int64)
    np.cumsum(np.bincount(tok, minlength=vocab_size), out=indptr[1:])
    return TokenWordMap(indptr=indptr, indices=word.astype(np.int64))


def token_vectors(
    token_words: TokenWordMap, word_vectors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each token's vector in word space: the mean of its words' vectors.

    Returns:
        vectors float32 (V, d) — zero rows for tokens with no word; has_vector bool (V,).
    """
    deg = token_words.degree()
    has = deg > 0
    weights = np.repeat(1.0 / np.maximum(deg, 1), deg).astype(np.float32)
    mean = sp.csr_matrix(
        (weights, token_words.indices, token_words.indptr),
        shape=(token_words.num_tokens, word_vectors.shape[0]),
    )
    return np.asarray(mean @ word_vectors, dtype=np.float32), has
