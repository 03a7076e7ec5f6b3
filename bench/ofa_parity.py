"""OFA parity on the embedded default: the library's match → copy → ofa against the public OFA code
written out literally (`tests/oracle_ofa.py`), on the artifacts `make demo` built.

`python -m bench ofa_parity` finds them under `$HYPEROFA_HOME` (default ./outputs) and
`$HYPEROFA_ASSETS`: the source model dir `assets/e5_small_mlm/*/`, the word vectors
`assets/udhr_word_vectors/*/vectors.w2v`, the extended target tokenizer
`cache/extend_tokenizer/*/` (the newest of each); `python -m bench.ofa_parity SOURCE VECTORS
TARGET` names them. Prints the agreement of the token→word maps (word sets, multisets), of the copy
maps, and for plain rows (E) and D'=100 coordinates the share of OFA-initialized target rows equal
within 1e-5, with the ties at the k-th neighbour (where the public code's `np.argpartition` and our
lower-id rule may pick differently). Low-level functions only, not the pipeline.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from tests import oracle_ofa

from hyperofa.config.initializers import OFAConfig
from hyperofa.factorize import factorize
from hyperofa.init.base import InitInputs, initialize
from hyperofa.init.ofa import OFAInitializer
from hyperofa.init.provenance import Provenance
from hyperofa.match import TokenWordMap, build_token_word_map, tokenizer_encoder
from hyperofa.paths import assets_root, cache_root
from hyperofa.vocab.copy import CopyKind, CopyMap, copy_map
from hyperofa.wordvec.io import load_word_vectors, split_key

TOLERANCE = 1e-5
DIM = 100


def _newest(root: Path, pattern: str) -> Path:
    found = sorted(root.glob(pattern), key=lambda p: p.stat().st_mtime)
    if not found:
        raise SystemExit(f"ofa_parity: nothing matches {root / pattern}; run `make demo` first")
    return found[-1]


def default_paths() -> tuple[Path, Path, Path]:
    """(source model dir, word vectors file, target tokenizer dir) of the newest demo build."""
    return (
        _newest(assets_root(), "e5_small_mlm/*/model.safetensors").parent,
        _newest(assets_root(), "udhr_word_vectors/*/vectors.w2v"),
        _newest(cache_root(), "extend_tokenizer/*/tokenizer.json").parent,
    )


def source_embeddings(model_dir: Path, rows: int) -> np.ndarray:
    """E, float32 (rows, D): the word-embedding matrix of a safetensors masked LM."""
    from safetensors import safe_open

    with safe_open(str(model_dir / "model.safetensors"), "np") as f:
        (name,) = [k for k in f.keys() if k.endswith("word_embeddings.weight")]  # noqa: SIM118
        return np.asarray(f.get_tensor(name)[:rows], dtype=np.float32)


def map_agreement(ours: TokenWordMap, lists: dict[int, list[int]]) -> tuple[int, int]:
    """(tokens with the same word set, tokens with the same multiset) as the public lists."""
    same_set = same_multiset = 0
    for t in range(ours.num_tokens):
        pairs = slice(ours.indptr[t], ours.indptr[t + 1])
        words, times = ours.indices[pairs].tolist(), ours.multiplicity[pairs].tolist()
        counted = dict(zip(words, times, strict=True))
        public = Counter(lists.get(t, []))
        same_set += set(counted) == set(public)
        same_multiset += counted == public
    return same_set, same_multiset


def row_parity(ours: np.ndarray, provenance: np.ndarray, public: dict, ties: set) -> dict:
    """Agreement of our initialized rows with the public code's."""
    initialized = set(np.flatnonzero(provenance == Provenance.INITIALIZED).tolist())
    common = sorted(initialized & set(public))
    differ = {t for t in common if np.abs(ours[t] - public[t]).max() > TOLERANCE}
    return {
        "public": len(public),
        "ours": len(initialized),
        "same_tokens": initialized == set(public),
        "equal": len(common) - len(differ),
        "ties": len(ties),
        "differ_at_ties": len(differ & ties),
        "differ_without_tie": len(differ - ties),
    }


