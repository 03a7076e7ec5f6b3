"""Thin Lightning shell over the hypernetwork, its loss and its optimizer (DESIGN.md §3.3)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger, Logger
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from hyperofa.config.hypernet import HypernetModelConfig, HypernetTrainConfig
from hyperofa.config.training import TrainerConfig
from hyperofa.hypernet.data import HypernetBatch, LengthGroupedSampler, word_slices
from hyperofa.hypernet.loss import NonFiniteLossError, hypernet_loss
from hyperofa.training.seeding import step_seed
from hyperofa.training.trainer import build_trainer, single_device

CHECKPOINTS = "checkpoints"  # under the run dir: best.ckpt, last.ckpt


def predictions(net: nn.Module, batch: HypernetBatch, max_words: int | None) -> Tensor:
    """`net(batch.word_ids, batch.lengths)`, run in `word_slices` of at most `max_words` padded
    words. With autograd on, each slice is checkpointed: its activations are recomputed in the
    backward pass (dropout masks replayed) instead of kept, so memory is one slice's while the
    loss and gradients stay the whole batch's."""
    slices = word_slices(batch.lengths, max_words)
    if len(slices) == 1:
        return net(batch.word_ids, batch.lengths)
    parts = []
    for positions in slices:
        lengths = batch.lengths[positions]
        word_ids = batch.word_ids[positions, : int(lengths.max())]
        if torch.is_grad_enabled():
            parts.append(checkpoint(net, word_ids, lengths, use_reentrant=False))
        else:
            parts.append(net(word_ids, lengths))
    return torch.cat(parts)[torch.argsort(torch.cat(slices))]


class HypernetModule(pl.LightningModule):
    """Trains a hypernetwork with λ·InfoNCE + (1−λ)·L1norm, Adam and StepLR (per epoch)."""

    def __init__(
        self, net: nn.Module, model_cfg: HypernetModelConfig, train_cfg: HypernetTrainConfig
    ):
        super().__init__()
        self.net, self.train_cfg = net, train_cfg
        # as plain JSON values: checkpoints load with weights_only, which refuses enum objects
        config = {"model": asdict(model_cfg), "train": asdict(train_cfg)}
        self.save_hyperparameters(json.loads(json.dumps(config)))
        self.samples_seen = 0  # this process only; for throughput

    def forward(self, word_ids: Tensor, lengths: Tensor) -> Tensor:
        return self.net(word_ids, lengths)

    def _losses(self, batch: HypernetBatch) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        pred = predictions(self.net, batch, self.train_cfg.max_words_per_batch)
        cfg = self.train_cfg
        total, parts = hypernet_loss(pred, batch.targets, cfg.lambda_contrastive, cfg.temperature)
        return total, parts, pred

    def on_train_batch_start(self, batch: HypernetBatch, batch_idx: int) -> None:
        # dropout masks depend on (seed, step) only, so a resumed run draws the same ones
        torch.manual_seed(step_seed(self.train_cfg.seed, self.global_step))

    def training_step(self, batch: HypernetBatch, batch_idx: int) -> Tensor:
        total, parts, _ = self._losses(batch)
        if not torch.isfinite(total):
            values = {"loss": total.item(), **{k: v.item() for k, v in parts.items()}}
            tokens = batch.token_ids.tolist()
            raise NonFiniteLossError(self.global_step, self.current_epoch, values, tokens)
        size = len(batch.lengths)
        self.samples_seen += size
        self.log("train/loss", total, on_step=False, on_epoch=True, prog_bar=True, batch_size=size)
        for name, value in parts.items():
            self.log(f"train/{name}", value, on_step=False, on_epoch=True, batch_size=size)
        return total

    def validation_step(self, batch: HypernetBatch, batch_idx: int) -> None:
        total, parts, pred = self._losses(batch)
        size = len(batch.lengths)
        self.log("val/loss", total, prog_bar=True, batch_size=size)
        for name, value in parts.items():
            self.log(f"val/{name}", value, batch_size=size)
        cosine = F.cosine_similarity(pred, batch.targets, dim=-1).mean()
        self.log("val/cosine", cosine, prog_bar=True, batch_size=size)

    def configure_optimizers(self) -> dict[str, Any]:
        cfg = self.train_cfg
        optimizer = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, cfg.step_size, gamma=cfg.gamma)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"},
        }


