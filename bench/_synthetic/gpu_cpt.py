"""Timed continued pre-training steps on the GPU through the library's `MLMModule` and trainer
builder (bf16-mixed), fed random masked blocks shaped as `pretrain.datamodule.MaskedBlocks`'."""

from __future__ import annotations

import time

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

MASKED_SHARE = 0.15  # of the positions scored (mlm_probability, conf/pretrain)


class RandomBlocks(Dataset):
    """Item i: random ids in [5, vocab), full attention, MASKED_SHARE of them scored."""

    def __init__(self, count: int, length: int, vocab_size: int):
        self.count, self.length, self.vocab_size = count, length, vocab_size

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        gen = torch.Generator().manual_seed(i)
        ids = torch.randint(5, self.vocab_size, (self.length,), generator=gen)
        labels = torch.where(torch.rand(self.length, generator=gen) < MASKED_SHARE, ids, -100)
        return {
            "input_ids": ids,
            "attention_mask": torch.ones(self.length, dtype=torch.long),
            "labels": labels,
            "language": torch.tensor(0),
            "epoch": torch.tensor(0),
            "index": torch.tensor(i),
        }


def _synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


class StepTimer(pl.Callback):
    """Wall seconds of the training steps after the first `warmup`, the GPU synchronized."""

    def __init__(self, warmup: int):
        self.warmup, self.seconds, self._started = warmup, 0.0, 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        _synchronize()
        self._started = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        _synchronize()
        if batch_idx >= self.warmup:
            self.seconds += time.perf_counter() - self._started


def fit_steps(
    model, family, cpt: dict[str, int], accelerator: str = "gpu", precision: str = "bf16-mixed"
) -> float:
    """Seconds per optimizer step (batch × length tokens) of `MLMModule` on one device."""
    from hyperofa.config.pretrain import PretrainConfig
    from hyperofa.config.training import TrainerConfig
    from hyperofa.pretrain.module import MLMModule
    from hyperofa.training.trainer import build_trainer

    steps = cpt["warmup"] + cpt["timed"]
    cfg = PretrainConfig(max_steps=steps, batch_size=cpt["batch"], max_length=cpt["length"])
    module = MLMModule(model, family, cfg, ["eng"])
    data = RandomBlocks(steps * cpt["batch"], cpt["length"], model.config.vocab_size)
    timer = StepTimer(cpt["warmup"])
    hw = TrainerConfig(accelerator, precision=precision, deterministic=False, progress=False)
    trainer = build_trainer(
        hw, callbacks=[timer], max_steps=steps, gradient_clip_val=cfg.max_grad_norm,
        limit_val_batches=0, enable_checkpointing=False,
    )  # fmt: skip
    trainer.fit(module, DataLoader(data, batch_size=cpt["batch"], num_workers=2))
    return timer.seconds / cpt["timed"]
