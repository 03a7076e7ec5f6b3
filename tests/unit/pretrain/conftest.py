"""Tiny inputs for pre-training tests: a hand-written tokenizer, repetitive text in three
"languages", and assembled tiny BERT models (plain and factorized) saved to disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hyperofa.config.pretrain import PretrainConfig
from hyperofa.factorize import factorize
from hyperofa.models import MASKED_ENCODER
from tests.tiny import tiny_bert, unigram_tokenizer

WORDS = {
    "aaa": [
        "the",
        "cat",
        "sat",
        "on",
        "the",
        "mat",
        "and",
        "the",
        "dog",
        "sat",
        "on",
        "the",
        "log",
    ],
    "bbb": [
        "la",
        "pluie",
        "tombe",
        "sur",
        "la",
        "ville",
        "et",
        "le",
        "vent",
        "souffle",
        "sur",
        "la",
        "mer",
    ],
    "ccc": [
        "ein",
        "hund",
        "und",
        "eine",
        "katze",
        "spielen",
        "im",
        "garten",
        "mit",
        "einem",
        "ball",
    ],
}


def make_tokenizer():
    pieces = sorted({f"\u2581{w}" for ws in WORDS.values() for w in ws})
    return unigram_tokenizer(pieces + list("abcdefghijklmnopqrstuvwxyz"))


def make_texts(repeats: int, seed: int = 0) -> dict[str, list[str]]:
    """Each language: `repeats` texts of its sentence with a rotated start (learnable patterns)."""
    rng = np.random.default_rng(seed)
    out = {}
    for lang, words in WORDS.items():
        texts = []
        for _ in range(repeats):
            k = int(rng.integers(len(words)))
            texts.append(" ".join(words[k:] + words[:k]))
        out[lang] = texts
    return out


def save_assembled(path: Path, vocab_size: int, dim: int | None, seed: int = 0) -> Path:
    src = tiny_bert(vocab_size, hidden=32, seed=seed)
    E = MASKED_ENCODER.source_embeddings(src)
    rows, primitives = (E, None) if dim is None else factorize(E, dim)
    bias = MASKED_ENCODER.output_bias(src)
    MASKED_ENCODER.save(MASKED_ENCODER.assemble(src, rows, primitives, bias), None, path)
    return path


@pytest.fixture(scope="session")
def tokenizer():
    return make_tokenizer()


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory, tokenizer) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("assembled")
    return {
        "plain": save_assembled(root / "plain", len(tokenizer), None),
        "factorized": save_assembled(root / "factorized", len(tokenizer), 8),
    }


def tiny_config(**overrides) -> PretrainConfig:
    values = dict(
        max_steps=6,
        batch_size=4,
        lr=3e-3,
        warmup_steps=1,
        max_length=24,
        val_check_interval=3,
        checkpoint_every_n_steps=3,
        seed=0,
    )
    return PretrainConfig(**{**values, **overrides})
