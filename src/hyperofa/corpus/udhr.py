"""UDHR text: each translation's html parsed into `Paragraph`s, words, and paragraph alignment.

Article 0 is the preamble (`<header>`), articles 1..30 are `<article data-number=N>`; a paragraph
is one `<p>`, also when it sits inside `<ol><li>`. Paragraph identity across translations is
`(article, index)`, valid within the articles where a file has as many paragraphs as English
(`parallel_articles`). The files come from `hyperofa.assets.udhr.fetch_udhr`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import regex

from hyperofa.errors import BadFileError, ConfigError, EmptyInputError

ENGLISH_CODE = "eng"
N_ARTICLES = 30

# Files written without spaces between words, where `words()` yields whole clauses: mean "word"
# length 12-48 characters, against <= 11 for every other file except kal (Greenlandic, 15.1, truly
# long words). Han/Kana files (cmn_*, yue, jpn*, vie_han, ...), Thai, Lao, Khmer, Myanmar, Mon,
# Shan, Tai Tham, Yi and Javanese script. Leave them out of the word graph.
UNSEGMENTED: frozenset[str] = frozenset(
    "023 cjy cmn_hans cmn_hans_beijing cmn_hans_guiyang cmn_hans_harbin cmn_hans_nanjing "  # noqa: SIM905
    "cmn_hans_tianjin cmn_hant gan hak hsn iii jav_java jpn jpn_osaka jpn_tokyo khm kkh_lana "
    "lao mnw mya nan shn tha tha2 vie_han wuu yue".split()
)

# Letters, combining marks and digits: `re`'s `\w` splits Indic scripts at vowel signs (§4.1).
# ZWNJ/ZWJ inside a word are kept: Persian, Bengali, Malayalam and Sinhala write them mid-word.
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N}\u200c\u200d]*[\p{L}\p{M}\p{N}])?")


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One `<p>` of one translation. `article` 0 is the preamble; `index` counts from 0."""

    lang: str  # ISO 639-3 (`data-iso6393`; "und" for 10 unidentified varieties)
    code: str  # file stem, e.g. "deu_1996"
    article: int
    index: int
    text: str


def words(text: str) -> list[str]:
    """Lowercased words of `text`: maximal runs of letters, combining marks and digits."""
    return _WORD.findall(text.lower())


class _DeclarationParser(HTMLParser):
    """Collects (article, text) for every `<p>` inside `<header>` or `<article>`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.article: int | None = None
        self.buffer: list[str] | None = None
        self.found: list[tuple[int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("data-iso6393")
        elif tag == "header":
            self.article = 0
        elif tag == "article":
            self.article = int(values.get("data-number") or -1)
        elif tag == "p" and self.article is not None:
            self.buffer = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self.buffer is not None:
            text = " ".join("".join(self.buffer).split())
            if text:
                self.found.append((self.article, text))
            self.buffer = None
        elif tag in ("header", "article"):
            self.article = None

    def handle_data(self, data: str) -> None:
        if self.buffer is not None:
            self.buffer.append(data)


def parse_declaration(path: str | Path) -> list[Paragraph]:
    """Paragraphs of one UDHR html file, in document order. Empty `<p>`s are skipped."""
    path = Path(path)
    parser = _DeclarationParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    if not parser.lang:
        raise BadFileError(path, "no `data-iso6393` attribute on <html>")
    paragraphs, seen = [], Counter()
    for article, text in parser.found:
        if not 0 <= article <= N_ARTICLES:
            raise BadFileError(path, f"article number {article}, expected 1..{N_ARTICLES}")
        paragraphs.append(Paragraph(parser.lang, path.stem, article, seen[article], text))
        seen[article] += 1
    return paragraphs


def load_udhr(root: str | Path) -> list[Paragraph]:
    """All paragraphs of `root/declaration/*.html` (files in sorted order)."""
    folder = Path(root) / "declaration"
    files = sorted(folder.glob("*.html"))
    if not files:
        raise EmptyInputError(f"{folder}: no *.html declarations (run fetch_udhr first)")
    return [p for f in files for p in parse_declaration(f)]


def article_counts(paragraphs: Iterable[Paragraph]) -> dict[str, Counter]:
    """code → Counter(article → number of paragraphs)."""
    counts: dict[str, Counter] = {}
    for p in paragraphs:
        counts.setdefault(p.code, Counter())[p.article] += 1
    return counts


def parallel_articles(
    paragraphs: Iterable[Paragraph], reference: str = ENGLISH_CODE
) -> dict[str, frozenset[int]]:
    """code → the articles in which the file has as many paragraphs as `reference` has.

    Within such an article, paragraph `index` i is a translation of the reference's paragraph i.
    """
    counts = article_counts(paragraphs)
    if reference not in counts:
        raise EmptyInputError(f"no paragraphs of the reference file {reference!r}")
    ref = counts[reference]
    return {code: frozenset(a for a, n in ref.items() if c[a] == n) for code, c in counts.items()}


def parallel_codes(
    paragraphs: Iterable[Paragraph],
    articles: Iterable[int] | None = None,
    reference: str = ENGLISH_CODE,
) -> set[str]:
    """Codes of files paragraph-parallel with `reference` in every one of `articles`.

    `articles=None` means all articles of the reference, preamble (0) included; the preambles'
    paragraph splits differ so often that `range(1, 31)` keeps ~4x more files.
    """
    per_code = parallel_articles(paragraphs, reference)
    wanted = per_code[reference] if articles is None else frozenset(articles)
    return {code for code, arts in per_code.items() if wanted <= arts}


def aligned_paragraphs(
    paragraphs: Sequence[Paragraph], reference: str = ENGLISH_CODE
) -> list[Paragraph]:
    """The paragraphs lying in an article where their file is parallel with `reference`."""
    per_code = parallel_articles(paragraphs, reference)
    return [p for p in paragraphs if p.article in per_code[p.code]]


def split_by_article(
    paragraphs: Sequence[Paragraph], heldout_articles: Sequence[int]
) -> tuple[list[Paragraph], list[Paragraph]]:
    """(train, heldout): paragraphs outside / inside `heldout_articles` (0 = preamble)."""
    held = set(heldout_articles)
    if bad := sorted(a for a in held if not 0 <= a <= N_ARTICLES):
        raise ConfigError("heldout_articles", bad, f"article numbers in 0..{N_ARTICLES}")
    train = [p for p in paragraphs if p.article not in held]
    heldout = [p for p in paragraphs if p.article in held]
    return train, heldout
