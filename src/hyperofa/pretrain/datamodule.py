"""Packed blocks → masked-LM or next-token batches, with a resumable temperature sampler.

Every random choice is keyed, not drawn from a shared stream: the epoch's block order by
(seed, epoch), each masked-LM block's mask by (seed, epoch, stream index); causal blocks draw
none. A resumed run therefore sees the same batches as an uninterrupted one once the sampler's
position is restored; the datamodule
advances that position only when a training batch actually reaches the model (prefetched batches
do not count) and saves it in every checkpoint (`state_dict`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from hyperofa.config.pretrain import PretrainConfig
from hyperofa.masking import mask_tokens
from hyperofa.pretrain.blocks import Blocks
from hyperofa.pretrain.data import (
    SpecialIds,
    accumulation,
    epoch_order,
    temperature_probabilities,
)
from hyperofa.training import IGNORE_INDEX
from hyperofa.training.seeding import keyed_seed

VALIDATION_EPOCH = -1  # the `epoch` of validation items: their masks never change
Key = tuple[int, int, int]  # (epoch, stream index, block index)


class TemperatureSampler(Sampler[Key]):
    """This rank's share of an epoch of `num_samples` (all ranks) keys, from `position` on.

    The stream is cut into micro-batches of `batch_size` keys; micro-batch m goes to rank
    m mod world_size. An update of W ranks × accumulation a therefore trains on the same
    micro-batches as one process with accumulation a·W. State: `epoch` and `position` (stream
    indices consumed by all ranks together), so a resume may even change the number of ranks.
    """

    def __init__(
        self,
        counts: np.ndarray,
        probabilities: np.ndarray,
        num_samples: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
        batch_size: int = 1,
    ):
        self.counts, self.probabilities = np.asarray(counts), probabilities
        self.num_samples, self.seed = num_samples, seed
        self.rank, self.world_size, self.batch_size = rank, world_size, batch_size
        self.epoch, self.position = 0, 0
        self._cached: tuple[int, np.ndarray] | None = None

    def order(self, epoch: int) -> np.ndarray:
        """Block index per stream index of `epoch` [num_samples]."""
        if self._cached is None or self._cached[0] != epoch:
            args = (self.counts, self.probabilities, self.num_samples, self.seed, epoch)
            self._cached = (epoch, epoch_order(*args))
        return self._cached[1]

    def _indices(self, start: int) -> Iterator[int]:
        """This rank's stream indices from `start` (a multiple of batch_size · world_size) on."""
        b, stride = self.batch_size, self.batch_size * self.world_size
        for first in range(start + self.rank * b, self.num_samples, stride):
            yield from range(first, min(first + b, self.num_samples))

    def __len__(self) -> int:
        b, n = self.batch_size, self.num_samples
        firsts = range(self.rank * b, n, b * self.world_size)
        return (len(firsts) - 1) * b + min(b, n - firsts[-1]) if firsts else 0

    def __iter__(self) -> Iterator[Key]:
        epoch, order = self.epoch, self.order(self.epoch)
        for index in self._indices(self.position):
            yield epoch, index, int(order[index])

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning at each epoch start; a new epoch starts from its first key."""
        if epoch != self.epoch:
            self.epoch, self.position = epoch, 0

    def consumed(self, index: int) -> None:
        """This rank has trained on stream index `index`: the next round starts after it."""
        stride = self.batch_size * self.world_size
        self.position = max(self.position, (index // stride + 1) * stride)

    def state_dict(self) -> dict[str, int]:
        return {
            "epoch": self.epoch,
            "position": self.position,
            "seed": self.seed,
            "num_samples": self.num_samples,
        }

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])


def _item(blocks: Blocks, key: Key) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """Block `key[2]`: its ids [L] int64, attention [L] bool, and the key's scalars."""
    epoch, index, block = key
    ids, length, language = blocks.row(block)
    row = torch.from_numpy(np.asarray(ids).astype(np.int64))
    scalars = {"language": language, "epoch": epoch, "index": index}
    return row, torch.arange(len(row)) < length, {k: torch.tensor(v) for k, v in scalars.items()}


