"""The fine-tuning shell shared by zero-shot tagging and classification: padding, a thin
LightningModule that keeps the best state by a dev score, freezing and data loaders."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader

from hyperofa.config.evaluate import FineTuneConfig
from hyperofa.config.training import TrainerConfig
from hyperofa.training import IGNORE_INDEX
from hyperofa.training.schedules import warmup_linear_to_zero
from hyperofa.training.trainer import build_trainer, single_device

Decode = Callable[[torch.Tensor, dict[str, torch.Tensor]], tuple[list, list]]
Score = Callable[[list, list], float]


@dataclass
class FineTuneResult:
    best_score: float
    best_epoch: int
    dev_scores: list[float] = field(default_factory=list)  # one per epoch
    train_losses: list[float] = field(default_factory=list)  # mean per epoch


def pad_batch(features: Sequence[Mapping[str, Any]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad `input_ids` (pad_id) and list-valued `labels` (IGNORE_INDEX); add attention_mask.
    (B, L) tensors; an int label becomes a (B,) tensor."""
    width = max(len(f["input_ids"]) for f in features)
    ids = torch.full((len(features), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(features), width), dtype=torch.long)
    for i, f in enumerate(features):
        ids[i, : len(f["input_ids"])] = torch.tensor(f["input_ids"])
        mask[i, : len(f["input_ids"])] = 1
    batch = {"input_ids": ids, "attention_mask": mask}
    if "labels" in features[0]:
        if isinstance(features[0]["labels"], int):
            batch["labels"] = torch.tensor([f["labels"] for f in features])
        else:
            batch["labels"] = torch.full((len(features), width), IGNORE_INDEX, dtype=torch.long)
            for i, f in enumerate(features):
                batch["labels"][i, : len(f["labels"])] = torch.tensor(f["labels"])
    return batch


class FineTuneModule(pl.LightningModule):
    """Steps, logging and the optimizer around a model whose forward returns {loss, logits};
    keeps a CPU copy of the state with the best dev score."""

    def __init__(self, model: nn.Module, decode: Decode, score: Score, cfg: FineTuneConfig):
        super().__init__()
        self.model, self.decode, self.score, self.cfg = model, decode, score, cfg
        self.result = FineTuneResult(best_score=-float("inf"), best_epoch=-1)
        self.best_state: dict[str, torch.Tensor] | None = None
        self._epoch_losses: list[float] = []
        self._pred: list = []
        self._gold: list = []

    def training_step(self, batch, batch_idx):
        loss = self.model(**batch)["loss"]
        self._epoch_losses.append(float(loss.detach()))
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def on_train_epoch_end(self) -> None:
        self.result.train_losses.append(float(np.mean(self._epoch_losses)))
        self._epoch_losses = []

    def validation_step(self, batch, batch_idx):
        pred, gold = self.decode(self.model(**batch)["logits"], batch)
        self._pred += pred
        self._gold += gold

    def on_validation_epoch_end(self) -> None:
        score = float(self.score(self._pred, self._gold))
        self._pred, self._gold = [], []
        self.result.dev_scores.append(score)
        self.log("val/score", score, prog_bar=True)
        if score > self.result.best_score:
            self.result.best_score, self.result.best_epoch = score, self.current_epoch
            self.best_state = {
                k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()
            }

    def configure_optimizers(self):
        encoder = {id(p) for p in self.model.encoder.parameters()}
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in trainable if id(p) in encoder], "lr": self.cfg.lr},
            {
                "params": [p for p in trainable if id(p) not in encoder],
                "lr": self.cfg.head_lr or self.cfg.lr,
            },
        ]
        optimizer = torch.optim.AdamW(groups, weight_decay=self.cfg.weight_decay)
        total = max(1, int(self.trainer.estimated_stepping_batches))
        warmup = int(self.cfg.warmup_ratio * total)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: warmup_linear_to_zero(step, warmup, total)
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }


def fine_tune(
    model: nn.Module,
    train: DataLoader,
    dev: DataLoader,
    decode: Decode,
    score: Score,
    cfg: FineTuneConfig,
    seed: int,
    hw: TrainerConfig | None = None,
) -> FineTuneResult:
    """Train `model` for cfg.epochs on `hw` (one device; default one CPU), score dev after each
    epoch, load the best state back."""
    pl.seed_everything(seed, workers=True, verbose=False)
    freeze(model.encoder, cfg.freeze_word_embeddings, cfg.freeze_layers)
    model.train()  # Lightning keeps modules' modes, and from_pretrained returns eval mode
    module = FineTuneModule(model, decode, score, cfg)
    trainer = build_trainer(
        single_device(hw or TrainerConfig(), "fine-tuning"),
        max_epochs=cfg.epochs,
        accumulate_grad_batches=cfg.accumulate_grad_batches,
        gradient_clip_val=cfg.max_grad_norm,
        enable_checkpointing=False,
    )
    trainer.fit(module, train, dev)
    model.load_state_dict(module.best_state)
    return module.result


def freeze(encoder: nn.Module, word_embeddings: bool, layers: int) -> None:
    """Stop updates to the word embeddings, and with layers > 0 to the whole embeddings module
    and the lowest `layers` transformer layers (BERT / XLM-R layout: `encoder.encoder.layer`)."""
    if word_embeddings:
        encoder.embeddings.word_embeddings.requires_grad_(False)
    if layers:
        encoder.embeddings.requires_grad_(False)
        for layer in encoder.encoder.layer[:layers]:
            layer.requires_grad_(False)


def loaders(
    train: list, dev: list, pad_id: int, cfg: FineTuneConfig, seed: int
) -> tuple[DataLoader, DataLoader]:
    """Shuffled (seeded) train batches; dev batches sorted by length (less padding)."""

    def collate(features):
        return pad_batch(features, pad_id)

    dev = sorted(dev, key=lambda f: len(f["input_ids"]))
    return (
        DataLoader(
            train,
            cfg.batch_size,
            shuffle=True,
            collate_fn=collate,
            generator=torch.Generator().manual_seed(seed),
        ),
        DataLoader(dev, cfg.eval_batch_size, collate_fn=collate),
    )


def fine_tune_head(
    make_model: Callable[[], nn.Module],
    train: list,
    dev: list,
    pad_id: int,
    decode: Decode,
    score: Score,
    cfg: FineTuneConfig,
    seed: int,
    hw: TrainerConfig | None = None,
) -> tuple[nn.Module, FineTuneResult]:
    """Seed, build encoder + fresh head (`make_model`), fine-tune on the `train` features with
    the best state by `score` on `dev`; the model (best state loaded) and the history."""
    pl.seed_everything(seed, workers=True, verbose=False)  # the head's initialization
    model = make_model()
    train_loader, dev_loader = loaders(train, dev, pad_id, cfg, seed)
    return model, fine_tune(model, train_loader, dev_loader, decode, score, cfg, seed, hw)
