"""The surface forms of a word the public OFA code tokenizes, and the distinct strings matching
encodes for them: forms that are the same string, or that the tokenizer's dummy prefix makes
tokenize alike (`LeadingSpace`), are encoded once and counted as often as they occur."""

from __future__ import annotations

from collections import Counter
from itertools import chain
from typing import NamedTuple

import numpy as np

from hyperofa.match.prefix import LeadingSpace

WORD_INTERNAL = "$"  # ColexNet+ marks a word-internal piece; the public code reads it as a space


class Forms(NamedTuple):
    """`texts[i]` stands for `counts[i]` surface forms of word `owners[i]` (int64, int8)."""

    texts: list[str]
    owners: np.ndarray
    counts: np.ndarray


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


def surface_forms(words: list[str], space: LeadingSpace | None) -> Forms:
    """The distinct strings to encode for `words` and the forms each stands for: the ids of
    `texts[i]` are those of each of its `counts[i]` forms of word `owners[i]` (the word's index
    in `words`). A word's counts add up to its number of forms."""
    texts = [w.replace(WORD_INTERNAL, " ") for w in words]
    internal = np.fromiter((w[:1] == WORD_INTERNAL for w in words), dtype=bool, count=len(words))
    rows = np.flatnonzero(internal)
    # " " + r with r starting with a character other than a space: no form's space is doubtful
    regular = np.fromiter((texts[i][1:2] not in ("", " ") for i in rows.tolist()), bool, len(rows))
    parts = [
        _plain_forms(texts, np.flatnonzero(~internal), space),
        _internal_forms(texts, rows[regular], space),
        _counted_forms(words, rows[~regular], space),
    ]
    return Forms(
        list(chain.from_iterable(part.texts for part in parts)),
        np.concatenate([part.owners for part in parts]),
        np.concatenate([part.counts for part in parts]),
    )


def _capitalized(texts: list[str]) -> list[str]:
    """Each text with its first character upper-cased (the public code's `w[0].upper() + w[1:]`)."""
    return [t[:1].upper() + t[1:] for t in texts]


def _drops(space: LeadingSpace | None, texts: list[str]) -> np.ndarray:
    return np.zeros(len(texts), dtype=bool) if space is None else space.drops(texts)


def _plain_forms(texts: list[str], rows: np.ndarray, space: LeadingSpace | None) -> Forms:
    """Words without a leading `$`: forms t, " " + t, " " + T (T = t capitalized), in bulk.

    " " + t is t where the prefix drops; " " + T is " " + t where T == t, else T where the
    prefix drops; an empty word has the two forms "" and " "."""
    t = [texts[i] for i in rows.tolist()]
    caps = _capitalized(t)
    same = np.fromiter(map(str.__eq__, caps, t), dtype=bool, count=len(t))
    filled = np.fromiter(map(bool, t), dtype=bool, count=len(t))
    drop_t, drop_cap = _drops(space, t), _drops(space, caps)
    count_t = 1 + drop_t + (drop_t & same)
    spaced = ~drop_t  # " " + t, carrying the capitalized form when it is the same
    capital = filled & ~same
    out = t + [" " + s for s, keep in zip(t, spaced.tolist(), strict=True) if keep]
    out += [
        c if d else " " + c
        for c, keep, d in zip(caps, capital.tolist(), drop_cap.tolist(), strict=True)
        if keep
    ]
    owners = np.concatenate([rows, rows[spaced], rows[capital]])
    counts = np.concatenate([count_t, 1 + (same & filled)[spaced], np.ones(capital.sum())])
    return Forms(out, owners.astype(np.int64), counts.astype(np.int8))


def _internal_forms(texts: list[str], rows: np.ndarray, space: LeadingSpace | None) -> Forms:
    """Words `$…` whose text is " " + r, r starting with anything but a space: forms " " + r,
    "  " + r and R (r capitalized), in bulk. " " + r is r where the prefix drops, and then
    stands for R as well where R == r; "  " + r never drops its space."""
    rest = [texts[i][1:] for i in rows.tolist()]
    caps = _capitalized(rest)
    drop = _drops(space, rest)
    merged = drop & np.fromiter(map(str.__eq__, caps, rest), dtype=bool, count=len(rest))
    out = [r if d else " " + r for r, d in zip(rest, drop.tolist(), strict=True)]
    out += ["  " + r for r in rest]
    out += [c for c, m in zip(caps, merged.tolist(), strict=True) if not m]
    owners = np.concatenate([rows, rows, rows[~merged]])
    counts = np.concatenate([1 + merged, np.ones(len(rows)), np.ones(len(rows) - merged.sum())])
    return Forms(out, owners.astype(np.int64), counts.astype(np.int8))


def _counted_forms(words: list[str], rows: np.ndarray, space: LeadingSpace | None) -> Forms:
    """Any words (here: `$` words the bulk paths leave): each form, or the form without its
    leading space where the prefix drops it, counted per word."""
    forms = [word_variants(words[row]) for row in rows.tolist()]
    flat = list(chain.from_iterable(forms))
    bare = [f[1:] if f[:1] == " " else "" for f in flat]
    drop = _drops(space, bare).tolist()
    keys = [b if d else f for f, b, d in zip(flat, bare, drop, strict=True)]
    texts: list[str] = []
    owners: list[int] = []
    counts: list[int] = []
    end = 0
    for row, word_forms in zip(rows.tolist(), forms, strict=True):
        start, end = end, end + len(word_forms)
        for text, n in Counter(keys[start:end]).items():
            texts.append(text)
            owners.append(row)
            counts.append(n)
    return Forms(texts, np.asarray(owners, dtype=np.int64), np.asarray(counts, dtype=np.int8))
