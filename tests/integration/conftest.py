"""Tiny real inputs for whole-pipeline runs: a small BERT with the real XLM-R tokenizer, word
vectors over real UDHR words, and the real UDHR text (fetched once into the shared assets)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from transformers import PreTrainedTokenizerFast

from hyperofa.assets.e5 import embedded_e5_files
from hyperofa.cli import CONF_DIR
from hyperofa.config import RunConfig, to_run_config
from hyperofa.config.schema import AssetsConfig
from hyperofa.corpus.udhr import words
from hyperofa.paths import cache_root
from hyperofa.wordvec.io import WordVectors, save_word_vectors
from tests.tiny import XLMR_SPECIALS, tiny_bert

LANGS = ["mlt", "quy", "kbd", "div"]
UNSEEN = ["fon"]


def xlmr_tokenizer() -> PreTrainedTokenizerFast:
    _, tokenizer_json = embedded_e5_files()
    return PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_json), **XLMR_SPECIALS)


@pytest.fixture(scope="session")
def corpus():
    from hyperofa.assets import embedded

    return embedded.udhr_corpus(AssetsConfig(heldout_articles=list(range(21, 31))))[0]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    tok = xlmr_tokenizer()
    out = tmp_path_factory.mktemp("tiny_model")
    model = tiny_bert(len(tok), hidden=32)
    model.config.max_position_embeddings = 64
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_vectors(tmp_path_factory, corpus) -> Path:
    """`lang:word` keys for words of the train articles of a few languages, random 12-d vectors."""
    keys = []
    for lang in ["eng", *LANGS]:
        seen = dict.fromkeys(w for t in corpus.texts([lang], "train")[lang] for w in words(t))
        keys += [f"{lang}:{w}" for w in list(seen)[:150]]
    vectors = np.random.default_rng(0).normal(size=(len(keys), 12)).astype(np.float32)
    path = tmp_path_factory.mktemp("vectors") / "tiny.w2v"
    save_word_vectors(WordVectors(keys, vectors), path)
    return path


def compose_run(overrides: list[str], run_dir: Path) -> RunConfig:
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    cfg.run_dir = str(run_dir)
    return to_run_config(cfg)


@pytest.fixture
def tiny_overrides(tiny_model_dir, tiny_vectors) -> list[str]:
    return overrides_of(tiny_model_dir, tiny_vectors)


@pytest.fixture(scope="session")
def upstream_cache(tmp_path_factory, tiny_model_dir, tiny_vectors) -> Path:
    """The cache of what every tiny run builds before initializing (the extended tokenizer, the
    token → word maps, the D'=8 factorization, the copy map), built once a session."""
    from hyperofa import pipeline

    home = tmp_path_factory.mktemp("upstream")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HYPEROFA_HOME", str(home))
        args = [*overrides_of(tiny_model_dir, tiny_vectors), "factorize.dim=8", "stages=[copy]"]
        pipeline.run(compose_run(args, home / "run"))
    return home / "cache"


@pytest.fixture
def warm_cache(upstream_cache) -> None:
    """A test's own cache starts with a copy of `upstream_cache`: it builds only what follows
    (tests of the upstream stages and of the cache itself start cold)."""
    shutil.copytree(upstream_cache, cache_root(), dirs_exist_ok=True)


def overrides_of(model_dir: Path, vectors: Path) -> list[str]:
    return [
        f"model.path={model_dir}",
        f"word_vectors.path={vectors}",
        f"langset.languages=[{','.join(LANGS)}]",
        f"langset.heldout_languages=[{','.join(UNSEEN)}]",
        "tokenizer.vocab_size=400",
        "eval.batch_size=8",
        "eval.max_length=48",
        "eval.layer=2",
    ]
