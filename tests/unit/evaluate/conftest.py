"""Tiny real models for the evaluation tests: a hand-written Unigram tokenizer and a 2-layer BERT,
assembled (plain or factorized) and saved to a dir as the pipeline does."""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pytest
import torch
from tokenizers import processors

from hyperofa.factorize import factorize
from hyperofa.models import MASKED_ENCODER
from tests.tiny import tiny_bert, unigram_tokenizer

WORDS = ["cat", "dog", "runs", "sees", "the", "a", "big", "red", "fast", "kat", "hund"]
PIECES = ["\u2581", *string.ascii_lowercase, *[f"\u2581{w}" for w in WORDS], "\u2581.", "."]


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run ~100× slower when torch's threads compete with other processes for cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tokenizer():
    return xlmr_like_tokenizer()


def xlmr_like_tokenizer():
    """XLM-R-like: `<s> … </s>` around every text, so special positions are exercised."""
    tok = unigram_tokenizer(PIECES)
    tok.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return tok


def save_assembled(tokenizer, directory: Path, dim: int | None = None, seed: int = 0) -> Path:
    """A tiny BERT under the tokenizer's vocabulary, assembled and written with save_pretrained."""
    source = tiny_bert(len(tokenizer), hidden=16, seed=seed)
    E = MASKED_ENCODER.source_embeddings(source)
    rows, primitives = (E, None) if dim is None else factorize(E, dim)
    model = MASKED_ENCODER.assemble(source, rows, primitives, np.zeros(len(rows), np.float32))
    MASKED_ENCODER.save(model, tokenizer, directory)
    return directory


@pytest.fixture(scope="session", params=[None, 8], ids=["plain", "factorized"])
def model_dir(request, tokenizer, tmp_path_factory) -> Path:
    return save_assembled(tokenizer, tmp_path_factory.mktemp("assembled"), request.param)
