"""Tiny inputs for pre-training tests: hand-written tokenizers (masked-LM and decoder style),
repetitive text in three "languages", and assembled tiny BERT models (plain and factorized) and
tiny decoders (tied and untied, plain and factorized) saved to disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from transformers import PreTrainedTokenizerFast

from hyperofa.config.pretrain import PretrainConfig
from hyperofa.factorize import factorize
from hyperofa.models import CAUSAL_DECODER, MASKED_ENCODER
from tests.tiny import tiny_bert, unigram_tokenizer
from tests.tiny_decoder import DECODERS

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


def _pieces(*langs: str) -> list[str]:
    return sorted({f"\u2581{w}" for lang in langs for w in WORDS[lang]})


# decoder tokenizers: the source's pieces (aaa and bbb words, letters) below this id, then the
# words of ccc, as a vocabulary extension for ccc would append them
DECODER_SOURCE = 4 + len(_pieces("aaa", "bbb")) + 26


def decoder_tokenizer(pad: bool = True) -> PreTrainedTokenizerFast:
    """BOS `<s>` 0, EOS `</s>` 2 and no CLS, SEP or mask token; a pad token `<pad>` 1 (Gemma
    style) or none (`pad=False`, Llama style). Ids ≥ DECODER_SOURCE are ccc's new words."""
    source = _pieces("aaa", "bbb") + list("abcdefghijklmnopqrstuvwxyz")
    new = [p for p in _pieces("ccc") if p not in source]
    backend = unigram_tokenizer(source + new, with_mask=False).backend_tokenizer
    roles = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, **roles, **({"pad_token": "<pad>"} if pad else {})
    )


def _extended(matrix: np.ndarray | None, vocab: int, dim: int | None) -> tuple:
    """(rows or coordinates, primitives) of `matrix` plus vocab − len(matrix) new rows (halves
    of the first ones); (None, None) for no matrix."""
    if matrix is None:
        return None, None
    rows, primitives = (matrix, None) if dim is None else factorize(matrix, dim)
    return np.concatenate([rows, rows[: vocab - len(rows)] * 0.5]), primitives


def save_decoder(path: Path, kind: str, vocab_size: int, dim: int | None = None) -> Path:
    """The tiny `kind` decoder (tests.tiny_decoder) with DECODER_SOURCE tokens, assembled under
    `vocab_size` tokens (plain, or factorized to `dim`), saved to `path`."""
    source = DECODERS[kind](DECODER_SOURCE)
    rows, primitives = _extended(CAUSAL_DECODER.source_embeddings(source), vocab_size, dim)
    out_rows, out_primitives = _extended(CAUSAL_DECODER.output_embeddings(source), vocab_size, dim)
    model = CAUSAL_DECODER.assemble(source, rows, primitives, None, out_rows, out_primitives)
    CAUSAL_DECODER.save(model, None, path)
    return path


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
