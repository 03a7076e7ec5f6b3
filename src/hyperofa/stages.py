"""Stages as cached artifacts: each wraps a pure function, keyed by its config and its inputs' keys.

A sweep over initializers therefore runs `match` and `factorize` once and reuses them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from hyperofa.artifacts import Artifact, cached_stage, write_json_atomic
from hyperofa.factorize import factorize, relative_error
from hyperofa.init.base import InitResult
from hyperofa.match import TokenWordMap, build_token_word_map, tokenizer_encoder
from hyperofa.paths import cache_root
from hyperofa.vocab.copy import CopyMap, copy_map
from hyperofa.wordvec.io import WordVectors, split_key

log = logging.getLogger(__name__)


def fingerprint(path: Path) -> str:
    """A cheap identity of a user-given file or dir: names, sizes and modification times."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    h = hashlib.sha256()
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(path.parent)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def _load_npy(path: Path) -> np.ndarray:
    return np.load(path, allow_pickle=False)


# --- match -------------------------------------------------------------------------------------


def match_stage(tokenizer, tokenizer_key: str, wv: WordVectors, wv_key: str) -> Artifact:
    """Token→word CSR map, with each pair's multiplicity, for every id of `tokenizer`."""

    def build(tmp: Path) -> dict:
        words = [split_key(k)[1] for k in wv.keys]
        twm = build_token_word_map(words, tokenizer_encoder(tokenizer), len(tokenizer))
        np.save(tmp / "indptr.npy", twm.indptr)
        np.save(tmp / "indices.npy", twm.indices)
        np.save(tmp / "multiplicity.npy", twm.multiplicity)
        counts = twm.counts()
        log.info(
            "match: %s tokens, %s covered (%.1f%%), %s token-word pairs",
            f"{counts['tokens']:,}",
            f"{counts['covered']:,}",
            100 * counts["coverage"],
            f"{counts['pairs']:,}",
        )
        return counts

    # version 2: the public code's `$` forms, multiplicities, no token vectors (a new key, so an
    # artifact of version 1 is never reused)
    return cached_stage(
        cache_root(),
        "match",
        {"version": 2},
        {"tokenizer": tokenizer_key, "word_vectors": wv_key},
        build,
    )


def load_match(art: Artifact) -> TokenWordMap:
    files = ("indptr.npy", "indices.npy", "multiplicity.npy")
    return TokenWordMap(*(_load_npy(art.path / f) for f in files))


# --- factorize ---------------------------------------------------------------------------------


def factorize_stage(embeddings: np.ndarray, model_key: str, dim: int) -> Artifact:
    def build(tmp: Path) -> dict:
        coordinates, primitives = factorize(embeddings, dim)
        save_file(
            {"coordinates": coordinates, "primitives": primitives}, str(tmp / "factors.safetensors")
        )
        err = relative_error(embeddings, coordinates, primitives)
        log.info(
            "factorize: E %s → F %s · P %s, relative error %.4f",
            embeddings.shape,
            coordinates.shape,
            primitives.shape,
            err,
        )
        return {
            "rows": len(coordinates),
            "dim": dim,
            "hidden": embeddings.shape[1],
            "relative_error": err,
        }

    config = {"dim": dim, "rows": len(embeddings)}
    return cached_stage(cache_root(), "factorize", config, {"model": model_key}, build)


def load_factors(art: Artifact) -> tuple[np.ndarray, np.ndarray]:
    t = load_file(str(art.path / "factors.safetensors"))
    return t["coordinates"], t["primitives"]


# --- copy --------------------------------------------------------------------------------------


def copy_stage(source_tok, source_key: str, target_tok, target_key: str) -> Artifact:
    def build(tmp: Path) -> dict:
        m = copy_map(source_tok, target_tok)
        np.save(tmp / "source_id.npy", m.source_id)
        np.save(tmp / "kind.npy", m.kind)
        return {"source": len(source_tok), "target": len(target_tok), **m.counts()}

    # version 2: the public code's collision rules (a new key: version 1 is never reused)
    return cached_stage(
        cache_root(), "copy", {"version": 2}, {"source": source_key, "target": target_key}, build
    )


def load_copy(art: Artifact) -> CopyMap:
    return CopyMap(_load_npy(art.path / "source_id.npy"), _load_npy(art.path / "kind.npy"))


# --- initialize --------------------------------------------------------------------------------


def save_initialization(
    tmp: Path, result: InitResult, primitives: np.ndarray | None, copied_from: np.ndarray
) -> None:
    """Target coordinates (+ primitives) in safetensors; provenance (int8) and the copy map
    (source id per target token, −1 = not copied) as npy; counts as json."""
    tensors = (
        {"coordinates": result.rows, "primitives": primitives}
        if primitives is not None
        else {"embeddings": result.rows}
    )
    save_file(tensors, str(tmp / "rows.safetensors"))
    np.save(tmp / "provenance.npy", result.provenance)
    np.save(tmp / "copied_from.npy", copied_from)
    write_json_atomic(tmp / "provenance_counts.json", result.counts())


def load_initialization(art: Artifact) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    t = load_file(str(art.path / "rows.safetensors"))
    rows = t.get("coordinates", t.get("embeddings"))
    return rows, t.get("primitives"), _load_npy(art.path / "provenance.npy")


def load_copied_from(art: Artifact) -> np.ndarray:
    return _load_npy(art.path / "copied_from.npy")


def read_metrics(art: Artifact) -> dict:
    path = art.path / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else {}
