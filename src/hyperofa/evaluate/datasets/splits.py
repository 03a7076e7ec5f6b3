"""Datasets with train/dev/test files per language (NER, POS, Taxi1500): the published layouts
and one class that finds the files once, then checks or loads a language's split."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hyperofa.errors import BadFileError, EmptyInputError
from hyperofa.evaluate.datasets.common import HEAD_LINES, data_dir, resolve_language, scan
from hyperofa.evaluate.datasets.layouts import layout
from hyperofa.evaluate.datasets.tagged import read_tagged
from hyperofa.evaluate.datasets.taxi1500 import read_taxi1500
from hyperofa.evaluate.datasets.ud import read_treebank

SPLIT = r"(?P<split>train|dev|test)"
LANG = r"(?P<lang>[^/]+?)"


@dataclass(frozen=True)
class SplitLayout:
    """A published layout: the file paths it uses and how to read one file (`limit`: head only)."""

    fmt: str  # key of LAYOUTS
    patterns: tuple[re.Pattern, ...]  # relative paths with `lang` and `split` groups
    example: str  # the first pattern, as a path to show when a language is missing
    read: Callable[[Path, int | None], list]
    depth: int | None = 1  # directory levels to look in; None = any
    many_files: bool = False  # every file of a language is used (UD treebanks); else one


WIKIANN = SplitLayout(
    "wikiann",
    (re.compile(rf"{SPLIT}-{LANG}\.tsv"), re.compile(rf"{LANG}-{SPLIT}")),
    "{split}-{lang}.tsv",
    lambda path, limit: read_tagged(path, "wikiann", limit),
)
UDPOS = SplitLayout(
    "udpos",
    (re.compile(rf"{SPLIT}-{LANG}\.tsv"),),
    "{split}-{lang}.tsv",
    lambda path, limit: read_tagged(path, "udpos", limit),
)
UD = SplitLayout(
    "ud",
    (re.compile(rf"(?:.*/)?(?P<lang>[^/_]+)_[^/]*-ud-{SPLIT}\.conllu"),),
    "UD_*/{lang}_*-ud-{split}.conllu",
    read_treebank,
    depth=None,
    many_files=True,
)
TAXI1500 = SplitLayout(
    "taxi1500",
    (
        re.compile(rf"{LANG}_data/(?P=lang)_{SPLIT}\.tsv"),
        re.compile(rf"{LANG}_{SPLIT}\.tsv"),
        re.compile(rf"{SPLIT}/{LANG}\.tsv"),
    ),
    "{lang}_data/{lang}_{split}.tsv",
    read_taxi1500,
    depth=2,
)


class SplitData:
    """The per-language train/dev/test files of one dataset under `directory`, found once."""

    def __init__(self, directory: str | Path, split_layout: SplitLayout):
        self.layout = split_layout
        self.root = data_dir(directory, layout(split_layout.fmt))
        self.found: dict[tuple[str, str], list[Path]] = {}
        for pattern in split_layout.patterns:
            for groups, path in scan(self.root, pattern, split_layout.depth):
                self.found.setdefault((groups["lang"], groups["split"]), []).append(path)
        for (lang, split), paths in self.found.items():
            if len(paths) > 1 and not split_layout.many_files:
                raise BadFileError(
                    paths[1],
                    f"a second {split} file of `{lang}` beside {paths[0].name}; expected one of "
                    f"{layout(split_layout.fmt, split)}",
                )

    def languages(self, split: str) -> list[str]:
        """Codes (as the file names spell them) of the languages with a `split` file."""
        return sorted(lang for lang, s in self.found if s == split)

    def files(self, name: str, split: str) -> list[Path]:
        """The files of a configured language name, or MissingPathError listing those found."""
        fmt = self.layout.fmt
        where = self.root / self.layout.example.format(lang=name, split=split)
        lang = resolve_language(
            name, self.languages(split), f"{fmt} {split} data", where, layout(fmt, split)
        )
        return self.found[(lang, split)]

    def load(self, name: str, split: str) -> list:
        """Every sentence or row of a language's split, its files concatenated."""
        return self._read(name, split, None)

    def check(self, name: str, split: str) -> None:
        """The start-up check: the files exist and their first lines read in this layout."""
        self._read(name, split, HEAD_LINES)

    def _read(self, name: str, split: str, limit: int | None) -> list:
        files = self.files(name, split)
        items = [item for path in files for item in self.layout.read(path, limit)]
        if not items:
            names = ", ".join(p.name for p in files)
            head = f" in the first {limit} lines" if limit else ""
            raise EmptyInputError(
                f"{self.layout.fmt} `{name}` {split}: no data{head} of {names}; "
                f"expected {layout(self.layout.fmt, split)}"
            )
        return items


def ner_data(directory: str | Path) -> SplitData:
    return SplitData(directory, WIKIANN)


def pos_data(directory: str | Path) -> SplitData:
    """UD treebanks when the directory holds CoNLL-U files, else XTREME/Glot500 udpos tsv files."""
    root = data_dir(directory, f"{layout('ud')}; or {layout('udpos')}")
    return SplitData(root, UD if next(root.rglob("*.conllu"), None) else UDPOS)


def taxi1500_data(directory: str | Path) -> SplitData:
    return SplitData(directory, TAXI1500)
