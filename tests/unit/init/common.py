"""Small inputs for initializer tests: random token→word maps and hand-written tokenizers whose
pieces (and hence every FVT split) can be checked by hand."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from hyperofa.init.base import InitInputs
from hyperofa.match import TokenWordMap
from hyperofa.vocab.copy import CopyKind, CopyMap, copy_map
from tests.tiny import unigram_tokenizer
from tests.wordpiece_tiny import wordpiece_tokenizer

# OFA's vocabulary-kind heuristics need > 100 marked pieces: filler pieces no test text uses
SP_FILLER = [f"\u2581q{i}" for i in range(101)]
WP_FILLER = [f"##q{i}" for i in range(101)]


def random_map(
    rng: np.random.Generator, n_tokens: int, n_words: int, covered: float
) -> TokenWordMap:
    """Each covered token holds 1..4 distinct words, each 1..3 times."""
    rows, counts = [], []
    for _ in range(n_tokens):
        n = int(rng.integers(1, 5)) if rng.random() < covered else 0
        rows.append(np.sort(rng.choice(n_words, n, replace=False)))
        counts.append(rng.integers(1, 4, n))
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    return TokenWordMap(indptr, np.concatenate(rows), np.concatenate(counts).astype(np.int8))


def empty_map(n_tokens: int) -> TokenWordMap:
    zeros = np.zeros(n_tokens + 1, dtype=np.int64)
    return TokenWordMap(zeros, zeros[:0], zeros[:0].astype(np.int8))


def sp_pair(source: Sequence[str], new: Sequence[str]):
    """XLM-R-style Unigram tokenizers: `source` pieces, and the target = source + `new`."""
    src = unigram_tokenizer([*source, *SP_FILLER])
    return src, unigram_tokenizer([*source, *SP_FILLER, *new])


def wp_pair(source: Sequence[str], new: Sequence[str]):
    src = wordpiece_tokenizer([*source, *WP_FILLER])
    return src, wordpiece_tokenizer([*source, *WP_FILLER, *new])


def byte_level_bpe(merges: Sequence[tuple[str, str]], extra: Sequence[str] = ()):
    """A GPT-2-style byte-level BPE over the letters of `merges`, `Ġ` marking a word start."""
    vocab: dict[str, int] = {"<unk>": 0}
    for a, b in merges:
        for piece in (*a, *b, a + b):
            vocab.setdefault(piece, len(vocab))
    for piece in extra:
        vocab.setdefault(piece, len(vocab))
    backend = Tokenizer(models.BPE(vocab, list(merges), unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>")


def tokenizer_inputs(source, target, seed: int = 0, k: int = 3) -> InitInputs:
    """Inputs over two real tokenizers: their copy map, random source rows, no words."""
    rows = np.random.default_rng(7).normal(size=(len(source), k)).astype(np.float32)
    return InitInputs(
        source_rows=rows,
        copy=copy_map(source, target),
        source_words=empty_map(len(source)),
        target_words=empty_map(len(target)),
        word_vectors=np.zeros((1, 2), dtype=np.float32),
        seed=seed,
        source_tokenizer=source,
        target_tokenizer=target,
    )


def plain_copy(n_target: int, copied: dict[int, int]) -> CopyMap:
    """Target tokens `copied` (target → source) copied exactly, the rest new."""
    source_id = np.full(n_target, -1, dtype=np.int64)
    kind = np.zeros(n_target, dtype=np.int8)
    for t, s in copied.items():
        source_id[t], kind[t] = s, CopyKind.EXACT
    return CopyMap(source_id, kind)
