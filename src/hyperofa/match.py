"""Match: every subword of a tokenizer collects the words of a word-vector space it occurs in.

OFA §3 / hyper-ofa `get_subword_to_word_mappings`: each word is tokenized as it is, with a leading
space and capitalized; every subword id in any of those tokenizations collects the word. The map is
kept as CSR (indptr, indices) so that 401k tokens × 3.6M words stays compact.

WordPiece (BERT) marks the other side of a word boundary: a word-initial piece is bare and a
continuation piece starts with `##`. Plain words need nothing special (the tokenizer splits at
whitespace, so `haus` and ` haus` are the same word-initial text), but a word-internal key `$haus`
must be segmented as the *continuation* of a word (`##haus` …), which no plain text produces on its
own: `wordpiece_internal_encoder` does that with a copy of the tokenizer whose first piece is looked
up among the continuation pieces.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

log = logging.getLogger(__name__)

WORD_INTERNAL = "$"
# prepended to a word-internal piece to see whether its first pre-token joins the word before it
# (BERT's pre-tokenizer splits punctuation off: in `don't`, `'` and `t` start words of their own)
_JOINER = "a"


class FlatIds(NamedTuple):
    """A batch's encodings flattened: token `ids[j]` came from string `owners[j]` (int64 each)."""

    ids: np.ndarray
    owners: np.ndarray


# strings → token ids (one list per string, or flattened), no special tokens
Encoder = Callable[[list[str]], "list[list[int]] | FlatIds"]


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
    encode_batch: Encoder,
    vocab_size: int,
    batch_size: int = 20_000,
    encode_internal: Encoder | None = None,
) -> TokenWordMap:
    """Match every word (the part after `lang:`) to the subword ids of its tokenizations.

    Args:
        words: word strings, row i of the word-vector table (language prefix already removed).
        encode_batch: tokenizes a list of strings without special tokens (a fast tokenizer's
            batch call, so Rust does the work in parallel).
        vocab_size: number of token ids (rows of the map).
        encode_internal: tokenizes the variants of word-internal (`$`) words as the continuation
            of a word (WordPiece: `wordpiece_internal_encoder`); None = `encode_batch` (Unigram,
            whose `$` variants are the bare text, as in OFA).
    """
    token_chunks: list[np.ndarray] = []
    word_chunks: list[np.ndarray] = []
    for start in tqdm(range(0, len(words), batch_size), desc="match", unit="batch", leave=False):
        plain: tuple[list[str], list[int]] = ([], [])
        internal: tuple[list[str], list[int]] = ([], [])
        for offset, word in enumerate(words[start : start + batch_size]):
            is_internal = encode_internal is not None and word.startswith(WORD_INTERNAL)
            surfaces, owners = internal if is_internal else plain
            for variant in word_variants(word):
                surfaces.append(variant)
                owners.append(start + offset)
        for (surfaces, owners), encode in ((plain, encode_batch), (internal, encode_internal)):
            if surfaces:
                tokens, owner_rows = _encode_pairs(surfaces, owners, encode)
                token_chunks.append(tokens)
                word_chunks.append(owner_rows)
    tokens = np.concatenate(token_chunks) if token_chunks else np.zeros(0, np.int64)
    owners_all = np.concatenate(word_chunks) if word_chunks else np.zeros(0, np.int64)
    return _to_csr(tokens, owners_all, vocab_size, num_words=len(words))


def _encode_pairs(
    surfaces: list[str], owners: list[int], encode: Encoder
) -> tuple[np.ndarray, np.ndarray]:
    """(token id, word row) pairs, int64 (n,) each, of every id in every surface's encoding."""
    encoded = encode(surfaces)
    if isinstance(encoded, FlatIds):
        return encoded.ids, np.asarray(owners, dtype=np.int64)[encoded.owners]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    flat = np.fromiter(chain.from_iterable(encoded), dtype=np.int64, count=int(lengths.sum()))
    return flat, np.repeat(np.asarray(owners, dtype=np.int64), lengths)


def tokenizer_encoders(tokenizer) -> tuple[Encoder, Encoder | None]:
    """(plain, word-internal) encoders of a transformers tokenizer for `build_token_word_map`;
    the word-internal one is None unless the tokenizer's model is WordPiece."""

    def plain(texts: list[str]) -> list[list[int]]:
        return tokenizer(texts, add_special_tokens=False)["input_ids"]

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return plain, None
    return pretokenized_encoder(backend), wordpiece_internal_encoder(backend)


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


def wordpiece_internal_encoder(backend) -> Encoder | None:
    """An encoder that segments each string as the continuation of a preceding word, or None if
    `backend` (a `tokenizers.Tokenizer`) is not WordPiece.

    `haus` → the ids of `##haus` (or `##ha ##us`, greedy longest match among `##` pieces, as
    WordPiece continues a word). Only the first pre-token continues the word: whatever the
    pre-tokenizer splits off (punctuation, text after whitespace) is encoded as usual.
    """
    from tokenizers import Tokenizer, models

    from hyperofa.vocab.wordpiece import CONTINUATION, bare_spec

    if not isinstance(getattr(backend, "model", None), models.WordPiece):
        return None  # before serializing: a 401k-piece vocabulary takes seconds to dump and parse
    spec = json.loads(backend.to_str())
    model = spec.get("model", {})
    if model.get("type") != "WordPiece":
        return None
    prefix = model.get("continuing_subword_prefix") or CONTINUATION
    normal = Tokenizer.from_str(json.dumps(bare_spec(spec)))
    continuation = Tokenizer.from_str(
        json.dumps(bare_spec(spec, _continuation_vocab(model, prefix)))
    )
    normalizer, pre_tokenizer = normal.normalizer, normal.pre_tokenizer

    def encode(texts: list[str]) -> list[list[int]]:
        heads, tails = [], []
        for text in texts:
            text = normalizer.normalize_str(text) if normalizer is not None else text
            head = _joined_head(text, pre_tokenizer)
            heads.append(head)
            tails.append(text[len(head) :])
        head_ids = continuation.encode_batch(heads, add_special_tokens=False)
        tail_ids = normal.encode_batch(tails, add_special_tokens=False)
        return [h.ids + t.ids for h, t in zip(head_ids, tail_ids, strict=True)]

    return encode


def _continuation_vocab(model: dict[str, Any], prefix: str) -> dict[str, int]:
    """A WordPiece vocab in which a word's first piece is looked up among the continuation pieces:
    `x` and `##x` both map to the id of `##x` (every later piece is looked up as `##…` anyway)."""
    pieces = {t[len(prefix) :]: i for t, i in model["vocab"].items() if t.startswith(prefix)}
    vocab = {k: v for k, v in pieces.items() if k} | {prefix + k: v for k, v in pieces.items()}
    unk = model.get("unk_token")
    if unk in model["vocab"]:
        vocab[unk] = model["vocab"][unk]
    return vocab


def _joined_head(text: str, pre_tokenizer) -> str:
    """The prefix of (normalized) `text` that stays in the word before it: its first pre-token if
    that pre-token merges with a letter written before it, else ""."""
    if pre_tokenizer is None:
        return text
    pieces = pre_tokenizer.pre_tokenize_str(_JOINER + text)
    if not pieces:
        return ""
    first, (start, end) = pieces[0]
    if start != 0 or end <= len(_JOINER):
        return ""
    return text[: end - len(_JOINER)]


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
