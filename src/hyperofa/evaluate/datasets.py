"""Loaders for the evaluation data in its standard formats, given by local path.

Every loader fails with a named error that says what layout it expected: MissingPathError when a
file is absent, BadFileError (with the line number) when a line is malformed, EmptyInputError when
nothing is left. Layouts, with `{lang}` and `{split}` placeholders, are in `LAYOUTS`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import conllu

from hyperofa.errors import BadFileError, EmptyInputError, MissingPathError

PATTERNS = {
    "tatoeba": "tatoeba.{lang}-eng.{lang}",
    "bible": "{lang}.txt",
    "wikiann": "{split}-{lang}.tsv",
    "ud": "**/{lang}_*-ud-{split}.conllu",
    "taxi1500": "{lang}_data/{lang}_{split}.tsv",
}
LAYOUTS = {
    "tatoeba": "tatoeba.{lang}-eng.{lang} + tatoeba.{lang}-eng.eng, one sentence per line, "
    "line i of one translating line i of the other (XTREME Tatoeba)",
    "bible": "{lang}.txt with `verse_id<TAB>text` lines, `#` lines are comments (PBC)",
    "wikiann": "{split}-{lang}.tsv with `lang:token<TAB>tag` lines, a blank line between "
    "sentences (XTREME WikiANN / panx)",
    "ud": "<treebank dir>/{lang}_<treebank>-ud-{split}.conllu, CoNLL-U with 10 tab-separated "
    "fields per token line (Universal Dependencies)",
    "taxi1500": "{lang}_data/{lang}_{split}.tsv with `id<TAB>label<TAB>text` lines, an optional "
    "header line (Taxi1500)",
}
RAW_DEPENDENCIES = {"head": lambda line, i: line[i], "deps": lambda line, i: line[i]}
TAXI1500_CLASSES = ("Recommendation", "Faith", "Description", "Sin", "Grace", "Violence")


@dataclass(frozen=True)
class TaggedSentence:
    """Words of one sentence and one tag per word."""

    words: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class ConlluSentence:
    """The syntactic words of one CoNLL-U sentence (conllu token dicts) and its first line number."""

    line: int
    tokens: list[dict[str, Any]]


@dataclass(frozen=True)
class LabelledText:
    id: str
    label: str
    text: str


def find_language_files(directory: str | Path, fmt: str, split: str = "") -> dict[str, list[Path]]:
    """language → matching files (sorted) for the layout of `fmt` under `directory`."""
    root = _directory(directory, fmt)
    pattern = PATTERNS[fmt].replace("{split}", split)
    glob = pattern.replace("{lang}", "*")
    regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
    regex = regex.replace(r"\{lang\}", "(?P<lang>[^/]+?)", 1).replace(r"\{lang\}", "(?P=lang)")
    found: dict[str, list[Path]] = {}
    for path in sorted(root.glob(glob)):
        match = re.fullmatch(regex, path.relative_to(root).as_posix())
        if match and path.is_file():
            found.setdefault(match["lang"], []).append(path)
    return found


def language_files(directory: str | Path, fmt: str, lang: str, split: str = "") -> list[Path]:
    """The files of one language, or MissingPathError naming the expected layout."""
    files = find_language_files(directory, fmt, split).get(lang)
    if not files:
        where = Path(directory) / PATTERNS[fmt].replace("{split}", split).replace("{lang}", lang)
        raise MissingPathError(f"{fmt} data for `{lang}`", where, _layout(fmt, split))
    return files


def load_tatoeba(
    directory: str | Path, languages: Sequence[str] | None = None
) -> dict[str, tuple[list[str], list[str]]]:
    """language → (sentences, their English translations), aligned by line (XTREME Tatoeba)."""
    languages = languages or sorted(find_language_files(directory, "tatoeba"))
    pairs = {}
    for lang in _require_languages(languages, directory, "tatoeba"):
        source = language_files(directory, "tatoeba", lang)[0]
        english = source.with_name(f"tatoeba.{lang}-eng.eng")
        if not english.is_file():
            raise MissingPathError(f"tatoeba English side of `{lang}`", english, _layout("tatoeba"))
        xs, ys = _sentence_lines(source), _sentence_lines(english)
        if len(xs) != len(ys):
            raise BadFileError(
                english,
                f"{len(ys)} lines but {source.name} has {len(xs)}; expected {_layout('tatoeba')}",
            )
        pairs[lang] = (xs, ys)
    return pairs


def read_bible(path: str | Path) -> dict[str, str]:
    """verse id → text of one PBC-style file; verses with empty text are left out."""
    verses: dict[str, str] = {}
    for number, line in _lines(path):
        if not line.strip() or line.startswith("#"):
            continue
        verse, tab, text = line.partition("\t")
        if not tab or not verse.strip().isdigit():
            raise BadFileError(path, f"expected `verse_id<TAB>text`, got {line[:60]!r}", number)
        if verse.strip() in verses:
            raise BadFileError(path, f"verse {verse.strip()} appears twice", number)
        if text.strip():
            verses[verse.strip()] = text.strip()
    return verses


def load_bible(
    directory: str | Path,
    languages: Sequence[str] | None = None,
    english: str = "eng",
    max_sentences: int | None = None,
) -> dict[str, tuple[list[str], list[str]]]:
    """language → (verses, the English verses with the same ids), ids in sorted order."""
    found = find_language_files(directory, "bible")
    eng = read_bible(language_files(directory, "bible", english)[0])
    pairs = {}
    for lang in _require_languages(languages or sorted(set(found) - {english}), directory, "bible"):
        verses = read_bible(language_files(directory, "bible", lang)[0])
        shared = sorted(set(verses) & set(eng))[:max_sentences]
        if not shared:
            raise EmptyInputError(f"bible `{lang}`: no verse id shared with `{english}`")
        pairs[lang] = ([verses[v] for v in shared], [eng[v] for v in shared])
    return pairs


def read_wikiann(path: str | Path) -> list[TaggedSentence]:
    """Sentences of an XTREME WikiANN file (`lang:token<TAB>tag`, blank line between sentences)."""
    sentences, words, tags = [], [], []
    for number, line in [*_lines(path), (0, "")]:
        if not line.strip():
            if words:
                sentences.append(TaggedSentence(tuple(words), tuple(tags)))
            words, tags = [], []
            continue
        token, tab, tag = line.rstrip("\n").partition("\t")
        lang, colon, word = token.partition(":")
        if not tab or not colon or not word or not tag.strip() or "\t" in tag:
            raise BadFileError(path, f"expected `lang:token<TAB>tag`, got {line[:60]!r}", number)
        words.append(word)
        tags.append(tag.strip())
    return _nonempty(sentences, path, "wikiann")


def load_wikiann(directory: str | Path, lang: str, split: str) -> list[TaggedSentence]:
    return read_wikiann(language_files(directory, "wikiann", lang, split)[0])


def read_conllu(path: str | Path) -> list[ConlluSentence]:
    """Sentences of a CoNLL-U file as token dicts (conllu fields), syntactic words only:
    multiword-token ranges (`3-4`) and empty nodes (`5.1`) are skipped. HEAD and DEPS stay raw
    strings: tagging does not use them, and aksara 1.14's gold file has a feature in a HEAD cell."""
    sentences = []
    for start, block in _conllu_blocks(path):
        try:
            tokens = conllu.parse("".join(block), field_parsers=RAW_DEPENDENCIES)[0]
        except conllu.exceptions.ParseException as err:
            raise BadFileError(
                path, f"{err}; expected {_layout('ud')}", _bad_line(block, start)
            ) from None
        sentences.append(ConlluSentence(start, [t for t in tokens if isinstance(t["id"], int)]))
    return _nonempty(sentences, path, "ud")


