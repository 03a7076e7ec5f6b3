"""Sentence pairs for retrieval (SR-T, SR-B): which file of a language goes with which English
file, and reading the two aligned, by line or by verse id."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hyperofa.errors import BadFileError, EmptyInputError, MissingPathError
from hyperofa.evaluate.datasets.common import (
    HEAD_LINES,
    data_dir,
    nonempty,
    read_lines,
    resolve_language,
    scan,
)
from hyperofa.evaluate.datasets.layouts import layout
from hyperofa.evaluate.datasets.pbc import align_verses, read_bible

PAIR = r"{prefix}\.(?P<lang>[^./]+)-(?P<eng>[^./]+)\.(?P<side>[^./]+)"
# what XTREME's utils_preprocess.py (tatoeba_preprocess) writes: <l2>-en.<l2> + <l2>-en.en
XTREME_TATOEBA = re.compile(r"(?P<lang>[a-z]{2,3})-en\.(?P=lang)")


@dataclass(frozen=True)
class ParallelSource:
    """One language's file and the English file it is aligned with."""

    path: Path
    english: Path
    fmt: str  # "tatoeba" | "bible"
    by_verse: bool = False  # PBC files, aligned by verse id; else line i ↔ line i


def pair_sources(
    root: Path, fmt: str, languages: Sequence[str] | None, english: str
) -> dict[str, ParallelSource]:
    """Configured name → source for files `<fmt>.<lang>-<eng>.<lang>` + `<fmt>.<lang>-<eng>.<eng>`
    (LASER Tatoeba and Glot500/OFA naming); `english` names <eng>. {} when there are none."""
    sides = {
        (g["lang"], g["eng"], g["side"]): path
        for g, path in scan(root, re.compile(PAIR.format(prefix=re.escape(fmt))))
    }
    own = {(lang, eng): path for (lang, eng, side), path in sides.items() if side == lang}
    if not own:
        return {}
    where = root / f"{fmt}.<lang>-{english}.{english}"
    eng = resolve_language(english, {e for _, e in own}, f"{fmt} English", where, layout(fmt))
    found = {lang: path for (lang, e), path in own.items() if e == eng}
    sources = {}
    for name in languages or sorted(found):
        where = root / f"{fmt}.{name}-{eng}.{name}"
        lang = resolve_language(name, found, f"{fmt} data", where, layout(fmt))
        english_path = sides.get((lang, eng, eng))
        if english_path is None:
            where = root / f"{fmt}.{lang}-{eng}.{eng}"
            raise MissingPathError(f"{fmt} English side of `{name}`", where, layout(fmt))
        sources[name] = ParallelSource(found[lang], english_path, fmt)
    return sources


def tatoeba_sources(
    directory: str | Path, languages: Sequence[str] | None = None, english: str = "eng"
) -> dict[str, ParallelSource]:
    """Configured name (or, for every language found, its file code) → its Tatoeba pair."""
    root = data_dir(directory, layout("tatoeba"))
    sources = pair_sources(root, "tatoeba", languages, english)
    if not sources:
        for _, path in scan(root, XTREME_TATOEBA):
            raise BadFileError(
                path,
                "XTREME-preprocessed Tatoeba: its utils_preprocess.py sorts the English side "
                "(<l>-en.en), so line i no longer translates line i; use the LASER files it "
                f"starts from: {layout('tatoeba')}",
            )
        raise EmptyInputError(
            f"tatoeba: no language files under {root}; expected {layout('tatoeba')}"
        )
    return sources


def load_parallel(
    sources: Mapping[str, ParallelSource], max_sentences: int | None = None
) -> dict[str, tuple[list[str], list[str]]]:
    """Name → (texts, their English translations), aligned, the first `max_sentences` of each."""
    english: dict[Path, dict[str, str]] = {}
    pairs = {}
    for name, source in sources.items():
        if not source.by_verse:
            xs, ys = read_parallel(source.path, source.english, layout(source.fmt))
            pairs[name] = (xs[:max_sentences], ys[:max_sentences])
            continue
        if source.english not in english:
            english = {source.english: read_bible(source.english)}  # one English Bible at a time
        what = f"bible `{name}` ({source.path.name})"
        pairs[name] = align_verses(
            read_bible(source.path), english[source.english], what, max_sentences
        )
    return pairs


def check_parallel(sources: Mapping[str, ParallelSource]) -> None:
    """The start-up check: line-aligned pairs are read whole (Tatoeba ≤ 1,000 lines, Glot500's
    Bible pairs ≤ 500), PBC files only their first lines (a whole Bible is ~30k verses)."""
    checked: set[Path] = set()
    for source in sources.values():
        if not source.by_verse:
            read_parallel(source.path, source.english, layout(source.fmt))
            continue
        for path in {source.path, source.english} - checked:
            read_bible(path, HEAD_LINES)
            checked.add(path)


def read_parallel(path: Path, english: Path, expected: str) -> tuple[list[str], list[str]]:
    """(sentences, translations) of two line-aligned files: line i of one translates line i of the
    other, so neither may hold an empty line and both hold as many lines."""
    xs, ys = _sentences(path, expected), _sentences(english, expected)
    if len(xs) != len(ys):
        raise BadFileError(
            english, f"{len(ys)} lines but {path.name} has {len(xs)}; expected {expected}"
        )
    return xs, ys


def _sentences(path: Path, expected: str) -> list[str]:
    out = []
    for number, line in read_lines(path):
        if not line.strip():
            raise BadFileError(path, f"empty line; expected {expected}", number)
        out.append(line.strip())
    return nonempty(out, path, expected)
