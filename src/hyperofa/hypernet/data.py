"""Hypernetwork data: split, per-token word sets over the CSR map, augmentation, batching.

Randomness is a pure function of (seed, epoch, position): the sampler draws its order from
(seed, epoch), each item's augmentation from (seed, epoch, token id), so a run resumed mid-epoch
replays exactly the batches an uninterrupted run would see.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler

from hyperofa.errors import ConfigError
from hyperofa.hypernet.models import PAD_ID, word_rows

ItemKey = int | tuple[int, int]  # a position, or (epoch, position) when augmenting
Item = tuple[int, np.ndarray, np.ndarray | None]  # token id, word rows, target row


def split_tokens(
    token_ids: np.ndarray, fractions: Sequence[float], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle `token_ids` with `seed` and cut it into (train, val, test), each sorted.

    Sizes as in hyper-ofa: train = ⌊n·f0⌋, val = ⌊n·f1⌋, test = the rest.
    """
    if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-6 or min(fractions) < 0:
        raise ConfigError("hypernet.train.split", tuple(fractions), "three fractions summing to 1")
    shuffled = np.random.default_rng(seed).permutation(np.asarray(token_ids, dtype=np.int64))
    n_train, n_val = int(len(shuffled) * fractions[0]), int(len(shuffled) * fractions[1])
    parts = np.split(shuffled, [n_train, n_train + n_val])
    return tuple(np.sort(p) for p in parts)  # type: ignore[return-value]


def augment_subset(
    word_ids: np.ndarray,
    rng: np.random.Generator,
    p: float,
    min_words: int,
    keep_range: tuple[float, float],
) -> np.ndarray:
    """With probability `p`, and only if there are more than `min_words` words, keep a random
    subset of ⌈n·u⌉ words, u ~ uniform(keep_range), in their original order; else return them all.

    Ceil (hyper-ofa floors) so at least keep_range[0] of the words stay, e.g. 3 of 5 at u = 0.5.
    """
    n = len(word_ids)
    if n <= min_words or rng.random() >= p:
        return word_ids
    keep = min(n, math.ceil(n * rng.uniform(*keep_range)))
    return word_ids[np.sort(rng.choice(n, size=keep, replace=False))]


@dataclass(frozen=True)
class Augmentation:
    """Augmentation settings of a training set (see `augment_subset`)."""

    p: float = 0.5
    min_words: int = 4
    keep_range: tuple[float, float] = (0.5, 1.0)
    seed: int = 0


class TokenWordSets(Dataset):
    """Item i = (token id, word rows of token `token_ids[i]`, its target row or None).

    Truncation: the first `max_context` words of the token's CSR row, in CSR order (as hyper-ofa
    keeps `inputs[:max_context]`); when augmenting, the subset is drawn from the whole row first.
    Keys: (epoch, position) from the training sampler augments; a plain position never does.
    """

    def __init__(
        self,
        indptr: np.ndarray,
        indices: np.ndarray,
        token_ids: np.ndarray,
        targets: np.ndarray | None = None,
        max_context: int = 256,
        augmentation: Augmentation | None = None,
    ):
        self.indptr, self.indices = indptr, indices
        self.token_ids = np.asarray(token_ids, dtype=np.int64)
        self.targets, self.max_context, self.augmentation = targets, max_context, augmentation

    def __len__(self) -> int:
        return len(self.token_ids)

    def lengths(self) -> np.ndarray:
        """Words per item after truncation, without augmentation. int64 [len(self)]."""
        counts = self.indptr[self.token_ids + 1] - self.indptr[self.token_ids]
        return np.minimum(counts, self.max_context).astype(np.int64)

    def __getitem__(self, key: ItemKey) -> Item:
        epoch, position = key if isinstance(key, tuple) else (None, key)
        token = int(self.token_ids[position])
        words = self.indices[self.indptr[token] : self.indptr[token + 1]]
        if self.augmentation is not None and epoch is not None:
            aug = self.augmentation
            rng = np.random.default_rng((aug.seed, epoch, token))
            words = augment_subset(words, rng, aug.p, aug.min_words, aug.keep_range)
        target = None if self.targets is None else self.targets[token]
        return token, word_rows(words[: self.max_context]), target


