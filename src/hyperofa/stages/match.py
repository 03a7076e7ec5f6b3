"""Stage `match`: every token of a tokenizer collects its words of the word-vector space."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from hyperofa.artifacts import Artifact, cached_stage
from hyperofa.match import TokenWordMap, build_token_word_map, tokenizer_encoder
from hyperofa.paths import cache_root
from hyperofa.stages.common import Keyed, load_npy
from hyperofa.wordvec.io import WordVectors, key_words

log = logging.getLogger(__name__)
FILES = ("indptr", "indices", "multiplicity")


def match(tokenizer: Keyed, vectors: Keyed[WordVectors]) -> Artifact:
    """Token→word CSR map, with each pair's multiplicity, for every id of the tokenizer."""

    def build(tmp: Path) -> dict:
        words = key_words(vectors.value.keys)
        encode = tokenizer_encoder(tokenizer.value)
        twm = build_token_word_map(words, encode, len(tokenizer.value))
        for name in FILES:
            np.save(tmp / f"{name}.npy", getattr(twm, name))
        counts = twm.counts()
        log.info(
            "match: %s tokens, %s covered (%.1f%%), %s token-word pairs",
            f"{counts['tokens']:,}",
            f"{counts['covered']:,}",
            100 * counts["coverage"],
            f"{counts['pairs']:,}",
        )
        return counts

    # version 2: the public code's `$` forms and multiplicities (version 1 is never reused)
    inputs = {"tokenizer": tokenizer.key, "word_vectors": vectors.key}
    return cached_stage(cache_root(), "match", {"version": 2}, inputs, build)


def load(art: Artifact) -> TokenWordMap:
    return TokenWordMap(*(load_npy(art.path / f"{name}.npy") for name in FILES))
