"""Token standardization so that vocabularies of different tokenizer families can be compared.

The public OFA code's rules (cisnlp/ofa `ofa/utils.py::get_token_standardization_func`): a
vocabulary with more than 100 tokens starting with `▁` is sentencepiece, and its tokens get `▁` →
space; else one with more than 100 tokens starting with `##` is WordPiece, and each token is
decoded, then `##x` → `x` and `x` → ` x`; anything else (byte-level BPE …) is decoded. Either way
"a leading space means word-initial", so `▁haus` (XLM-R), `haus` (BERT) and `Ġhaus` (GPT-2) all
become ` haus`, while a continuation piece stays bare: `haus` in a SentencePiece vocabulary (also
one without a dummy prefix, Gemma, where it is also a text's first word), `##haus`, `haus`.

Ours adds one kind, after those two: a vocabulary with more than 100 tokens starting with `Ġ` is
byte-level (GPT-2, RoBERTa, Llama 3, Qwen), and each token is read back from its bytes
(`byte_level.byte_level_text`). Decoding each id alone, as the public code does, gives `�` for every
token that ends inside a multi-byte character, so hundreds of distinct tokens standardize alike
(the highest id stands for all of them) and a target token copies an unrelated source row; bytes
that are not valid UTF-8 are written `<0xNN>` instead, the spelling SentencePiece's byte-fallback
pieces keep, so a lone byte matches across the two families.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hyperofa.vocab.byte_level import byte_level_text

SENTENCEPIECE_SPACE = "\u2581"  # ▁
WORDPIECE_CONTINUATION = "##"
BYTE_LEVEL_SPACE = "\u0120"  # Ġ, the byte-level spelling of a space
SENTENCEPIECE, WORDPIECE, BYTE_LEVEL, DECODED = (
    "sentencepiece",
    "wordpiece",
    "byte-level",
    "decoded",
)


def vocab_list(vocab: dict[str, int]) -> list[str]:
    """Token strings ordered by id; ids missing from `vocab` become empty strings."""
    size = max(vocab.values()) + 1 if vocab else 0
    tokens = [""] * size
    for token, idx in vocab.items():
        tokens[idx] = token
    return tokens


def vocab_kind(tokens: Iterable[str]) -> str:
    """OFA's heuristics: SENTENCEPIECE if more than 100 tokens start with `▁`, else WORDPIECE if
    more than 100 start with `##`; then ours: BYTE_LEVEL if more than 100 start with `Ġ`; else
    DECODED."""
    tokens = list(tokens)
    for prefix, kind in (
        (SENTENCEPIECE_SPACE, SENTENCEPIECE),
        (WORDPIECE_CONTINUATION, WORDPIECE),
        (BYTE_LEVEL_SPACE, BYTE_LEVEL),
    ):
        if sum(1 for t in tokens if t.startswith(prefix)) > 100:
            return kind
    return DECODED


def standardize(tokens: Sequence[str], kind: str | None = None) -> list[str]:
    """Token strings in the common form: SENTENCEPIECE `▁` → space (byte-fallback pieces `<0xNN>`
    stay); WORDPIECE `##x` → `x` (`##` alone → ``), any other `x` → ` x` (`[CLS]` too, as the
    public code does); BYTE_LEVEL the text of the token's bytes (`Ġhaus` → ` haus`, invalid UTF-8
    as `<0xNN>`; a token outside the byte alphabet as it is); DECODED tokens are left as they are
    (the public code decodes them: `standardized_vocab` does)."""
    kind = vocab_kind(tokens) if kind is None else kind
    if kind == BYTE_LEVEL:
        return [byte_level_text(t) for t in tokens]
    if kind == SENTENCEPIECE:
        return [t.replace(SENTENCEPIECE_SPACE, " ") for t in tokens]
    if kind == WORDPIECE:
        return [
            t[len(WORDPIECE_CONTINUATION) :] if t.startswith(WORDPIECE_CONTINUATION) else " " + t
            for t in tokens
        ]
    return list(tokens)


def standardized_vocab(tokenizer) -> list[str | None]:
    """Each id's token of a transformers tokenizer in the public OFA code's standard form (None
    for ids absent from its vocabulary): sentencepiece from `convert_ids_to_tokens`, the others
    from decoding each id alone (`tokenizer.decode(id)`), as there; byte-level (ours) from the
    token strings, added tokens as they are written."""
    vocab = tokenizer.get_vocab()
    ids = sorted(vocab.values())
    kind = vocab_kind(vocab)
    if kind == SENTENCEPIECE:
        strings = standardize(tokenizer.convert_ids_to_tokens(ids), kind)
    elif kind == BYTE_LEVEL:
        added = tokenizer.get_added_vocab()
        tokens = tokenizer.convert_ids_to_tokens(ids)
        strings = [t if t in added else byte_level_text(t) for t in tokens]
    else:
        strings = standardize(tokenizer.batch_decode([[i] for i in ids]), kind)
    out: list[str | None] = [None] * (ids[-1] + 1 if ids else 0)
    for i, s in zip(ids, strings, strict=True):
        out[i] = s
    return out