class HypernetBatch(NamedTuple):
    """word_ids: LongTensor[B, L] padded with PAD_ID; lengths: LongTensor[B];
    targets: FloatTensor[B, D_out] or None; token_ids: LongTensor[B] (source/target token ids)."""

    word_ids: Tensor
    lengths: Tensor
    targets: Tensor | None
    token_ids: Tensor


def collate(items: Sequence[Item]) -> HypernetBatch:
    """Pad the word rows of a list of items to the longest one with PAD_ID."""
    lengths = torch.tensor([len(words) for _, words, _ in items], dtype=torch.int64)
    word_ids = torch.full((len(items), int(lengths.max())), PAD_ID, dtype=torch.int64)
    for i, (_, words, _) in enumerate(items):
        word_ids[i, : len(words)] = torch.from_numpy(words)
    targets = None
    if items[0][2] is not None:
        targets = torch.from_numpy(np.stack([t for _, _, t in items]).astype(np.float32))
    token_ids = torch.tensor([token for token, _, _ in items], dtype=torch.int64)
    return HypernetBatch(word_ids, lengths, targets, token_ids)


class LengthGroupedSampler(Sampler[list[tuple[int, int]]]):
    """Batches of (epoch, position) keys with similar lengths, `drop_last`, seeded per epoch.

    Per epoch: permute with (seed, epoch), drop a random remainder of n mod batch_size, sort by
    length within chunks of `chunk_factor` × batch_size (stable), cut into batches, shuffle the
    batch order. `group_by_length=False` skips the sort (random batches, for comparison).
    """

    def __init__(
        self,
        lengths: np.ndarray,
        batch_size: int,
        chunk_factor: int = 40,
        seed: int = 0,
        group_by_length: bool = True,
    ):
        self.lengths, self.batch_size = np.asarray(lengths), batch_size
        self.chunk = chunk_factor * batch_size
        self.seed, self.group_by_length = seed, group_by_length
        self.epoch, self._skip = 0, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def resume(self, epoch: int, batches_done: int) -> None:
        """The next iteration is `epoch`'s, without its first `batches_done` batches."""
        self.epoch, self._skip = epoch, batches_done

    def __len__(self) -> int:
        return len(self.lengths) // self.batch_size

    def batches(self, epoch: int) -> list[np.ndarray]:
        """The epoch's batches of positions, in the order they are yielded."""
        rng = np.random.default_rng((self.seed, epoch))
        order = rng.permutation(len(self.lengths))[: len(self) * self.batch_size]
        if self.group_by_length:
            chunks = [order[i : i + self.chunk] for i in range(0, len(order), self.chunk)]
            order = np.concatenate(
                [c[np.argsort(self.lengths[c], kind="stable")] for c in chunks] or [order]
            )
        batches = np.split(order, len(self)) if len(self) else []
        return [batches[i] for i in rng.permutation(len(batches))]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        epoch, skip, self._skip = self.epoch, self._skip, 0
        for batch in self.batches(epoch)[skip:]:
            yield [(epoch, int(i)) for i in batch]


def word_slices(lengths: Tensor, max_words: int | None) -> list[Tensor]:
    """A batch's positions in slices of at most `max_words` padded words (items × the slice's
    longest list), by ascending length; one slice of all when it fits or `max_words` is None.
    An item longer than `max_words` makes a slice of its own."""
    n = len(lengths)
    if max_words is None or n * (int(lengths.max()) if n else 0) <= max_words:
        return [torch.arange(n)]
    order = torch.argsort(lengths, stable=True)
    ascending = lengths[order].tolist()
    slices, start = [], 0
    for end in range(1, n + 1):
        if end == n or (end + 1 - start) * ascending[end] > max_words:
            slices.append(order[start:end])
            start = end
    return slices


def eval_batches(lengths: np.ndarray, batch_size: int, by_length: bool = False) -> list[list[int]]:
    """Fixed batches of positions for validation/prediction, in order or sorted by length."""
    order = np.argsort(lengths, kind="stable") if by_length else np.arange(len(lengths))
    return [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]
