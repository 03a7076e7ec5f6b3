"""Token standardization so that vocabularies of different tokenizer families can be compared.

The public OFA code's rules (cisnlp/ofa `ofa/utils.py::get_token_standardization_func`): a
vocabulary with more than 100 tokens starting with `▁` is sentencepiece, and its tokens get `▁` →
space; else one with more than 100 tokens starting with `##` is WordPiece, and each token is
decoded, then `##x` → `x` and `x` → ` x`; anything else (byte-level BPE …) is decoded. Either way
"a leading space means word-initial", so `▁haus` (XLM-R), `haus` (BERT) and `Ġhaus` (GPT-2) all
become ` haus`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

SENTENCEPIECE_SPACE = "\u2581"  # ▁
WORDPIECE_CONTINUATION = "##"
SENTENCEPIECE, WORDPIECE, DECODED = "sentencepiece", "wordpiece", "decoded"


def vocab_list(vocab: dict[str, int]) -> list[str]:
    """Token strings ordered by id; ids missing from `vocab` become empty strings."""
    size = max(vocab.values()) + 1 if vocab else 0
    tokens = [""] * size
    for token, idx in vocab.items():
        tokens[idx] = token
    return tokens


def vocab_kind(tokens: Iterable[str]) -> str:
    """OFA's heuristics: SENTENCEPIECE if more than 100 tokens start with `▁`, else WORDPIECE if
    more than 100 start with `##`, else DECODED."""
    tokens = list(tokens)
    if sum(1 for t in tokens if t.startswith(SENTENCEPIECE_SPACE)) > 100:
        return SENTENCEPIECE
    if sum(1 for t in tokens if t.startswith(WORDPIECE_CONTINUATION)) > 100:
        return WORDPIECE
    return DECODED


def standardize(tokens: Sequence[str], kind: str | None = None) -> list[str]:
    """Token strings in the common form: SENTENCEPIECE `▁` → space; WORDPIECE `##x` → `x` (`##`
    alone → ``), any other `x` → ` x` (`[CLS]` too, as the public code does); DECODED tokens are
    left as they are (the public code decodes them: `standardized_vocab` does)."""
    kind = vocab_kind(tokens) if kind is None else kind
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
    from decoding each id alone (`tokenizer.decode(id)`), as there."""
    vocab = tokenizer.get_vocab()
    ids = sorted(vocab.values())
    kind = vocab_kind(vocab)
    if kind == SENTENCEPIECE:
        strings = standardize(tokenizer.convert_ids_to_tokens(ids), kind)
    else:
        strings = standardize(tokenizer.batch_decode([[i] for i in ids]), kind)
    out: list[str | None] = [None] * (ids[-1] + 1 if ids else 0)
    for i, s in zip(ids, strings, strict=True):
        out[i] = s
    return out
