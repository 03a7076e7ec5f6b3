"""Encoders: strings → token ids, as one `tokenizer(text, add_special_tokens=False)` call per string
would give them, fast (`pretokenized_encoder`), with what the tokenizer promises about a leading
space (`TokenizerEncoder.leading_space`, see `hyperofa.match.prefix`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from hyperofa.match.prefix import LeadingSpace

log = logging.getLogger(__name__)


class FlatIds(NamedTuple):
    """A batch's encodings flattened: token `ids[j]` came from string `owners[j]` (int64 each)."""

    ids: np.ndarray
    owners: np.ndarray


# strings → token ids (one list per string, or flattened), no special tokens
Encoder = Callable[[list[str]], "list[list[int]] | FlatIds"]


@dataclass(frozen=True)
class TokenizerEncoder:
    """An `Encoder` of a fast tokenizer and its leading-space rule: None, or which strings `s`
    tokenize exactly as `" " + s` does (a dummy prefix), so matching encodes them once."""

    encode: Callable[[list[str]], FlatIds]
    leading_space: LeadingSpace | None

    def __call__(self, texts: list[str]) -> FlatIds:
        return self.encode(texts)


def tokenizer_encoder(tokenizer) -> Encoder:
    """`build_token_word_map`'s encoder for a transformers tokenizer: the ids of one
    `tokenizer(text, add_special_tokens=False)` call per string (the public code's
    `tokenizer.encode(text, add_special_tokens=False)`), through `pretokenized_encoder` when the
    tokenizer is fast (tests/unit/test_match.py proves the ids equal), with its leading-space
    rule (`LeadingSpace.of`)."""

    def per_call(texts: list[str]) -> list[list[int]]:
        return tokenizer(texts, add_special_tokens=False)["input_ids"]

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return per_call
    space = LeadingSpace.of(backend)
    log.info("match: %s", "dummy prefix: w and ' '+w encoded once" if space else "no dummy prefix")
    return TokenizerEncoder(pretokenized_encoder(backend), space)


def pretokenized_encoder(backend, chunk: int = 4_096) -> Callable[[list[str]], FlatIds]:
    """A fast encoder over a `tokenizers.Tokenizer`: the same ids as one `tokenizer(text)` call
    per string, returned as `FlatIds`.

    Each chunk of strings goes in as one pre-split sequence, in which every string is normalized,
    pre-tokenized and tokenized on its own, exactly as alone; but Rust hands back one encoding per
    chunk instead of one Python object per string, which is what dominates
    `tokenizer(texts)["input_ids"]` (~4× at paper scale, `bench/paper_scale.py`). Chunks run in
    parallel.
    """

    untruncated: list = []

    def plain():
        """The backend, or a copy of it without truncation and padding where a transformers call
        has left them on (they would cut a chunk at max_length); copied once, when needed."""
        if backend.truncation is None and backend.padding is None:
            return backend
        if not untruncated:
            untruncated.append(type(backend).from_str(backend.to_str()))
            untruncated[0].no_truncation()
            untruncated[0].no_padding()
        return untruncated[0]

    def encode(texts: list[str]) -> FlatIds:
        starts = range(0, len(texts), chunk)
        parts = [texts[s : s + chunk] for s in starts]
        encodings = plain().encode_batch(parts, is_pretokenized=True, add_special_tokens=False)
        if not encodings:
            return FlatIds(np.zeros(0, np.int64), np.zeros(0, np.int64))
        ids = [np.asarray(e.ids, dtype=np.int64) for e in encodings]
        owners = [
            np.asarray(e.word_ids, dtype=np.int64) + s
            for e, s in zip(encodings, starts, strict=True)
        ]
        return FlatIds(np.concatenate(ids), np.concatenate(owners))

    return encode