def read_ud_pos(path: str | Path, tag_map: dict[str, str] | None = None) -> list[TaggedSentence]:
    """(words, UPOS) per sentence of a CoNLL-U file; `tag_map` renames tags (e.g. UD v1 → v2)."""
    tag_map = tag_map or {}
    out = []
    for sentence in read_conllu(path):
        tags = tuple(tag_map.get(t["upos"], t["upos"]) for t in sentence.tokens)
        if "_" in tags or None in tags:
            raise BadFileError(
                path, "a word without UPOS in the sentence starting here", sentence.line
            )
        out.append(TaggedSentence(tuple(t["form"] for t in sentence.tokens), tags))
    return out


def load_ud(directory: str | Path, lang: str, split: str) -> list[TaggedSentence]:
    """Every treebank of `lang` for `split`, concatenated (as XTREME does)."""
    return [s for path in language_files(directory, "ud", lang, split) for s in read_ud_pos(path)]


def read_taxi1500(path: str | Path) -> list[LabelledText]:
    """Rows of a Taxi1500 tsv (`id<TAB>label<TAB>text`); a first line `id<TAB>label<TAB>…` is a header."""
    rows = []
    for number, line in _lines(path):
        if not line.strip() or (number == 1 and line.lower().startswith("id\tlabel")):
            continue
        fields = line.rstrip("\n").split("\t")
        if len(fields) != 3 or not fields[2].strip():
            raise BadFileError(path, f"expected `id<TAB>label<TAB>text`, got {line[:60]!r}", number)
        if fields[1] not in TAXI1500_CLASSES:
            raise BadFileError(
                path, f"label {fields[1]!r} is not one of {TAXI1500_CLASSES}", number
            )
        rows.append(LabelledText(fields[0], fields[1], fields[2].strip()))
    return _nonempty(rows, path, "taxi1500")


