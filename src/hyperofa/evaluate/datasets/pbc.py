"""Parallel Bible Corpus files: `#` header lines (`# language_name: …`, `# closest ISO 639-3: …`),
then one `verse_id<TAB>text` line per verse, the id BBCCCVVV (book, chapter, verse)."""

from __future__ import annotations

import re
from pathlib import Path

from hyperofa.errors import BadFileError, EmptyInputError
from hyperofa.evaluate.datasets.common import read_lines
from hyperofa.evaluate.datasets.layouts import layout

VERSE = re.compile(r"(\d+)(?:\t(.*))?")


def read_bible(path: str | Path, limit: int | None = None) -> dict[str, str]:
    """verse id → text of one PBC file (its first `limit` lines if given).

    A verse line may have no text: the edition merged that verse into a neighbour. Such verses
    are left out, as are blank and `#` lines.
    """
    verses: dict[str, str] = {}
    ids: set[str] = set()
    for number, line in read_lines(path, limit):
        if not line.strip() or line.startswith("#"):
            continue
        match = VERSE.fullmatch(line.strip())
        if not match:
            raise BadFileError(
                path, f"expected `verse_id<TAB>text`, got {line[:60]!r} ({layout('bible')})", number
            )
        if match[1] in ids:
            raise BadFileError(path, f"verse {match[1]} appears twice", number)
        ids.add(match[1])
        if (match[2] or "").strip():
            verses[match[1]] = match[2].strip()
    if not ids:
        head = f" in its first {limit} lines" if limit else ""
        raise BadFileError(path, f"no `verse_id<TAB>text` line{head}; expected {layout('bible')}")
    return verses


def align_verses(
    verses: dict[str, str], english: dict[str, str], what: str, max_sentences: int | None = None
) -> tuple[list[str], list[str]]:
    """(texts, English texts) of the verses both have, by verse id, the first `max_sentences`."""
    shared = sorted(set(verses) & set(english))[:max_sentences]
    if not shared:
        raise EmptyInputError(f"{what}: no verse id shared with the English side")
    return [verses[v] for v in shared], [english[v] for v in shared]
