"""Stage `match`: every token of a tokenizer collects its words of the word-vector space."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from hyperofa.artifacts import Artifact, cached_stage
from hyperofa.match import TokenWordMap, build_token_word_map, token_vectors, tokenizer_encoders
from hyperofa.paths import cache_root
from hyperofa.stages.common import Keyed, load_npy
from hyperofa.wordvec.io import WordVectors, split_key

log = logging.getLogger(__name__)


def match(tokenizer: Keyed, vectors: Keyed[WordVectors]) -> Artifact:
    """Token→word CSR map and token vectors in word space for every id of the tokenizer."""

    def build(tmp: Path) -> dict:
        words = [split_key(k)[1] for k in vectors.value.keys]
        encode, encode_internal = tokenizer_encoders(tokenizer.value)  # WordPiece: `$` continues
        n = len(tokenizer.value)
        twm = build_token_word_map(words, encode, n, encode_internal=encode_internal)
        token_vecs, has = token_vectors(twm, vectors.value.vectors)
        np.save(tmp / "indptr.npy", twm.indptr)
        np.save(tmp / "indices.npy", twm.indices)
        np.save(tmp / "token_vectors.npy", token_vecs)
        np.save(tmp / "has_vector.npy", has)
        counts = twm.counts()
        log.info(
            "match: %s tokens, %s covered (%.1f%%), %s token-word pairs",
            f"{counts['tokens']:,}",
            f"{counts['covered']:,}",
            100 * counts["coverage"],
            f"{counts['pairs']:,}",
        )
        return counts

    inputs = {"tokenizer": tokenizer.key, "word_vectors": vectors.key}
    return cached_stage(cache_root(), "match", {}, inputs, build)


def load(art: Artifact) -> tuple[TokenWordMap, np.ndarray, np.ndarray]:
    """(token→word map, token vectors (V, d) float32, has_vector (V,) bool)."""
    twm = TokenWordMap(load_npy(art.path / "indptr.npy"), load_npy(art.path / "indices.npy"))
    return twm, load_npy(art.path / "token_vectors.npy"), load_npy(art.path / "has_vector.npy")
