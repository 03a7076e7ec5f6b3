"""UDHR text: parsing, alignment, splitting, words (real declarations when slow)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hyperofa.assets.udhr import default_udhr_dir, fetch_udhr
from hyperofa.corpus.udhr import (
    UNSEGMENTED,
    Paragraph,
    aligned_paragraphs,
    load_udhr,
    parallel_codes,
    parse_declaration,
    split_by_article,
    words,
)
from hyperofa.errors import BadFileError, ConfigError, EmptyInputError


def declaration(code: str, lang: str, articles: dict[int, list[str]]) -> str:
    """A UDHR-style html file: article 0 → <header>, article 2 as an <ol> of <li><p>."""
    parts = [
        f'<!doctype html>\n<html data-code="{code}" data-iso6393="{lang}" lang="x">',
        "<head><title>T</title></head><body><h1>Title, not a paragraph</h1>",
    ]
    for number, paragraphs in sorted(articles.items()):
        ps = "".join(f"<p>{p}</p>" for p in paragraphs)
        if number == 0:
            parts.append(f"<header><h2>Preamble</h2>{ps}</header>")
        elif number == 2:
            items = "".join(f"<li>\n  <p>{p}</p>\n</li>" for p in paragraphs)
            parts.append(
                f'<article data-number="2"><h2>A 2</h2><ol>{items}<li></li></ol></article>'
            )
        else:
            parts.append(f'<article data-number="{number}"><h2>Article {number}</h2>{ps}</article>')
    return "\n".join(parts) + "</body></html>\n"


def write_corpus(root: Path, files: dict[str, tuple[str, dict[int, list[str]]]]) -> Path:
    (root / "declaration").mkdir(parents=True)
    for code, (lang, articles) in files.items():
        (root / "declaration" / f"{code}.html").write_text(declaration(code, lang, articles))
    return root


def test_parse_declaration_reads_preamble_articles_lists_and_entities(tmp_path):
    html = declaration(
        "deu_1996",
        "deu",
        {
            0: ["Da die Anerkennung &amp; W&#xFC;rde", "Die  Generalversammlung\n  verkündet"],
            1: ["Alle Menschen &lt;sind&gt; frei."],
            2: ["Jeder hat Anspruch.", "Weiter darf &#x26; kein Unterschied"],
        },
    )
    path = tmp_path / "deu_1996.html"
    path.write_text(html)
    got = parse_declaration(path)
    assert got == [
        Paragraph("deu", "deu_1996", 0, 0, "Da die Anerkennung & Würde"),
        Paragraph("deu", "deu_1996", 0, 1, "Die Generalversammlung verkündet"),
        Paragraph("deu", "deu_1996", 1, 0, "Alle Menschen <sind> frei."),
        Paragraph("deu", "deu_1996", 2, 0, "Jeder hat Anspruch."),
        Paragraph("deu", "deu_1996", 2, 1, "Weiter darf & kein Unterschied"),
    ]


def test_parse_declaration_needs_a_language(tmp_path):
    path = tmp_path / "x.html"
    path.write_text("<html><body><article data-number='1'><p>a</p></article></body></html>")
    with pytest.raises(BadFileError, match="data-iso6393"):
        parse_declaration(path)


def test_parallel_codes_aligned_paragraphs_and_split(tmp_path):
    eng = {0: ["whereas", "now"], 1: ["all free"], 2: ["everyone", "no one"]}
    root = write_corpus(
        tmp_path,
        {
            "eng": ("eng", eng),
            "deu": ("deu", {0: ["da", "nun"], 1: ["alle frei"], 2: ["jeder", "niemand"]}),
            "fra": ("fra", {0: ["considérant"], 1: ["tous libres"], 2: ["chacun", "nul"]}),
            "spa": ("spa", {1: ["todos libres"], 2: ["toda persona"]}),
        },
    )
    paragraphs = load_udhr(root)
    assert parallel_codes(paragraphs) == {"eng", "deu"}
    assert parallel_codes(paragraphs, articles=[1, 2]) == {"eng", "deu", "fra"}
    aligned = {(p.code, p.article) for p in aligned_paragraphs(paragraphs)}
    assert ("fra", 1) in aligned and ("fra", 0) not in aligned
    assert ("spa", 1) in aligned and ("spa", 2) not in aligned

    train, heldout = split_by_article(paragraphs, [2])
    assert {p.article for p in train} == {0, 1} and {p.article for p in heldout} == {2}
    assert len(train) + len(heldout) == len(paragraphs)
    with pytest.raises(ConfigError, match="heldout_articles"):
        split_by_article(paragraphs, [31])


def test_load_udhr_on_an_empty_folder(tmp_path):
    (tmp_path / "declaration").mkdir()
    with pytest.raises(EmptyInputError, match="fetch_udhr"):
        load_udhr(tmp_path)


def test_words_keeps_combining_marks_and_joiners():
    # Devanagari vowel signs and virama are \p{M}: `re`'s \w splits "हिन्दी" into 3 pieces
    assert words("हिन्दी भाषा, मनुष्य!") == ["हिन्दी", "भाषा", "मनुष्य"]
    assert len(re.findall(r"\w+", "हिन्दी")) > 1
    assert words("Die WÜRDE-des 2 Menschen") == ["die", "würde", "des", "2", "menschen"]
    assert words("می\u200cخواهم \u200cx") == ["می\u200cخواهم", "x"]  # Persian ZWNJ kept inside


@pytest.mark.slow
def test_real_udhr_statistics():
    paragraphs = load_udhr(fetch_udhr(default_udhr_dir()))
    assert len({p.code for p in paragraphs}) == 532
    assert len({p.lang for p in paragraphs}) == 448
    assert sum(p.code == "eng" for p in paragraphs) == 60  # 10 in the preamble
    assert len(parallel_codes(paragraphs)) == 117
    assert len(parallel_codes(paragraphs, articles=range(1, 31))) == 442
    assert {p.code for p in paragraphs} >= UNSEGMENTED