class MaskedBlocks(Dataset):
    """Key (epoch, stream index, block) → one masked block: input_ids, attention_mask, labels
    [L] int64, and language, epoch, index (scalars). The mask depends on the key only."""

    def __init__(self, blocks: Blocks, ids: SpecialIds, mlm_probability: float, seed: int):
        self.blocks, self.ids, self.mlm_probability, self.seed = blocks, ids, mlm_probability, seed
        self._special = np.array(sorted(ids.special), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.blocks)

    def __getitem__(self, key: Key) -> dict[str, torch.Tensor]:
        row, attention, scalars = _item(self.blocks, key)
        special = torch.from_numpy(np.isin(row.numpy(), self._special)) | ~attention
        generator = torch.Generator().manual_seed(keyed_seed(self.seed, key[0] + 1, key[1]))
        inputs, labels = mask_tokens(
            row[None],
            special[None],
            self.ids.mask,
            self.ids.vocab_size,
            self.mlm_probability,
            generator,
        )
        return {
            "input_ids": inputs[0],
            "attention_mask": attention.long(),
            "labels": labels[0],
            **scalars,
        }


class CausalBlocks(Dataset):
    """Key (epoch, stream index, block) → one block for next-token prediction: input_ids,
    attention_mask, labels [L] int64 (labels = input_ids where attended, −100 at padding, so
    padding is never scored), and language, epoch, index (scalars)."""

    def __init__(self, blocks: Blocks):
        self.blocks = blocks

    def __len__(self) -> int:
        return len(self.blocks)

    def __getitem__(self, key: Key) -> dict[str, torch.Tensor]:
        row, attention, scalars = _item(self.blocks, key)
        labels = row.masked_fill(~attention, IGNORE_INDEX)
        return {"input_ids": row, "attention_mask": attention.long(), "labels": labels, **scalars}


class LMDataModule(pl.LightningDataModule):
    """Train: temperature-sampled, masked (masked LM, `ids.masked`) or not (causal), resumable;
    validation: every held-out block once per check, fixed masks, sharded over ranks without
    duplicates."""

    def __init__(self, train: Blocks, val: Blocks, ids: SpecialIds, cfg: PretrainConfig):
        super().__init__()
        self.train_blocks, self.val_blocks, self.ids, self.cfg = train, val, ids, cfg
        self.probabilities = temperature_probabilities(train.counts(), cfg.alpha)
        self.sampler: TemperatureSampler | None = None
        self._pending_state: dict[str, int] | None = None

    def _rank_world(self) -> tuple[int, int]:
        trainer = self.trainer
        return (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)

    def setup(self, stage: str | None = None) -> None:
        if self.sampler is not None:
            return
        rank, world = self._rank_world()
        per_rank = self.cfg.max_steps * accumulation(self.cfg, world) * self.cfg.batch_size
        self.sampler = TemperatureSampler(
            self.train_blocks.counts(),
            self.probabilities,
            per_rank * world,
            self.cfg.seed,
            rank,
            world,
            self.cfg.batch_size,
        )
        if self._pending_state is not None:
            self.sampler.load_state_dict(self._pending_state)

    def _dataset(self, blocks: Blocks) -> Dataset:
        if not self.ids.masked:
            return CausalBlocks(blocks)
        return MaskedBlocks(blocks, self.ids, self.cfg.mlm_probability, self.cfg.seed)

    def train_dataloader(self) -> DataLoader:
        self.setup()
        return DataLoader(
            self._dataset(self.train_blocks),
            batch_size=self.cfg.batch_size,
            sampler=self.sampler,
            num_workers=self.cfg.num_workers,
        )

    def val_dataloader(self) -> DataLoader:
        rank, world = self._rank_world()
        keys = [(VALIDATION_EPOCH, i, i) for i in range(rank, len(self.val_blocks), world)]
        return DataLoader(
            self._dataset(self.val_blocks),
            batch_size=self.cfg.batch_size,
            sampler=keys,
            num_workers=self.cfg.num_workers,
        )

    def on_after_batch_transfer(self, batch: dict[str, torch.Tensor], dataloader_idx: int) -> Any:
        if self.sampler is not None and int(batch["epoch"][0]) != VALIDATION_EPOCH:
            self.sampler.consumed(int(batch["index"].max()))
        return batch

    def state_dict(self) -> dict[str, int]:
        if self.sampler is not None:
            return self.sampler.state_dict()
        return dict(self._pending_state or {})

    def load_state_dict(self, state_dict: dict[str, int]) -> None:
        self._pending_state = dict(state_dict)
        if self.sampler is not None:
            self.sampler.load_state_dict(state_dict)


MLMDataModule = LMDataModule  # its former name (bench/ uses it)