class ReplayableOrder(pl.Callback):
    """Keeps the training sampler in step with the trainer, across restarts.

    Sets the sampler's epoch at each epoch start, and stores (epoch, batches started) in every
    checkpoint; loading one tells the sampler to replay that epoch from the next batch.
    Lightning resumes its loop counters mid-epoch but restarts a plain DataLoader from its start.
    """

    def __init__(self, sampler: LengthGroupedSampler):
        self.sampler = sampler
        self.epoch, self.batches_started = 0, 0

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.epoch, self.batches_started = trainer.current_epoch, 0
        self.sampler.set_epoch(trainer.current_epoch)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        self.epoch, self.batches_started = trainer.current_epoch, batch_idx + 1

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "batches_started": self.batches_started}

    def load_state_dict(self, state_dict: dict[str, int]) -> None:
        self.epoch, self.batches_started = state_dict["epoch"], state_dict["batches_started"]
        self.sampler.resume(self.epoch, self.batches_started)


class MidEpochCheckpoint(pl.Callback):
    """Writes `last.ckpt` at least every n training steps, but never after an epoch's last batch.

    Lightning resumes exactly from a checkpoint taken after a batch that is not an epoch's last
    (the loaders replay via `ReplayableOrder`). From one taken at an epoch boundary it diverges
    (Lightning 2.6.6, tested: after validation it skips that epoch's scheduler step, at the next
    epoch's start it skips the epoch, at train-epoch end EarlyStopping finds no val metric), so
    none is written there: a run killed later replays from the previous mid-epoch state.
    """

    def __init__(self, path: str, every_n_steps: int):
        self.path, self.every_n_steps, self.saved_step = path, every_n_steps, 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        mid_epoch = batch_idx + 1 < trainer.num_training_batches
        if mid_epoch and trainer.global_step - self.saved_step >= self.every_n_steps:
            self.saved_step = trainer.global_step
            trainer.save_checkpoint(self.path, weights_only=False)

    def state_dict(self) -> dict[str, int]:
        return {"saved_step": self.saved_step}

    def load_state_dict(self, state_dict: dict[str, int]) -> None:
        self.saved_step = state_dict["saved_step"]


def checkpoint_callbacks(dirpath: str, every_n_steps: int) -> list[pl.Callback]:
    """best.ckpt (min val/loss, after each validation) and the resumable last.ckpt."""
    best = ModelCheckpoint(
        dirpath=dirpath,
        filename="best",
        monitor="val/loss",
        mode="min",
        save_on_train_epoch_end=False,
        save_weights_only=True,
        enable_version_counter=False,
    )
    return [best, MidEpochCheckpoint(f"{dirpath}/last.ckpt", every_n_steps)]


def hypernet_trainer(
    run_dir: Path,
    cfg: HypernetTrainConfig,
    hw: TrainerConfig,
    sampler: LengthGroupedSampler,
    loggers: Sequence[Logger] | None = None,
    callbacks: Sequence[pl.Callback] = (),
) -> tuple[pl.Trainer, ModelCheckpoint]:
    """A Trainer on `hw`'s accelerator and precision (one device: the length-grouped order is not
    sharded over ranks) logging to `run_dir/csv` (+ `loggers`), and its best-by-val-loss
    checkpoint callback."""
    checkpoints = checkpoint_callbacks(str(run_dir / CHECKPOINTS), cfg.checkpoint_every_n_steps)
    extra: list[pl.Callback] = [ReplayableOrder(sampler), *checkpoints, *callbacks]
    if cfg.early_stopping_patience is not None:
        patience = cfg.early_stopping_patience
        extra.append(EarlyStopping("val/loss", patience=patience, check_on_train_epoch_end=False))
    trainer = build_trainer(
        single_device(hw, "hypernet"),
        callbacks=extra,
        logger=[CSVLogger(run_dir, name="csv"), *(loggers or [])],
        default_root_dir=run_dir,
        max_epochs=cfg.max_epochs,
        gradient_clip_val=cfg.grad_clip,
        log_every_n_steps=max(1, min(50, len(sampler))),
    )
    return trainer, checkpoints[0]
