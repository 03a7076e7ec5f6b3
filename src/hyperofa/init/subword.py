"""Token surface forms, and their pieces under another tokenizer's model (for `fvt`).

A surface form is a token's text with a leading space when the token starts a word — the
standardization the copy step uses (`vocab.standardize`): XLM-R's `▁haus` and BERT's `haus` are
` haus`; `aus` and BERT's `##aus` are `aus`; a byte-level BPE token is decoded (`Ġhaus` → ` haus`).
A byte-fallback piece `<0xNN>` is its character when the byte is ASCII; any other byte is a part
of a UTF-8 sequence with no text of its own, so it has no surface form (None).

`SourcePieces` splits a surface form with the source tokenizer's *model*, after mapping it to the
model's own alphabet (` ` → `▁` for SentencePiece vocabularies, bytes → byte-level characters for
byte-level BPE, the `##` prefix for WordPiece continuations): the tokenizer's pipeline would add a
word boundary to every string (a dummy `▁` prefix, a WordPiece word start), so a continuation piece
would become word-initial pieces. The normalizer is skipped: target pieces are normalized text
already. Unknown pieces (`<unk>`) are dropped.

A held-out view of a Unigram vocabulary (`excluded` ids) splits a batch of forms with a model of
only the pieces that occur in them: the lattice of a form holds only its substrings, so the split
is the full model's, and building it costs the batch's pieces instead of the whole vocabulary.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tokenizers import Tokenizer, models, pre_tokenizers

from hyperofa.errors import IncompatibleInputsError
from hyperofa.vocab.standardize import (
    DECODED,
    SENTENCEPIECE,
    SENTENCEPIECE_SPACE,
    standardize,
    vocab_kind,
)

BYTE_PIECE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")
EXCLUDED_SCORE = -1e10  # a Unigram piece left out of a held-out view: never the better path


def surface_forms(tokenizer, ids: Sequence[int]) -> list[str | None]:
    """The surface form of each of `ids` (None: no text of its own, or not in the vocabulary)."""
    ids = [int(i) for i in ids]
    kind = vocab_kind(tokenizer.get_vocab())
    tokens = tokenizer.convert_ids_to_tokens(ids)
    if kind == DECODED:
        forms: list[str | None] = [tokenizer.decode([i]) for i in ids]
    else:
        forms = list(standardize([t or "" for t in tokens], kind))
    for n, token in enumerate(tokens):
        byte = BYTE_PIECE.match(token or "")
        if token is None or (byte is not None and int(byte[1], 16) >= 0x80):
            forms[n] = None
        elif byte is not None:
            forms[n] = chr(int(byte[1], 16))
    return forms


def _backend(tokenizer) -> Tokenizer:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise IncompatibleInputsError(
            "fvt needs a fast (tokenizer.json) source tokenizer to split pieces with its model"
        )
    return backend


def _is_byte_level(backend: Tokenizer) -> bool:
    pre = backend.pre_tokenizer
    return pre is not None and b"ByteLevel" in pre.__getstate__()


def _without_merges(data: dict, excluded: set[int]) -> dict:
    """A BPE tokenizer's JSON without the merges that build `excluded` ids (ids stay as they
    are), so its model produces them only as initial characters."""
    model = data["model"]
    names = {t for t, i in model["vocab"].items() if i in excluded}
    pairs = [m.split(" ", 1) if isinstance(m, str) else m for m in model["merges"]]
    model["merges"] = [
        m for m, (a, b) in zip(model["merges"], pairs, strict=True) if a + b not in names
    ]
    return data


@dataclass(frozen=True)
class UnigramVocab:
    """A Unigram model's pieces: (piece, score) by id, the id of each piece, the longest piece."""

    pieces: list[tuple[str, float]]
    ids: dict[str, int]
    unk_id: int
    byte_fallback: bool
    longest: int

    def restricted(
        self, texts: Sequence[str], excluded: set[int]
    ) -> tuple[models.Unigram, list[int]]:
        """A Unigram model of the pieces occurring in `texts` (excluded ones scored
        EXCLUDED_SCORE) and the full ids of its pieces. It keeps the unknown piece, the byte
        pieces with byte fallback, and one excluded piece, so its lowest score — which sets the
        unknown-character penalty — is the full held-out model's."""
        keep = {self.unk_id}
        if inside := [i for i in excluded if i < len(self.pieces)]:
            keep.add(min(inside))
        if self.byte_fallback:
            keep.update(self.ids[f"<0x{b:02X}>"] for b in range(256))
        for text in texts:
            for start in range(len(text)):
                for end in range(start + 1, min(len(text), start + self.longest) + 1):
                    if (found := self.ids.get(text[start:end])) is not None:
                        keep.add(found)
        ids = sorted(keep)
        pieces = [
            (self.pieces[i][0], EXCLUDED_SCORE if i in excluded else self.pieces[i][1]) for i in ids
        ]
        return models.Unigram(pieces, ids.index(self.unk_id), self.byte_fallback), ids