def _print_rows(label: str, r: dict) -> None:
    share = r["equal"] / max(r["public"], 1)
    print(
        f"  {label}: {r['equal']:,}/{r['public']:,} initialized rows equal within {TOLERANCE:g} "
        f"({share:.2%}); same initialized tokens: {r['same_tokens']}; ties at the k-th neighbour "
        f"{r['ties']:,}, rows differing there {r['differ_at_ties']:,}, without a tie "
        f"{r['differ_without_tie']:,}"
    )


def _load(paths: tuple[Path, Path, Path]):
    from transformers import AutoTokenizer

    source_dir, vectors_path, target_dir = paths
    source = AutoTokenizer.from_pretrained(source_dir)
    target = AutoTokenizer.from_pretrained(target_dir)
    wv = load_word_vectors(vectors_path)
    print(f"source {source_dir} ({len(source):,} ids), target {target_dir} ({len(target):,} ids)")
    print(f"word vectors {vectors_path}: {len(wv.keys):,} × {wv.vectors.shape[1]}")
    return source, target, wv


def _maps(source, target, wv) -> dict:
    words = [split_key(k)[1] for k in wv.keys]
    started = time.perf_counter()
    ours = {
        side: build_token_word_map(words, tokenizer_encoder(tok), len(tok))
        for side, tok in (("source", source), ("target", target))
    }
    mid = time.perf_counter()
    public = {
        side: oracle_ofa.word_lists(tok, wv.keys)
        for side, tok in (("source", source), ("target", target))
    }
    print(f"match: ours {mid - started:.1f}s, public loop {time.perf_counter() - mid:.1f}s")
    for side in ("source", "target"):
        same_set, same_multiset = map_agreement(ours[side], public[side])
        n = ours[side].num_tokens
        print(
            f"  {side}: word sets equal for {same_set:,}/{n:,} tokens, multisets for "
            f"{same_multiset:,}/{n:,}; {ours[side].counts()['covered']:,} covered"
        )
    return {"ours": ours, "public": public}


def _copy(source, target) -> tuple[CopyMap, dict[int, int]]:
    ours = copy_map(source, target)
    public = oracle_ofa.overlapping_tokens(target, source)
    copied = np.flatnonzero(ours.kind != CopyKind.NONE)
    mine = dict(zip(copied.tolist(), ours.source_id[copied].tolist(), strict=True))
    differ = sum(mine.get(t) != s for t, s in public.items()) + len(mine.keys() - public.keys())
    c = ours.counts()
    print(
        f"copy: {len(public):,} public, {len(mine):,} ours ({c['copied_exact']:,} exact, "
        f"{c['copied_ci']:,} case-insensitive, {c['special']} special); differing: {differ}"
    )
    return ours, public


def main(argv: list[str] | None = None) -> None:
    paths = tuple(Path(a) for a in argv) if argv else default_paths()
    source, target, wv = _load(paths)
    maps = _maps(source, target, wv)
    copy, public_copy = _copy(source, target)
    vectors = {
        side: oracle_ofa.subword_vectors(len(tok), maps["public"][side], wv.vectors)
        for side, tok in (("source", source), ("target", target))
    }
    embeddings = source_embeddings(paths[0], len(source))
    for label, rows in (("E", embeddings), (f"D'={DIM}", factorize(embeddings, DIM)[0])):
        public, ties = oracle_ofa.target_rows(
            source, vectors["source"], vectors["target"], rows, set(public_copy), batch_size=64
        )
        for weighting in ("multiset", "set"):
            ours = maps["ours"]
            inputs = InitInputs(rows, copy, ours["source"], ours["target"], wv.vectors)
            result = initialize(
                OFAInitializer(OFAConfig(word_weighting=weighting, use_gpu=False)), inputs
            )
            parity = row_parity(result.rows, result.provenance, public, ties)
            _print_rows(f"{label} ({rows.shape[1]}-d), word_weighting={weighting}", parity)


if __name__ == "__main__":
    main(sys.argv[1:])
