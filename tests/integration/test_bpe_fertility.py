"""Fertility on UDHR: small English decoder tokenizers (Gemma-style, byte-level) extended on four
languages in three scripts; tokens per word drop on their held-out articles, and the protected
English text keeps every id."""

from __future__ import annotations

import pytest

from hyperofa.vocab.extend import extend_tokenizer
from tests.bpe_tiny import byte_level, gemma_style

pytestmark = pytest.mark.integration

LANGUAGES = ["mlt", "yor", "tat", "div"]  # Latin, Latin with tone marks, Cyrillic, Thaana


def tokens_per_word(tokenizer, paragraphs: list[str]) -> float:
    tokens = sum(map(len, tokenizer(paragraphs, add_special_tokens=False)["input_ids"]))
    return tokens / sum(len(p.split()) for p in paragraphs)


@pytest.mark.parametrize("kind", ["gemma", "byte_level"])
def test_target_languages_get_shorter_and_protected_english_is_unchanged(corpus, kind):
    english = corpus.texts(["eng"], "train")["eng"]
    source = gemma_style(english, 2000) if kind == "gemma" else byte_level(english, 2000)
    train = corpus.texts(LANGUAGES, "train")
    target, counts = extend_tokenizer(
        source,
        [p for lang in LANGUAGES for p in train[lang]],
        vocab_size=1000,
        protected_texts=english,
    )
    assert counts["added"] == 1000 and counts["protected_words"] > 0
    heldout = corpus.texts([*LANGUAGES, "eng"], "heldout")
    for lang in LANGUAGES:
        before, after = (tokens_per_word(t, heldout[lang]) for t in (source, target))
        assert after < 0.85 * before, (lang, before, after)
    assert target(english)["input_ids"] == source(english)["input_ids"]
    ratio = tokens_per_word(target, heldout["eng"]) / tokens_per_word(source, heldout["eng"])
    assert abs(ratio - 1) < 0.03  # held-out English is not protected, but barely moves (~1 %)
