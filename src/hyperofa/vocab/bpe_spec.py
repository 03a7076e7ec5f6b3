"""BPE tokenizer.json specs: the checked source, what an extension appends, which merges it may add.

A `tokenizers` BPE model splits a pre-token into characters (one outside the vocabulary becomes its
byte-fallback pieces `<0xNN>`, or the unknown token), then merges, again and again, the adjacent
pair with the lowest rank. New merges rank after every source merge and make pieces the source
lacks, so on any pre-token the extended model first produces the source's segmentation and then can
only apply new merges. A pre-token therefore keeps its source tokenization exactly when (1) no
adjacent pair of its source tokenization is a new merge, (2) none of its characters is a new piece
(the source spelled it in bytes), and (3) with `ignore_merges` (Llama 3: a pre-token that is a piece
is taken whole) it is not itself a new piece. `MergeRules` refuses the merges that break (1) and (3)
for the protected text; the caller leaves out the characters of (2).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from tokenizers import models
from transformers import PreTrainedTokenizerFast

from hyperofa.errors import IncompatibleInputsError
from hyperofa.vocab.sentencepiece import METASPACE

Merge = tuple[str, str]
BYTE_PIECE = re.compile(r"<0x[0-9A-F]{2}>")


@dataclass(frozen=True)
class Extension:
    """New pieces (ids source_size + i, in order) and new merges (ranked after the source's)."""

    pieces: list[str]
    merges: list[Merge]


def bpe_spec(source: PreTrainedTokenizerFast) -> dict[str, Any]:
    """The source's tokenizer.json as a dict, checked to be a BPE without word prefix or suffix and
    with contiguous ids; added tokens whose ids lie past the model vocab get an entry there, so new
    pieces start after them. Without truncation and padding (left there by transformers calls)."""
    spec = json.loads(source.backend_tokenizer.to_str())
    model = spec["model"]
    if model.get("type") != "BPE":
        raise IncompatibleInputsError(f"extend_bpe: the source's model is {model.get('type')}")
    if model.get("continuing_subword_prefix") or model.get("end_of_word_suffix"):
        raise IncompatibleInputsError(
            "extend_bpe: the source BPE marks word-internal or word-final pieces "
            "(continuing_subword_prefix / end_of_word_suffix); only SentencePiece-style and "
            "byte-level BPE can be extended"
        )
    vocab = dict(model["vocab"])
    for token in spec.get("added_tokens", []):
        vocab.setdefault(token["content"], token["id"])
    if sorted(vocab.values()) != list(range(len(vocab))):
        raise IncompatibleInputsError(
            f"extend_bpe: the source's {len(vocab):,} vocabulary and added-token ids are not "
            f"exactly 0..{len(vocab) - 1}; appended ids would collide or leave gaps"
        )
    return {**spec, "model": {**model, "vocab": vocab}, "padding": None, "truncation": None}


def source_merges(model: dict[str, Any]) -> list[Merge]:
    """The merges of a BPE model spec as pairs (tokenizer.json has `[a, b]`, older ones `"a b"`)."""
    return [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in model["merges"]]


def extended_spec(spec: dict[str, Any], ext: Extension) -> dict[str, Any]:
    """A copy of a BPE spec (ids 0..size-1) with `ext`'s pieces and merges appended."""
    vocab = dict(spec["model"]["vocab"])
    for piece in ext.pieces:
        vocab[piece] = len(vocab)
    merges = [list(m) for m in source_merges(spec["model"])] + [list(m) for m in ext.merges]
    return {**spec, "model": {**spec["model"], "vocab": vocab, "merges": merges}}


def bpe_model(model: dict[str, Any], pieces: list[str]) -> models.BPE:
    """The model of a BPE spec with `pieces` appended (no merges for them), built directly: half
    the time of a tokenizer.json round trip for Gemma's 262k pieces and 515k merges."""
    vocab = dict(model["vocab"])
    for piece in pieces:
        vocab[piece] = len(vocab)
    return models.BPE(
        vocab,
        source_merges(model),
        unk_token=model.get("unk_token"),
        fuse_unk=bool(model.get("fuse_unk")),
        byte_fallback=bool(model.get("byte_fallback")),
        ignore_merges=bool(model.get("ignore_merges")),
    )


class MergeRules:
    """Which pair (a, b) a new merge may join: never a special, added, unknown or byte-fallback
    piece; at most `max_length` characters; never a protected pair or (with `ignore_merges`) a
    protected pre-token. `metaspace`: a piece holds `▁` only in front and one kind of character
    (letters and marks, digits, or the rest), as SentencePiece's pieces do. Digits are joined only
    if the source has a piece with two digits in a row. Counts its refusals for protection."""

    def __init__(
        self,
        spec: dict[str, Any],
        protected: Iterable[tuple[str, list[str]]],
        *,
        max_length: int,
        metaspace: bool,
    ) -> None:
        model = spec["model"]
        added = {t["content"] for t in spec.get("added_tokens", [])}
        self.atoms = added | {model.get("unk_token")}
        self.byte_fallback = bool(model.get("byte_fallback"))
        self.max_length, self.metaspace = max_length, metaspace
        self.digits = any(re.search(r"\d\d", p) for p in model["vocab"] if p not in added)
        self.pairs: set[Merge] = set()
        self.words: set[str] = set()
        for word, tokens in protected:
            self.pairs.update(pairwise(tokens))
            if model.get("ignore_merges"):
                self.words.add(word)
        self.refused_for_protected = 0

    def __call__(self, a: str, b: str) -> bool:
        if not self._well_formed(a, b):
            return False
        if (a, b) in self.pairs or a + b in self.words:
            self.refused_for_protected += 1
            return False
        return True

    def _well_formed(self, a: str, b: str) -> bool:
        piece = a + b
        if len(piece) > self.max_length or a in self.atoms or b in self.atoms:
            return False
        if self.byte_fallback and (BYTE_PIECE.fullmatch(a) or BYTE_PIECE.fullmatch(b)):
            return False
        if not self.digits and a[-1].isdigit() and b[0].isdigit():
            return False
        return not self.metaspace or _one_kind(piece)


def _one_kind(piece: str) -> bool:
    """`▁` only in front, and the rest letters/marks only, digits only, or neither only."""
    body = piece.lstrip(METASPACE)
    if METASPACE in body:
        return False
    kinds = {_char_kind(c) for c in body}
    return len(kinds) <= 1


def _char_kind(char: str) -> str:
    category = unicodedata.category(char)
    if category[0] in "LM":
        return "letter"
    return "digit" if category == "Nd" else "other"