def unigram_vocab(backend: Tokenizer) -> UnigramVocab:
    """The Unigram vocabulary of a tokenizer's model."""
    model = json.loads(backend.to_str())["model"]
    pieces = [(str(p), float(score)) for p, score in model["vocab"]]
    return UnigramVocab(
        pieces,
        {p: i for i, (p, _) in enumerate(pieces)},
        model["unk_id"],
        bool(model.get("byte_fallback", False)),
        max(len(p) for p, _ in pieces),
    )


class SourcePieces:
    """Splits surface forms into source token ids, keeping word position (a leading space =
    word-initial). `excluded` ids are never returned: a held-out view of the source vocabulary
    (Unigram and BPE models are rebuilt so they avoid them where another split exists)."""

    def __init__(self, tokenizer, excluded: Sequence[int] = ()):
        self.backend = _backend(tokenizer)
        self.unk = tokenizer.unk_token_id
        self.source_vocab = tokenizer.get_vocab()
        self.kind = vocab_kind(self.source_vocab)
        self.byte_level = _is_byte_level(self.backend)
        self.model_type = type(self.backend.model).__name__
        self._parsed: dict[str, UnigramVocab] = {}  # shared with every `without` view
        self._exclude(excluded)

    def without(self, excluded: Sequence[int]) -> SourcePieces:
        """The held-out view without `excluded` ids (and none of this view's exclusions)."""
        view = copy.copy(self)
        view._exclude(excluded)
        return view

    def _exclude(self, excluded: Sequence[int]) -> None:
        self.excluded = {int(i) for i in excluded}
        self.model, self.unigram = self.backend.model, None
        if self.model_type == "WordPiece":
            self.vocab = {t: i for t, i in self.source_vocab.items() if i not in self.excluded}
            self.prefix = self.model.continuing_subword_prefix
        elif self.excluded and self.model_type == "Unigram":
            if not self._parsed:
                self._parsed["unigram"] = unigram_vocab(self.backend)
            self.unigram = self._parsed["unigram"]
        elif self.excluded and self.model_type == "BPE":
            data = _without_merges(json.loads(self.backend.to_str()), self.excluded)
            self.model = Tokenizer.from_str(json.dumps(data)).model

    def ids(self, form: str | None) -> list[int]:
        """Source ids of one surface form; [] when it has none (or only unknown pieces)."""
        return self.split([form])[0]

    def split(self, forms: Sequence[str | None], limit: int | None = None) -> list[list[int]]:
        """`ids` of each form, less ids ≥ `limit` (pieces without a source row) when given."""
        if self.model_type == "WordPiece":
            found = [
                wordpiece(self.vocab, form.lstrip(" "), self.prefix, not form.startswith(" "))
                if form
                else []
                for form in forms
            ]
        else:
            texts = [self._native(form) if form else "" for form in forms]
            model, ids = self.model, None
            if self.unigram is not None:
                model, ids = self.unigram.restricted(texts, self.excluded)
            found = [[t.id for t in model.tokenize(text)] if text else [] for text in texts]
            if ids is not None:
                found = [[ids[i] for i in piece_ids] for piece_ids in found]
        limit = float("inf") if limit is None else limit
        return [
            [i for i in f if i != self.unk and i not in self.excluded and i < limit] for f in found
        ]

    def _native(self, form: str) -> str:
        """The form in the model's alphabet."""
        if self.kind == SENTENCEPIECE:
            return form.replace(" ", SENTENCEPIECE_SPACE)
        if self.byte_level:
            return BYTE_LEVEL.pre_tokenize_str(form)[0][0]
        return form


BYTE_LEVEL = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)


def wordpiece(vocab: dict[str, int], text: str, prefix: str, continuation: bool) -> list[int]:
    """Greedy longest-match-first WordPiece over `vocab`, as the WordPiece model splits one word,
    except that a `continuation` word's first piece also takes `prefix`; [] when a part matches
    nothing (the model would give one [UNK] for the whole word)."""
    ids, start = [], 0
    while start < len(text):
        lead = prefix if start > 0 or continuation else ""
        for end in range(len(text), start, -1):
            if (piece := lead + text[start:end]) in vocab:
                ids.append(vocab[piece])
                break
        else:
            return []
        start = end
    return ids
