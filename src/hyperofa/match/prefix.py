"""When `s` and `" " + s` tokenize alike: a tokenizer's dummy prefix, read from its config.

The public OFA code tokenizes both `w` and `" " + w` for every word (DESIGN §3.1). A
SentencePiece-style tokenizer prepends `▁` to a string that does not start with one, and XLM-R's
first splits on whitespace, so for most words both give the same ids: matching encodes one and
counts it twice (`hyperofa.match.forms`). It relies on that only where the config guarantees it:

1. the tokenizer: every normalizer maps each grapheme cluster on its own (Unicode normal forms,
   case, accents, SentencePiece's precompiled map, BERT's, a `Replace` that cannot reach the
   leading space or make one), the first pre-tokenizer drops whitespace (WhitespaceSplit,
   Whitespace, BERT) or adds the prefix (Metaspace `always`/`first`, ByteLevel
   `add_prefix_space`), no later one depends on a piece's position, and every added token is
   matched on the raw text;
2. the string `s`: its first character starts a grapheme cluster of its own after a space,
   normalizes to a string starting with neither whitespace nor a Metaspace replacement, and
   after a space normalizes to the normalized space followed by that; `s` holds no added token
   (those are split out first: `" <mask>"` is `▁`, `<mask>`).

Builders check the rule on a sample of the strings before relying on it (`confirm`).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable

import numpy as np
import regex

_LOCAL_NORMALIZERS = frozenset(
    {"NFC", "NFD", "NFKC", "NFKD", "Lowercase", "StripAccents", "Precompiled", "BertNormalizer"}
    | {"Nmt", "Strip"}
)
_DROP_WHITESPACE = frozenset({"WhitespaceSplit", "Whitespace", "BertPreTokenizer"})
_SPM_SPACES = " {2,}"  # transformers' SentencePiece conversions collapse runs of spaces
_GRAPHEME = regex.compile(r"\X")


class LeadingSpace:
    """Which strings tokenize exactly as they do after a space, for one tokenizer (see above)."""

    def __init__(self, normalize: Callable[[str], str], marks: frozenset[str], added: list[str]):
        self._normalize, self._marks = normalize, marks | {" "}
        contents = sorted((a for a in added if a), key=len, reverse=True)
        self._added = regex.compile("|".join(map(regex.escape, contents))) if contents else None
        self._first: dict[str, bool] = {}

    @classmethod
    def of(cls, backend) -> LeadingSpace | None:
        """The rule of a `tokenizers.Tokenizer`, or None when its config does not promise it."""
        added = list(backend.get_added_tokens_decoder().values())
        normalizer = backend.normalizer
        if any(a.normalized for a in added) or not _local(component_spec(normalizer)):
            return None
        marks = _prefix_marks(component_spec(backend.pre_tokenizer))
        if marks is None:
            return None
        normalize = normalizer.normalize_str if normalizer is not None else str
        return cls(normalize, marks, [a.content for a in added])

    def drops(self, texts: list[str]) -> np.ndarray:
        """bool (n,): `texts[i]` tokenizes to the ids of `" " + texts[i]`."""
        firsts = [t[:1] for t in texts]
        for c in set(firsts).difference(self._first):
            self._first[c] = self._first_char_ok(c)
        mask = np.fromiter(map(self._first.__getitem__, firsts), dtype=bool, count=len(texts))
        if self._added is not None and mask.any():
            mask[holding(self._added, texts)] = False
        return mask

    def confirm(self, encode: Callable, texts: list[str]) -> bool:
        """Whether `texts` (strings `drops` accepts) give the same ids as after a space."""
        alone, spaced = encode(texts), encode([" " + t for t in texts])
        return all(np.array_equal(a, b) for a, b in zip(alone, spaced, strict=True))

    def _first_char_ok(self, c: str) -> bool:
        if not c or c.isspace() or c in self._marks:
            return False
        if len(_GRAPHEME.match(" " + c).group()) != 1:  # c would extend the space's grapheme
            return False
        norm = self._normalize(c)
        if not norm or norm[0].isspace() or norm[0] in self._marks:
            return False
        return self._normalize(" " + c) == self._normalize(" ") + norm


def holding(pattern: regex.Pattern, texts: list[str]) -> np.ndarray:
    """Positions of the texts in which `pattern` matches (one per match, ascending), by one
    search over the texts joined."""
    joined = "\x00".join(texts)
    ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1)
    starts = [m.start() for m in pattern.finditer(joined)]
    return np.searchsorted(ends, np.asarray(starts, dtype=np.int64), side="right")


def component_spec(component) -> dict | None:
    """A normalizer's or pre-tokenizer's config (its part of tokenizer.json; the whole file is
    not parsed: its vocabulary is most of it)."""
    return None if component is None else json.loads(component.__getstate__())


def _local(node: dict | None) -> bool:
    """The normalizer maps graphemes on their own and leaves a leading space alone."""
    if node is None:
        return True
    if node["type"] == "Sequence":
        return all(_local(n) for n in node["normalizers"])
    if node["type"] == "Replace":
        return _harmless_replace(node["pattern"], node["content"])
    return node["type"] in _LOCAL_NORMALIZERS


def _harmless_replace(pattern: dict, content: str) -> bool:
    if "Regex" in pattern:
        return pattern["Regex"] == _SPM_SPACES and content == " "
    text = pattern.get("String", "")
    return (
        bool(text)
        and not any(c.isspace() for c in text)
        and bool(content)
        and not any(c.isspace() or c == "\u2581" or unicodedata.combining(c) for c in content)
    )


def _prefix_marks(node: dict | None) -> frozenset[str] | None:
    """The Metaspace replacements of a pre-tokenizer whose first step drops a leading space or
    adds one; None for any other."""
    parts = pretokenizer_steps(node)
    if not parts or not _drops_or_adds_space(parts[0]):
        return None
    if any(p["type"] == "Metaspace" and metaspace_scheme(p) != "always" for p in parts[1:]):
        return None  # `first` looks at where a piece starts, which the leading space moves
    return frozenset(p["replacement"] for p in parts if p["type"] == "Metaspace")


def pretokenizer_steps(node: dict | None) -> list[dict]:
    """The steps of a pre-tokenizer's config in order: a Sequence's parts, one step, or none."""
    if node is None:
        return []
    return node["pretokenizers"] if node["type"] == "Sequence" else [node]


def _drops_or_adds_space(node: dict) -> bool:
    if node["type"] == "Metaspace":
        return metaspace_scheme(node) in ("always", "first")
    if node["type"] == "ByteLevel":
        return bool(node.get("add_prefix_space"))
    return node["type"] in _DROP_WHITESPACE


def metaspace_scheme(metaspace: dict) -> str:
    if "prepend_scheme" in metaspace:
        return metaspace["prepend_scheme"]
    return "always" if metaspace.get("add_prefix_space", True) else "never"
