"""Match: every subword of a tokenizer collects the words of a word-vector space it occurs in.

As the public OFA code does it (cisnlp/ofa `ofa/utils.py::get_subword_embeddings_in_word_embedding_space`,
DESIGN §3.1): every `$` of a word becomes a space, then three surface forms are tokenized — the word,
the word after a space, and a capitalized form — each with one `tokenizer(form,
add_special_tokens=False)` call. Every token id in a form's tokenization collects the word once per
form, so a token holds a word up to three times. The map keeps the word rows of each token sorted
and unique (what the hypernetwork reads, like hyper-ofa's de-duplicated lists) and, aligned with
them, that multiplicity: OFA's token vector is the mean over the multiset.

The map is CSR (indptr, indices, multiplicity) so that 401k tokens × 3.6M words stays compact.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

from hyperofa.config.enums import WordWeighting
from hyperofa.errors import ConfigError, IncompatibleInputsError

log = logging.getLogger(__name__)

WORD_INTERNAL = "$"  # ColexNet+ marks a word-internal piece; the public code reads it as a space
# token vector = mean over the multiset (public OFA) or the set of matched words
WEIGHTINGS = tuple(w.value for w in WordWeighting)


class FlatIds(NamedTuple):
    """A batch's encodings flattened: token `ids[j]` came from string `owners[j]` (int64 each)."""

    ids: np.ndarray
    owners: np.ndarray


# strings → token ids (one list per string, or flattened), no special tokens
Encoder = Callable[[list[str]], "list[list[int]] | FlatIds"]


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


def word_variants(word: str) -> list[str]:
    """The surface forms the public OFA code tokenizes a word in (DESIGN §3.1).

    Every `$` becomes a space; then `w`, `" " + w` and a capitalized form: `haus` → `haus`,
    ` haus`, ` Haus`; `$haus` → ` haus`, `  haus`, `Haus` (`w[1].upper() + w[2:]`: w[0] is the
    space). No lowercasing. Where the public code raises IndexError building the capitalized form
    (an empty word, `$` alone) that form is left out.
    """
    text = word.replace(WORD_INTERNAL, " ")
    forms = [text, " " + text]
    if word.startswith(WORD_INTERNAL):
        if len(text) > 1:
            forms.append(text[1].upper() + text[2:])
    elif text:
        forms.append(" " + text[0].upper() + text[1:])
    return forms


def build_token_word_map(
    words: Sequence[str], encode_batch: Encoder, vocab_size: int, batch_size: int = 20_000
) -> TokenWordMap:
    """Match every word (the part after `lang:`) to the subword ids of its surface forms.

    Args:
        words: word strings, row i of the word-vector table (language prefix already removed).
        encode_batch: tokenizes a list of strings, each as one `tokenizer(text,
            add_special_tokens=False)` call would (`tokenizer_encoder`).
        vocab_size: number of token ids (rows of the map); ids outside [0, vocab_size) are dropped.
    """
    token_chunks: list[np.ndarray] = []
    word_chunks: list[np.ndarray] = []
    for start in tqdm(range(0, len(words), batch_size), desc="match", unit="batch", leave=False):
        forms: list[str] = []
        owners: list[int] = []
        for row, word in enumerate(words[start : start + batch_size], start):
            variants = word_variants(word)
            forms += variants
            owners += [row] * len(variants)
        if forms:
            tokens, form_rows = _form_token_pairs(forms, encode_batch, vocab_size)
            token_chunks.append(tokens)
            word_chunks.append(np.asarray(owners, dtype=np.int64)[form_rows])
    tokens = np.concatenate(token_chunks) if token_chunks else np.zeros(0, np.int64)
    word_rows = np.concatenate(word_chunks) if word_chunks else np.zeros(0, np.int64)
    return _to_csr(tokens, word_rows, vocab_size, num_words=len(words))


def _form_token_pairs(
    forms: list[str], encode: Encoder, vocab_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (token id, form index) pairs of the forms' encodings, int64 (n,) each: a form
    holding a token twice counts once (the public code's `set(tokenized)`)."""
    encoded = encode(forms)
    if isinstance(encoded, FlatIds):
        ids, form_rows = encoded.ids, encoded.owners
    else:
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        ids = np.fromiter(chain.from_iterable(encoded), dtype=np.int64, count=int(lengths.sum()))
        form_rows = np.repeat(np.arange(len(encoded), dtype=np.int64), lengths)
    valid = (ids >= 0) & (ids < vocab_size)
    pair = np.unique(form_rows[valid] * vocab_size + ids[valid])
    return pair % vocab_size, pair // vocab_size


def _to_csr(tokens: np.ndarray, words: np.ndarray, vocab_size: int, num_words: int) -> TokenWordMap:
    """CSR of (token, word) pairs that may repeat; a pair's repeats become its multiplicity."""
    pair, multiplicity = np.unique(tokens * max(num_words, 1) + words, return_counts=True)
    tok, word = pair // max(num_words, 1), pair % max(num_words, 1)  # sorted by token, then word
    indptr = np.zeros(vocab_size + 1, dtype=np.int64)
    np.cumsum(np.bincount(tok, minlength=vocab_size), out=indptr[1:])
    return TokenWordMap(indptr, word.astype(np.int64), multiplicity.astype(np.int8))


def tokenizer_encoder(tokenizer) -> Encoder:
    """`build_token_word_map`'s encoder for a transformers tokenizer: the ids of one
    `tokenizer(text, add_special_tokens=False)` call per string (the public code's
    `tokenizer.encode(text, add_special_tokens=False)`), through `pretokenized_encoder` when the
    tokenizer is fast (tests/unit/test_match.py proves the ids equal)."""

    def per_call(texts: list[str]) -> list[list[int]]:
        return tokenizer(texts, add_special_tokens=False)["input_ids"]

    backend = getattr(tokenizer, "backend_tokenizer", None)
    return per_call if backend is None else pretokenized_encoder(backend)


def pretokenized_encoder(backend, chunk: int = 4_096) -> Encoder:
    """A fast encoder over a `tokenizers.Tokenizer`: the same ids as one `tokenizer(text)` call
    per string, returned as `FlatIds`.

    Each chunk of strings goes in as one pre-split sequence, in which every string is normalized,
    pre-tokenized and tokenized on its own, exactly as alone; but Rust hands back one encoding per
    chunk instead of one Python object per string, which is what dominates
    `tokenizer(texts)["input_ids"]` (~4× at paper scale, `bench/paper_scale.py`). Chunks run in
    parallel.
    """

    backend = type(backend).from_str(backend.to_str())  # a copy: a transformers call may have
    backend.no_truncation()  # left truncation/padding on the original (and saved it to disk),
    backend.no_padding()  # which would cut a chunk at max_length

    def encode(texts: list[str]) -> FlatIds:
        starts = range(0, len(texts), chunk)
        parts = [texts[s : s + chunk] for s in starts]
        encodings = backend.encode_batch(parts, is_pretokenized=True, add_special_tokens=False)
        if not encodings:
            return FlatIds(np.zeros(0, np.int64), np.zeros(0, np.int64))
        ids = [np.asarray(e.ids, dtype=np.int64) for e in encodings]
        owners = [
            np.asarray(e.word_ids, dtype=np.int64) + s
            for e, s in zip(encodings, starts, strict=True)
        ]
        return FlatIds(np.concatenate(ids), np.concatenate(owners))

    return encode


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
