"""Token standardization so that vocabularies of different tokenizer families can be compared."""

from __future__ import annotations

from collections.abc import Sequence

SENTENCEPIECE_SPACE = "\u2581"  # ▁
WORDPIECE_CONTINUATION = "##"


def vocab_list(vocab: dict[str, int]) -> list[str]:
    """Token strings ordered by id; ids missing from `vocab` become empty strings."""
    size = max(vocab.values()) + 1 if vocab else 0
    tokens = [""] * size
    for token, idx in vocab.items():
        tokens[idx] = token
    return tokens


def is_sentencepiece(tokens: Sequence[str]) -> bool:
    """OFA's rule: a vocabulary is sentencepiece if more than 100 entries start with `▁`."""
    return sum(1 for t in tokens if t.startswith(SENTENCEPIECE_SPACE)) > 100


def standardize(tokens: Sequence[str], sentencepiece: bool | None = None) -> list[str]:
    """Map tokens to a common surface form: `▁` → leading space; WordPiece `##x` → `x`, `x` → ` x`.

    WordPiece marks the continuation, sentencepiece marks the word start; both become "a leading
    space means word-initial", so `▁haus` (XLM-R) and `haus` (BERT) compare equal.
    """
    if sentencepiece is None:
        sentencepiece = is_sentencepiece(tokens)
    if sentencepiece:
        return [t.replace(SENTENCEPIECE_SPACE, " ") for t in tokens]
    out = []
    for t in tokens:
        if t.startswith(WORDPIECE_CONTINUATION) and len(t) > 2:
            out.append(t[2:])
        elif t.startswith("[") and t.endswith("]"):
            out.append(t)  # [CLS], [unused0] … stay as they are
        else:
            out.append(" " + t)
    return out
