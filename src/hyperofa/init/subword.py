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
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from tokenizers import Tokenizer, pre_tokenizers

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


def _without(data: dict, excluded: set[int]) -> dict:
    """The tokenizer JSON with the model unable to produce `excluded` ids where it can: Unigram
    pieces scored EXCLUDED_SCORE, BPE merges that build them dropped (ids stay as they are)."""
    model = data["model"]
    if model["type"] == "Unigram":
        for i in excluded:
            model["vocab"][i][1] = EXCLUDED_SCORE
    elif model["type"] == "BPE":
        names = {t for t, i in model["vocab"].items() if i in excluded}
        pairs = [m.split(" ", 1) if isinstance(m, str) else m for m in model["merges"]]
        model["merges"] = [
            m for m, (a, b) in zip(model["merges"], pairs, strict=True) if a + b not in names
        ]
    return data


class SourcePieces:
    """Splits surface forms into source token ids, keeping word position (a leading space =
    word-initial). `excluded` ids are never returned: a held-out view of the source vocabulary
    (Unigram and BPE models are rebuilt so they avoid them where another split exists)."""

    def __init__(self, tokenizer, excluded: Sequence[int] = ()):
        backend = _backend(tokenizer)
        self.excluded = {int(i) for i in excluded}
        self.unk = tokenizer.unk_token_id
        vocab = tokenizer.get_vocab()
        self.kind, self.byte_level = vocab_kind(vocab), _is_byte_level(backend)
        self.model = backend.model
        self.model_type = type(self.model).__name__
        if self.model_type == "WordPiece":
            self.vocab = {t: i for t, i in vocab.items() if i not in self.excluded}
            self.prefix = self.model.continuing_subword_prefix
        elif self.excluded:
            data = _without(json.loads(backend.to_str()), self.excluded)
            self.model = Tokenizer.from_str(json.dumps(data)).model

    def ids(self, form: str | None) -> list[int]:
        """Source ids of one surface form; [] when it has none (or only unknown pieces)."""
        if not form:
            return []
        if self.model_type == "WordPiece":
            found = wordpiece(self.vocab, form.lstrip(" "), self.prefix, not form.startswith(" "))
        else:
            found = [t.id for t in self.model.tokenize(self._native(form))]
        return [i for i in found if i != self.unk and i not in self.excluded]

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