def load_taxi1500(directory: str | Path, lang: str, split: str) -> list[LabelledText]:
    return read_taxi1500(language_files(directory, "taxi1500", lang, split)[0])


def _directory(directory: str | Path, fmt: str) -> Path:
    root = Path(directory).expanduser()
    if not root.is_dir():
        raise MissingPathError(f"{fmt} data directory", root, f"a directory holding {_layout(fmt)}")
    return root


def _layout(fmt: str, split: str = "") -> str:
    return LAYOUTS[fmt].replace("{split}", split or "{split}")


def _lines(path: str | Path) -> list[tuple[int, str]]:
    """(1-based line number, line) pairs; universal newlines, so CRLF files read like LF ones."""
    try:
        with open(path, encoding="utf-8") as f:
            return list(enumerate(f, start=1))
    except UnicodeDecodeError as err:
        raise BadFileError(path, f"not UTF-8 ({err.reason} at byte {err.start})") from None


def _sentence_lines(path: Path) -> list[str]:
    out = []
    for number, line in _lines(path):
        if not line.strip():
            raise BadFileError(path, f"empty line; expected {_layout('tatoeba')}", number)
        out.append(line.strip())
    return out


def _conllu_blocks(path: str | Path) -> list[tuple[int, list[str]]]:
    """(first line number, lines) per sentence; token lines are checked for 10 fields here
    because the conllu package silently accepts short or long lines."""
    blocks, block, start = [], [], 0
    for number, line in [*_lines(path), (0, "\n")]:
        if not line.strip():
            if any(not b.startswith("#") for b in block):
                blocks.append((start, [*block, "\n"]))
            block = []
            continue
        if not line.startswith("#") and len(line.rstrip("\n").split("\t")) != 10:
            raise BadFileError(path, f"expected 10 tab-separated fields, got {line[:60]!r}", number)
        start = start if block else number
        block.append(line.rstrip("\n") + "\n")
    return blocks


def _bad_line(block: list[str], start: int) -> int:
    """Line number of the first token line conllu rejects on its own (else the block's start)."""
    for offset, line in enumerate(block):
        try:
            conllu.parse(line, field_parsers=RAW_DEPENDENCIES)
        except conllu.exceptions.ParseException:
            return start + offset
    return start


def _require_languages(languages: Sequence[str], directory: str | Path, fmt: str) -> Sequence[str]:
    if not languages:
        raise EmptyInputError(
            f"{fmt}: no language files under {directory}; expected {_layout(fmt)}"
        )
    return languages


def _nonempty(items: list, path: str | Path, fmt: str) -> list:
    if not items:
        raise EmptyInputError(f"{path}: no data; expected {_layout(fmt)}")
    return items
