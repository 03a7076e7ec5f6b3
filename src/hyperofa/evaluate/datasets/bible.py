"""SR-B data: PBC editions aligned by verse id, or Glot500/OFA's prepared line-aligned pairs.

A PBC directory may hold several editions of a language (`eng-x-bible-kingjames.txt`,
`eng-x-bible-newworld2013.txt`, …). A configured name is either an edition (its file stem) or a
language code; a code takes the largest edition of that language.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from hyperofa.errors import BadFileError, EmptyInputError
from hyperofa.evaluate.datasets.common import data_dir, listing, resolve_language, scan
from hyperofa.evaluate.datasets.layouts import layout
from hyperofa.evaluate.datasets.parallel import PAIR, ParallelSource, pair_sources

PBC_EDITION = re.compile(r"(?P<lang>[a-z]{3})-x-bible(?:-[^/]*)?\.txt")
PER_LANGUAGE = re.compile(r"(?P<lang>[a-z]{2,3}(?:_[A-Z][a-z]{3})?)\.txt")
BIBLE_PAIR = re.compile(PAIR.format(prefix="bible"))


def bible_sources(
    directory: str | Path, languages: Sequence[str] | None = None, english: str = "eng"
) -> dict[str, ParallelSource]:
    """Configured name (or, for every language found, its code) → its file and the English one.

    Glot500/OFA pair files `bible.<lang>-eng_Latn.*` if the directory holds them, else PBC
    editions; `languages` null means every language but the English one.
    """
    root = data_dir(directory, layout("bible"))
    editions = find_editions(root)
    if any(True for _ in scan(root, BIBLE_PAIR)):
        if editions:
            raise BadFileError(
                root,
                f"holds both PBC editions ({listing(editions, 5)}) and bible.* pair files; "
                f"keep one layout per directory: {layout('bible')}",
            )
        return pair_sources(root, "bible", languages, english)
    if not editions:
        raise EmptyInputError(f"bible: no language files under {root}; expected {layout('bible')}")
    english_path = edition(english, editions, root)
    english_code = next(c for c, paths in editions.items() if english_path in paths)
    names = languages or sorted(set(editions) - {english_code})
    return {
        name: ParallelSource(edition(name, editions, root), english_path, "bible", by_verse=True)
        for name in names
    }


def find_editions(root: Path) -> dict[str, list[Path]]:
    """Language code → its PBC files in `root`: `<iso>-x-bible[-<name>].txt`, `<lang>.txt`."""
    editions: dict[str, list[Path]] = {}
    for pattern in (PBC_EDITION, PER_LANGUAGE):
        for groups, path in scan(root, pattern):
            editions.setdefault(groups["lang"], []).append(path)
    return editions


def edition(name: str, editions: dict[str, list[Path]], root: Path) -> Path:
    """The file a configured name stands for: the edition with that file stem, else the largest
    edition of that language (the most text: usually a whole Bible over a New Testament), ties
    broken by file name, so the choice is the same on every run."""
    for paths in editions.values():
        for path in paths:
            if path.stem == name:
                return path
    where = root / f"{name}-x-bible-<name>.txt"
    code = resolve_language(name, editions, "bible data", where, layout("bible"))
    return min(editions[code], key=lambda p: (-p.stat().st_size, p.name))
