"""Encoders: strings → token ids, as one `tokenizer(text, add_special_tokens=False)` call per string
would give them, fast (`pretokenized_encoder`), with what the tokenizer promises about a leading
space (`TokenizerEncoder.leading_space`, see `hyperofa.match.prefix`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from hyperofa.match.prefix import (
    LeadingSpace,
    component_spec,
    metaspace_scheme,
    pretokenizer_steps,
)

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
    tokenizer is fast (tests/unit/test_match.py proves the ids equal), or through the compiled
    Viterbi where it is an XLM-R-style Unigram (`unigram.unigram_encoder`,
    tests/unit/test_match_unigram.py), with its leading-space rule (`LeadingSpace.of`)."""

    def per_call(texts: list[str]) -> list[list[int]]:
        return tokenizer(texts, add_special_tokens=False)["input_ids"]

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return per_call
    from hyperofa.match.unigram import unigram_encoder  # numba: imported on first use

    space = LeadingSpace.of(backend)
    log.info("match: %s", "dummy prefix: w and ' '+w encoded once" if space else "no dummy prefix")
    rust = pretokenized_encoder(backend)
    compiled = unigram_encoder(backend, rust)
    if compiled is None:
        return TokenizerEncoder(rust, space)
    return TokenizerEncoder(lambda texts: FlatIds(*compiled(texts)), space)


def pretokenized_encoder(backend, chunk: int = 4_096) -> Callable[[list[str]], FlatIds]:
    """A fast encoder over a `tokenizers.Tokenizer`: the same ids as one `tokenizer(text)` call
    per string, returned as `FlatIds`.

    Each chunk of strings goes in as one pre-split sequence, in which every string is normalized,
    pre-tokenized and tokenized on its own, exactly as alone; but Rust hands back one encoding per
    chunk instead of one Python object per string, which is what dominates
    `tokenizer(texts)["input_ids"]` (~4× at paper scale, `bench/paper_scale.py`). Chunks run in
    parallel. Where the tokenizer has a plain special token (`_separator`), it goes between the
    strings and the chunk is encoded without offsets (~20 % faster): a string's ids are those
    after its separators; a chunk whose separator count is off (a string holding that token's
    text, or normalized into it) is encoded again with word ids. Where the pre-tokenizer treats
    every piece between special tokens as a string of its own (`_pieces_alone`), the chunk goes
    in as one string joined by the separator (10–20 % less encoding on the paper-scale forms).
    """

    untruncated: list = []
    separator = _separator(backend)
    joinable = separator is not None and _pieces_alone(backend)

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

    def by_word_ids(parts: list[list[str]], starts: list[int]) -> list[FlatIds]:
        encodings = plain().encode_batch(parts, is_pretokenized=True, add_special_tokens=False)
        return [
            FlatIds(np.asarray(e.ids, np.int64), np.asarray(e.word_ids, np.int64) + s)
            for e, s in zip(encodings, starts, strict=True)
        ]

    def by_separators(parts: list[list[str]], starts: list[int]) -> list[FlatIds]:
        content, sep = separator
        if joinable:  # one string a chunk: one encoding, no per-string encodings to merge
            batch = [content.join(part) for part in parts]
        else:
            batch = []
            for part in parts:
                batch.append([content] * (2 * len(part) - 1))
                batch[-1][::2] = part
        encodings = plain().encode_batch_fast(
            batch, is_pretokenized=not joinable, add_special_tokens=False
        )
        out, redo = [], []
        for j, (e, s, part) in enumerate(zip(encodings, starts, parts, strict=True)):
            ids = np.asarray(e.ids, np.int64)
            marks = ids == sep
            if np.count_nonzero(marks) != len(part) - 1:
                redo.append(j)
            out.append(FlatIds(ids[~marks], (np.cumsum(marks) + s)[~marks]))
        if redo:
            redone = by_word_ids([parts[j] for j in redo], [starts[j] for j in redo])
            for j, flat in zip(redo, redone, strict=True):
                out[j] = flat
        return out

    def encode(texts: list[str]) -> FlatIds:
        starts = list(range(0, len(texts), chunk))
        parts = [texts[s : s + chunk] for s in starts]
        flats = (by_word_ids if separator is None else by_separators)(parts, starts)
        if not flats:
            return FlatIds(np.zeros(0, np.int64), np.zeros(0, np.int64))
        return FlatIds(*(np.concatenate(column) for column in zip(*flats, strict=True)))

    return encode


def _separator(backend) -> tuple[str, int] | None:
    """(text, id) of a special token the backend splits out of any string as one id, whatever
    surrounds it: matched on the raw text, stripping nothing; None if it has none."""
    if getattr(backend, "encode_special_tokens", False):  # specials are then split as text
        return None
    for token_id, token in sorted(backend.get_added_tokens_decoder().items()):
        plain = not (token.normalized or token.lstrip or token.rstrip or token.single_word)
        if token.special and plain and token.content:
            return token.content, token_id
    return None


# pre-tokenizers that work on each piece between special tokens alone, wherever it sits
_PIECEWISE = frozenset(
    {"ByteLevel", "Whitespace", "WhitespaceSplit", "BertPreTokenizer", "Split", "Punctuation"}
    | {"Digits", "UnicodeScripts", "CharDelimiterSplit", "Metaspace"}
)


def _pieces_alone(backend) -> bool:
    """Whether `a<sep>b` pre-tokenizes `a` and `b` as the strings `a` and `b` alone: the special
    token is split out of the raw text first and each piece is normalized on its own, so only
    the pre-tokenizer can tell a piece from a string, by where the piece starts (Metaspace's
    `first`, or any pre-tokenizer not known here)."""
    return all(
        step["type"] in _PIECEWISE
        and not (step["type"] == "Metaspace" and metaspace_scheme(step) == "first")
        for step in pretokenizer_steps(component_spec(backend.pre_tokenizer))
    )
