"""Text by language for the embedded default: UDHR paragraphs split into train / held-out articles.

Train articles feed the word vectors, the tokenizer and continued pre-training; held-out articles
feed evaluation only. Languages are UDHR file codes (`deu_1996`) or ISO 639-3 codes (`deu`, all
files of that language).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from hyperofa.corpus.udhr import ENGLISH_CODE, Paragraph, parallel_articles, split_by_article
from hyperofa.errors import EmptyInputError


@dataclass
class UDHRCorpus:
    paragraphs: Sequence[Paragraph]
    heldout_articles: Sequence[int]
    _by_code: dict[str, list[Paragraph]] = field(init=False, repr=False)
    _parallel: dict[str, frozenset[int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_code = defaultdict(list)
        for p in self.paragraphs:
            self._by_code[p.code].append(p)
        self._parallel = parallel_articles(self.paragraphs)

    def codes(self, language: str) -> list[str]:
        """File codes of a language given as a file code or an ISO 639-3 code."""
        if language in self._by_code:
            return [language]
        return sorted(c for c, ps in self._by_code.items() if ps[0].lang == language)

    def languages(self) -> list[str]:
        """Every ISO 639-3 language with a declaration."""
        return sorted({ps[0].lang for ps in self._by_code.values()})

    def check(
        self, languages: Sequence[str], key: str, splits: Sequence[str] = ("train", "heldout")
    ) -> None:
        """EmptyInputError naming every language (and the config key) without text in a split."""
        for split in splits:
            missing = [lang for lang in languages if not self.texts([lang], split)[lang]]
            if missing:
                raise EmptyInputError(
                    f"`{key}`: no UDHR {split} text for {missing}; expected UDHR file codes "
                    f"(e.g. deu_1996) or ISO 639-3 codes whose declaration has the "
                    f"{split} articles (held out: {sorted(self.heldout_articles)})"
                )

    def texts(self, languages: Sequence[str], split: str) -> dict[str, list[str]]:
        """language → paragraph texts of the `train` or `heldout` articles."""
        held = set(self.heldout_articles)
        want_heldout = split == "heldout"
        return {
            lang: [
                p.text
                for code in self.codes(lang)
                for p in self._by_code[code]
                if (p.article in held) == want_heldout
            ]
            for lang in languages
        }

    def heldout_pairs(self, languages: Sequence[str]) -> dict[str, tuple[list[str], list[str]]]:
        """language → (held-out paragraphs, their English translations), aligned by position.

        Only articles where the language's first file is paragraph-parallel with English count.
        """
        _, eng_heldout = split_by_article(self._by_code[ENGLISH_CODE], self.heldout_articles)
        english = {(p.article, p.index): p.text for p in eng_heldout}
        pairs = {}
        for lang in languages:
            codes = self.codes(lang)
            if not codes or lang == ENGLISH_CODE:
                continue
            ok = self._parallel.get(codes[0], frozenset())
            chosen = [
                p
                for p in self._by_code[codes[0]]
                if p.article in ok and (p.article, p.index) in english
            ]
            if chosen:
                pairs[lang] = (
                    [p.text for p in chosen],
                    [english[(p.article, p.index)] for p in chosen],
                )
        return pairs
