"""Text → packed blocks, language sampling by temperature, and the checks run before training.

Pure functions over arrays: no Lightning, no logging. A masked-LM block is `[CLS] t_1 … t_{L-2}
[SEP]` cut from one language's texts concatenated with a separator between them (RoBERTa's
FULL-SENTENCES); a causal block is `<bos> t_1 … t_{L-1}` cut from the texts each followed by
`<eos>` (a cut never adds an EOS inside a text, and every block starts with BOS as Gemma
expects). The last block of a language may be shorter and is padded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hyperofa.config.pretrain import PretrainConfig
from hyperofa.config.rules import check_tree
from hyperofa.corpus.texts import check_texts, clean_texts, load_texts, select_texts
from hyperofa.errors import ConfigError, EmptyInputError, IncompatibleInputsError

# model types whose position ids start after the padding index (`padding_idx + 1`)
OFFSET_POSITION_MODELS = ("roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "longformer")


def max_sequence_length(model_config: Any) -> int:
    """Longest input the model's position embeddings allow (RoBERTa-style models lose
    `pad_token_id + 1` positions to their offset)."""
    positions = int(model_config.max_position_embeddings)
    if getattr(model_config, "model_type", "") in OFFSET_POSITION_MODELS:
        positions -= int(getattr(model_config, "pad_token_id", 1) or 0) + 1
    return positions


def check_max_length(max_length: int, model_config: Any) -> None:
    limit = max_sequence_length(model_config)
    if max_length > limit:
        raise ConfigError(
            "pretrain.max_length",
            max_length,
            f"<= {limit}, the model's positions (max_position_embeddings "
            f"{model_config.max_position_embeddings}, {model_config.model_type})",
        )


@dataclass(frozen=True)
class SpecialIds:
    """Token ids the packer and the masker need, and the block layout they serve (`masked`)."""

    start: int  # [CLS] / <s> / <bos> (a causal tokenizer without BOS: its EOS, as GPT-2 / Qwen)
    end: int  # [SEP] / </s> / <eos>, also between texts
    pad: int  # a causal tokenizer without one pads with EOS (padding is never scored)
    mask: int | None  # None for next-token prediction
    vocab_size: int  # len(tokenizer): random replacements are drawn below it
    special: frozenset[int]
    masked: bool = True  # masked-LM blocks (else next-token prediction)

    @classmethod
    def from_tokenizer(cls, tokenizer: Any, masked: bool = True) -> SpecialIds:
        """The ids of `tokenizer` for a masked LM (start, end, pad and mask tokens required) or a
        causal LM (`masked=False`: an EOS token required); IncompatibleInputsError naming the
        missing ones."""
        bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
        if masked:
            start = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else bos
            end = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else eos
            pad, mask = tokenizer.pad_token_id, tokenizer.mask_token_id
            ids = {"start (cls/bos)": start, "end (sep/eos)": end, "pad": pad, "mask": mask}
        else:
            start, end, mask = bos if bos is not None else eos, eos, None
            pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
            ids = {"end (eos)": end}
        missing = [name for name, i in ids.items() if i is None]
        if missing:
            needs = "MLM needs them" if masked else "next-token prediction needs it"
            raise IncompatibleInputsError(f"the tokenizer has no {missing} token: {needs}")
        special = frozenset(int(i) for i in tokenizer.all_special_ids)
        return cls(
            int(start),
            int(end),
            int(pad),
            None if mask is None else int(mask),
            len(tokenizer),
            special | {int(start), int(end), int(pad)},
            masked,
        )


@dataclass(frozen=True)
class PackedBlocks:
    """input_ids [N, L] int32 (padded), lengths [N] (real tokens), language [N] (index into
    `languages`, non-decreasing: blocks grouped by language in index order)."""

    input_ids: np.ndarray
    lengths: np.ndarray
    language: np.ndarray
    languages: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.language) and (np.diff(self.language) < 0).any():
            raise ValueError("blocks must be grouped by language in index order")

    def __len__(self) -> int:
        return len(self.input_ids)

    def counts(self) -> np.ndarray:
        """Blocks per language [len(languages)]."""
        return np.bincount(self.language, minlength=len(self.languages))

    def row(self, block: int) -> tuple[np.ndarray, int, int]:
        """(input_ids [L], length, language index) of block `block`."""
        return self.input_ids[block], int(self.lengths[block]), int(self.language[block])

    def limit_per_language(self, n: int | None) -> PackedBlocks:
        """The first `n` blocks of each language (all when n is None)."""
        if n is None:
            return self
        rank = np.zeros(len(self), dtype=np.int64)
        for lang in range(len(self.languages)):
            where = np.flatnonzero(self.language == lang)
            rank[where] = np.arange(len(where))
        keep = rank < n
        return PackedBlocks(
            self.input_ids[keep], self.lengths[keep], self.language[keep], self.languages
        )


def body_length(max_length: int, ids: SpecialIds) -> int:
    """Stream tokens per block: all but [start] and [end] (masked), all but [start] (causal)."""
    return max_length - 2 if ids.masked else max_length - 1


def pack_stream(
    stream: np.ndarray, max_length: int, ids: SpecialIds
) -> tuple[np.ndarray, np.ndarray]:
    """One token stream [T] → blocks [ceil(T/body), L] (see `body_length`), and their lengths:
    `[start] chunk [end]` (masked) or `[start] chunk` (causal), padded."""
    body = body_length(max_length, ids)
    n = -(-len(stream) // body)
    blocks = np.full((n, max_length), ids.pad, dtype=np.int32)
    lengths = np.empty(n, dtype=np.int32)
    for i in range(n):
        chunk = stream[i * body : (i + 1) * body]
        blocks[i, 0] = ids.start
        blocks[i, 1 : 1 + len(chunk)] = chunk
        if ids.masked:
            blocks[i, 1 + len(chunk)] = ids.end
        lengths[i] = len(chunk) + (2 if ids.masked else 1)
    return blocks, lengths


def _language_stream(tokenizer: Any, texts: Sequence[str], ids: SpecialIds) -> np.ndarray:
    """A language's texts as one stream: the end token between texts (masked) or after each
    text (causal, so every text's last token predicts EOS)."""
    pieces = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    stream: list[int] = []
    for i, piece in enumerate(pieces):
        if i and ids.masked:
            stream.append(ids.end)
        stream.extend(piece)
        if not ids.masked:
            stream.append(ids.end)
    return np.asarray(stream, dtype=np.int32)


def pack_corpus(
    tokenizer: Any,
    texts: Mapping[str, Sequence[str]],
    max_length: int,
    languages: Sequence[str],
    masked: bool = True,
) -> PackedBlocks:
    """Tokenize and pack each language of `texts` separately, as masked-LM or causal blocks;
    `languages` fixes the index order (a language of `texts` not in it is an error)."""
    ids = SpecialIds.from_tokenizer(tokenizer, masked)
    index = {lang: i for i, lang in enumerate(languages)}
    parts, lengths, language = [], [], []
    for lang in sorted(texts, key=index.__getitem__):
        stream = _language_stream(tokenizer, texts[lang], ids)
        if not len(stream):
            continue
        blocks, lens = pack_stream(stream, max_length, ids)
        parts.append(blocks)
        lengths.append(lens)
        language.append(np.full(len(blocks), index[lang], dtype=np.int16))
    if not parts:
        raise EmptyInputError("no tokens left to pack: every text tokenized to nothing")
    return PackedBlocks(
        np.concatenate(parts), np.concatenate(lengths), np.concatenate(language), tuple(languages)
    )


def temperature_probabilities(counts: np.ndarray, alpha: float) -> np.ndarray:
    """p_l ∝ n_l^α over languages with n_l > 0 (α = 1 proportional, α = 0 uniform) [L]."""
    counts = np.asarray(counts, dtype=np.float64)
    weights = np.where(counts > 0, np.power(np.maximum(counts, 1e-300), alpha), 0.0)
    return weights / weights.sum()


def epoch_order(
    counts: np.ndarray, probabilities: np.ndarray, num_samples: int, seed: int, epoch: int
) -> np.ndarray:
    """Block indices of one epoch [num_samples]: a language drawn from `probabilities` per sample,
    then that language's blocks in shuffled passes (each pass a new permutation).

    counts [len(probabilities)]: blocks per language, which hold consecutive block indices in
    language order (as `pack_corpus` and the prepared data lay them out). Deterministic in
    (seed, epoch).
    """
    rng = np.random.default_rng([seed, epoch])
    langs = rng.choice(len(probabilities), size=num_samples, p=probabilities)
    starts = np.cumsum(counts) - counts
    order = np.empty(num_samples, dtype=np.int64)
    for lang in range(len(probabilities)):
        where = np.flatnonzero(langs == lang)
        if not len(where):
            continue
        n = int(counts[lang])
        passes = -(-len(where) // n)
        perms = np.argsort(rng.random((passes, n)), axis=1).ravel()[: len(where)]
        order[where] = starts[lang] + perms
    return order


def check_inputs(
    model_config: Any, tokenizer: Any, cfg: PretrainConfig, masked: bool = True
) -> SpecialIds:
    """The config, the block length and the tokenizer against the model; the tokenizer's ids for
    the objective (`masked`: masked LM, else next-token prediction)."""
    check_tree(cfg, "pretrain")
    check_max_length(cfg.max_length, model_config)
    ids = SpecialIds.from_tokenizer(tokenizer, masked)
    if ids.vocab_size > model_config.vocab_size:
        raise IncompatibleInputsError(
            f"the tokenizer has {ids.vocab_size} tokens but the model's vocabulary {model_config.vocab_size}"
        )
    return ids


def prepare_data(
    model_config: Any,
    tokenizer: Any,
    train_texts: Any,
    val_texts: Any,
    cfg: PretrainConfig,
    masked: bool = True,
) -> tuple[PackedBlocks, PackedBlocks, SpecialIds]:
    """Every input check, then packed train and held-out blocks in memory (masked-LM or causal
    layout); raises named errors only. `cfg.max_texts_per_language` and `cfg.languages` select
    the texts as the prepared data (`prepare.prepare_cpt_data`) does."""
    ids = check_inputs(model_config, tokenizer, cfg, masked)
    train = select_texts(load_texts(train_texts), cfg.max_texts_per_language, cfg.languages)
    val = select_texts(load_texts(val_texts), None, cfg.languages)
    train, val = clean_texts(train), clean_texts(val)
    check_texts(train, val)
    languages = sorted(train) + sorted(set(val) - set(train))
    train_blocks = pack_corpus(tokenizer, train, cfg.max_length, languages, masked)
    val_blocks = pack_corpus(tokenizer, val, cfg.max_length, languages, masked)
    return train_blocks, val_blocks.limit_per_language(cfg.val_max_blocks_per_language), ids


def accumulation(cfg: PretrainConfig, world_size: int) -> int:
    """Micro-batches per optimizer step on each of `world_size` devices."""
    if cfg.effective_batch_size is None:
        return cfg.accumulate_grad_batches
    per_step = cfg.batch_size * world_size
    if cfg.effective_batch_size % per_step:
        raise ConfigError(
            "pretrain.effective_batch_size",
            cfg.effective_batch_size,
            f"a multiple of batch_size × devices = {cfg.batch_size} × {world_size}",
        )
    return cfg.effective_batch_size // per_step
