"""Reading, finding and naming shared by the evaluation-data loaders."""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Iterator
from pathlib import Path

from hyperofa.errors import BadFileError, ConfigError, EmptyInputError, MissingPathError

# Lines a start-up check reads per file: enough for a PBC header, a few verses, sentences or rows.
HEAD_LINES = 200


def read_lines(path: str | Path, limit: int | None = None) -> list[tuple[int, str]]:
    """(1-based line number, line without its line break) pairs, the first `limit` only if given.

    UTF-8 with or without a byte-order mark; lines end at LF, so CRLF files read like LF ones and a
    stray CR inside a line does not split it (text mode would).
    """
    lines = []
    with open(path, "rb") as f:
        for number, raw in enumerate(itertools.islice(f, limit), start=1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as err:
                problem = f"not UTF-8 ({err.reason} at byte {err.start} of the line)"
                raise BadFileError(path, problem, number) from None
            lines.append((number, line.removeprefix("\ufeff") if number == 1 else line))
    return lines


def data_dir(directory: str | Path, layout: str) -> Path:
    """`directory` as a Path, or MissingPathError naming the layout it should hold."""
    root = Path(directory).expanduser()
    if not root.is_dir():
        raise MissingPathError("evaluation data directory", root, f"a directory holding {layout}")
    return root


def scan(root: Path, pattern: re.Pattern, depth: int | None = 1) -> Iterator[tuple[dict, Path]]:
    """(named groups, path) of each file under `root` whose relative path matches `pattern`,
    `depth` levels down at most (None: any depth), in order of file name then path."""
    if depth is None:
        paths = list(root.rglob("*"))
    else:
        paths = [p for d in range(1, depth + 1) for p in root.glob("/".join(["*"] * d))]
    for path in sorted(paths, key=lambda p: (p.name, p.as_posix())):
        match = pattern.fullmatch(path.relative_to(root).as_posix())
        if match and path.is_file():
            yield match.groupdict(), path


def resolve_language(name: str, found: Collection[str], what: str, where: Path, layout: str) -> str:
    """The language code among `found` (codes as file names spell them) that a configured name
    stands for: the name itself; else the one code with the same ISO 639-3 part, because file
    names use both conventions: `eng` (LASER Tatoeba, PBC) and `eng_Latn` (Glot500, OFA).

    A bare `xxx` matches a single `xxx_Scrp`; `xxx_Scrp` matches a bare `xxx` (a file that does
    not name its script), never `xxx_Othr`. MissingPathError when nothing matches, ConfigError
    when several scripts do.
    """
    if name in found:
        return name
    iso, _, script = name.partition("_")
    if script:
        candidates = [code for code in found if code == iso]
    else:
        candidates = sorted(code for code in found if code.partition("_")[0] == iso)
    if not candidates:
        raise MissingPathError(
            f"{what} for `{name}`", where, f"{layout}; languages found: {listing(found)}"
        )
    if len(candidates) > 1:
        raise ConfigError(f"{what} language", name, f"one of {candidates} (name the script)")
    return candidates[0]


def listing(codes: Collection[str], most: int = 30) -> str:
    """Sorted codes, comma-separated, cut after `most`; `none` when empty."""
    codes = sorted(codes)
    more = f", … ({len(codes)} in all)" if len(codes) > most else ""
    return (", ".join(codes[:most]) + more) if codes else "none"


def nonempty(items: list, path: str | Path, layout: str) -> list:
    if not items:
        raise EmptyInputError(f"{path}: no data; expected {layout}")
    return items
