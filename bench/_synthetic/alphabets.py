"""Scripts of the synthetic vocabularies: alphabets and how languages and pieces spread over them.

Shares are rough orientation from Glot500 (most languages in Latin script) and XLM-R (Latin,
Cyrillic and CJK hold most pieces); only their heavy-tailedness matters for the benchmark.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Script:
    name: str
    alphabet: str  # letters, in a fixed order (earlier = more frequent)
    language_share: float  # of languages written in it
    piece_share: float  # of source (XLM-R-like) pieces
    max_piece_chars: int  # ideographic and syllabic scripts have short pieces
    cased: bool = False  # capitalizing a word changes it (the capitalized matching variant)


def _span(first: int, last: int, step: int = 1) -> str:
    """Letters (and spacing marks) of a code-point range: no combining marks, so a word stays
    the string it was built as."""
    chars = (chr(c) for c in range(first, last + 1, step))
    return "".join(
        c for c in chars if unicodedata.category(c)[0] in "LM" and unicodedata.combining(c) == 0
    )


_LATIN = "etaoinsrhldcumfpgwybvkxjqzéáíóúàèñçäöüâêîôûëïãõåøæœßðþāēīōūčšžřęąłńśźż"
_CYRILLIC = "оеаинтсвлркдмпуяыьгзбчйхжшюцщэфъёіїєґўђјљњћџ"
_GREEK = "οαιετσνηυρπκμλωδγχθφβξζψάέήίόύώς"

SCRIPTS = (
    Script("latin", _LATIN, 0.62, 0.42, 10, cased=True),
    Script("cyrillic", _CYRILLIC, 0.07, 0.12, 10, cased=True),
    Script("greek", _GREEK, 0.01, 0.02, 10, cased=True),
    Script("arabic", _span(0x0621, 0x064A), 0.05, 0.07, 8),
    Script("hebrew", _span(0x05D0, 0x05EA), 0.01, 0.02, 8),
    Script("devanagari", _span(0x0905, 0x094C), 0.05, 0.05, 8),
    Script("tamil", _span(0x0B85, 0x0BCC), 0.02, 0.03, 8),
    Script("thai", _span(0x0E01, 0x0E44), 0.02, 0.03, 8),
    Script("ethiopic", _span(0x1200, 0x1357), 0.03, 0.01, 4),
    Script("georgian", _span(0x10D0, 0x10FA), 0.01, 0.02, 8),
    Script("armenian", _span(0x0561, 0x0586), 0.01, 0.01, 8, cased=True),
    Script("hangul", _span(0xAC00, 0xD7A3, 5), 0.01, 0.05, 3),
    Script("han", _span(0x4E00, 0x4E00 + 6_000), 0.03, 0.12, 2),
)
