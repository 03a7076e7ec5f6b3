"""Matching's encoding with the real XLM-R tokenizer (the embedded e5's: SentencePiece's precompiled
normalizer, WhitespaceSplit, Metaspace, Unigram over 250,002 pieces): the Rust encoder
(`pretokenized_encoder`) against the compiled Viterbi (`hyperofa.match.unigram`), side by side on
the surface forms of every distinct UDHR word (~440 languages), the same ids asserted.

The paper-scale bench's synthetic tokenizers have no normalizer; this is the figure with one: the
compiled path still runs the normalizer through `tokenizers`, a string at a time.
"""

from __future__ import annotations

import time

import numpy as np
from tokenizers import Tokenizer

from hyperofa.assets import embedded
from hyperofa.assets.e5 import embedded_e5_files
from hyperofa.config.schema import AssetsConfig
from hyperofa.corpus.udhr import words
from hyperofa.match import LeadingSpace, pretokenized_encoder, surface_forms
from hyperofa.match.unigram import unigram_encoder

BATCH = 20_000  # strings a call, as `build_token_word_map` sends them
ROUNDS = 3


def _timed(encode, texts: list[str]) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    ids = [encode(texts[s : s + BATCH])[0] for s in range(0, len(texts), BATCH)]
    return time.perf_counter() - started, np.concatenate(ids)


def main() -> None:
    _, tokenizer_json = embedded_e5_files()
    backend = Tokenizer.from_file(str(tokenizer_json))
    corpus, _ = embedded.udhr_corpus(AssetsConfig())
    distinct = sorted({w for p in corpus.paragraphs for w in words(p.text)})
    texts = surface_forms(distinct, LeadingSpace.of(backend)).texts
    rust = pretokenized_encoder(backend)
    compiled = unigram_encoder(backend, rust)
    started = time.perf_counter()
    compiled(texts[:BATCH])  # reads the vocabulary, builds the trie, checks a sample
    setup = time.perf_counter() - started
    best = {"rust": np.inf, "compiled": np.inf, "normalizer": np.inf}
    for _ in range(ROUNDS):  # alternating, the minimum of each
        seconds, theirs = _timed(rust, texts)
        best["rust"] = min(best["rust"], seconds)
        seconds, ours = _timed(compiled, texts)
        best["compiled"] = min(best["compiled"], seconds)
        assert np.array_equal(ours, theirs), "the compiled Viterbi's ids differ from Rust's"
        started = time.perf_counter()
        list(map(backend.normalizer.normalize_str, texts))
        best["normalizer"] = min(best["normalizer"], time.perf_counter() - started)
    per = {k: 1e6 * v / len(texts) for k, v in best.items()}
    print(f"{len(distinct):,} distinct UDHR words → {len(texts):,} strings; ids equal")
    print(f"Rust encoder:      {best['rust']:.2f} s ({per['rust']:.1f} µs a string)")
    print(
        f"compiled Viterbi:  {best['compiled']:.2f} s ({per['compiled']:.1f} µs a string) → "
        f"{best['rust'] / best['compiled']:.1f}× faster; of it the normalizer (tokenizers, one "
        f"thread) {best['normalizer']:.2f} s; set-up once {setup:.1f} s"
    )
