"""Universal Dependencies CoNLL-U files, read with the `conllu` package."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import conllu

from hyperofa.errors import BadFileError
from hyperofa.evaluate.datasets.common import nonempty, read_lines
from hyperofa.evaluate.datasets.layouts import layout
from hyperofa.evaluate.datasets.tagged import TaggedSentence

RAW_DEPENDENCIES = {"head": lambda line, i: line[i], "deps": lambda line, i: line[i]}


@dataclass(frozen=True)
class ConlluSentence:
    """The syntactic words of one CoNLL-U sentence (conllu token dicts) and its first line number."""

    line: int
    tokens: list[dict[str, Any]]


def read_conllu(path: str | Path, limit: int | None = None) -> list[ConlluSentence]:
    """Sentences of a CoNLL-U file (its first `limit` lines if given) as token dicts (conllu
    fields), syntactic words only: multiword-token ranges (`3-4`) and empty nodes (`5.1`) are
    skipped. HEAD and DEPS stay raw strings: tagging does not use them, and aksara 1.14's gold
    file has a feature in a HEAD cell."""
    sentences = []
    for start, block in _conllu_blocks(path, limit):
        try:
            tokens = conllu.parse("".join(block), field_parsers=RAW_DEPENDENCIES)[0]
        except conllu.exceptions.ParseException as err:
            raise BadFileError(
                path, f"{err}; expected {layout('ud')}", _bad_line(block, start)
            ) from None
        sentences.append(ConlluSentence(start, [t for t in tokens if isinstance(t["id"], int)]))
    return nonempty(sentences, path, layout("ud"))


def read_ud_pos(
    path: str | Path, tag_map: dict[str, str] | None = None, limit: int | None = None
) -> list[TaggedSentence]:
    """(words, UPOS) per sentence of a CoNLL-U file; `tag_map` renames tags (e.g. UD v1 → v2)."""
    tag_map = tag_map or {}
    out = []
    for sentence in read_conllu(path, limit):
        tags = tuple(tag_map.get(t["upos"], t["upos"]) for t in sentence.tokens)
        if "_" in tags or None in tags:
            raise BadFileError(
                path, "a word without UPOS in the sentence starting here", sentence.line
            )
        out.append(TaggedSentence(tuple(t["form"] for t in sentence.tokens), tags))
    return out


def read_treebank(path: str | Path, limit: int | None = None) -> list[TaggedSentence]:
    """The sentences of a UD treebank file that have their text. A few treebanks are released
    without it (FORM `_`, e.g. UD_English-ESL, UD_French-FTB); like XTREME's udpos
    preprocessing, a sentence is dropped when all or all but one of its words are `_`."""
    return [s for s in read_ud_pos(path, limit=limit) if _has_text(s.words)]


def _has_text(words: tuple[str, ...]) -> bool:
    withheld = words.count("_")
    return withheld == 0 or withheld < len(words) - 1


def _conllu_blocks(path: str | Path, limit: int | None) -> list[tuple[int, list[str]]]:
    """(first line number, lines) per sentence; token lines are checked for 10 fields here
    because the conllu package silently accepts short or long lines."""
    blocks, block, start = [], [], 0
    for number, line in [*read_lines(path, limit), (0, "")]:
        if not line.strip():
            if any(not b.startswith("#") for b in block):
                blocks.append((start, [*block, "\n"]))
            block = []
            continue
        if not line.startswith("#") and len(line.split("\t")) != 10:
            raise BadFileError(path, f"expected 10 tab-separated fields, got {line[:60]!r}", number)
        start = start if block else number
        block.append(line + "\n")
    return blocks


def _bad_line(block: list[str], start: int) -> int:
    """Line number of the first token line conllu rejects on its own (else the block's start)."""
    for offset, line in enumerate(block):
        try:
            conllu.parse(line, field_parsers=RAW_DEPENDENCIES)
        except conllu.exceptions.ParseException:
            return start + offset
    return start
