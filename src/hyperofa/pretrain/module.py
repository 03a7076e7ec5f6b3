"""Thin Lightning shell over a model and its family's training loss (masked LM or next-token):
steps, logging, AdamW with warmup + linear decay. Gradient accumulation, clipping and precision
come from the Trainer."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import Tensor

from hyperofa.config.pretrain import PretrainConfig
from hyperofa.models import FrozenRows, ModelFamily
from hyperofa.training.schedules import warmup_linear_decay
from hyperofa.training.seeding import keyed_seed, rng_state, set_rng_state

CHECKPOINT_KEY = "hyperofa_pretrain"  # our extras inside a Lightning checkpoint


def decay_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW groups of the trainable parameters: matrices decay; biases, LayerNorm weights and
    the output bias do not. An empty group is left out."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    return [g for g in groups if g["params"]]


def plain_config(cfg: PretrainConfig) -> dict[str, Any]:
    """`cfg` as JSON values (enums as strings): checkpoints load with weights_only=True."""
    return json.loads(json.dumps(asdict(cfg)))


class LMModule(pl.LightningModule):
    """Logs `train/loss` (mean over an update's micro-batches and ranks), `train/lr`, `val/loss`
    (all scored held-out tokens: masked ones, or every next token) and `val/loss_<lang>`; keeps
    both histories in checkpoints. `frozen`: source rows that `protect` keeps after each update
    (`pretrain.trainable`)."""

    def __init__(
        self,
        model: Any,
        family: ModelFamily,
        cfg: PretrainConfig,
        languages: Sequence[str],
        frozen: FrozenRows | None = None,
    ):
        super().__init__()
        self.model, self.family, self.frozen = model.train(), family, frozen
        self.cfg, self.languages = cfg, list(languages)
        self.save_hyperparameters({"pretrain": plain_config(cfg), "languages": self.languages})
        self.train_history: dict[int, float] = {}  # updates done → mean train loss of the last one
        self.val_history: dict[int, dict[str, float]] = {}  # updates done → val losses
        self._window: list[Tensor] = []
        self._steps_seen, self._lr = 0, 0.0

    def on_train_start(self) -> None:
        self._steps_seen = self.global_step

    def on_train_batch_start(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        # dropout follows the batch's own key, so a resumed run draws the same masks
        first = int(batch["index"][0])
        torch.manual_seed(keyed_seed(self.cfg.seed, int(batch["epoch"][0]) + 1, first, 1))

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        out = self.family.training_loss(self.model, batch)
        self._window.append(out.loss.detach().float())
        self._lr = self.trainer.optimizers[0].param_groups[0]["lr"]  # the lr this update uses
        return out.loss

    def on_train_batch_end(self, outputs: Any, batch: dict[str, Tensor], batch_idx: int) -> None:
        if self.global_step == self._steps_seen:
            return  # still accumulating
        self._steps_seen = step = self.global_step
        loss = self.trainer.strategy.reduce(torch.stack(self._window).mean(), reduce_op="mean")
        self._window.clear()
        self.train_history[step] = float(loss)
        self.log("train/loss", loss, prog_bar=True, logger=False, batch_size=1)
        if step % self.cfg.log_every_n_steps == 0 or step == self.cfg.max_steps:
            self._log_to_loggers({"train/loss": float(loss), "train/lr": self._lr}, step)

    def _log_to_loggers(self, metrics: dict[str, float], step: int) -> None:
        """Straight to the loggers with step = updates done (Lightning's own step lags by one
        inside training and cannot mark the state before the first update)."""
        for logger in self.loggers:
            logger.log_metrics(metrics, step=step)

    def on_validation_epoch_start(self) -> None:
        zeros = torch.zeros(len(self.languages), dtype=torch.float64, device=self.device)
        self._val_sum, self._val_count = zeros.clone(), zeros.clone()

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        out = self.family.training_loss(self.model, batch)
        if out.logits is None:  # a causal family gives per-token losses
            losses = out.token_losses
        else:
            losses = F.cross_entropy(out.logits.float(), out.targets, reduction="none")
        language = batch["language"][:, None].expand_as(out.positions)[out.positions]
        self._val_sum.index_add_(0, language, losses.double())
        self._val_count.index_add_(0, language, torch.ones_like(losses, dtype=torch.float64))

    def on_validation_epoch_end(self) -> None:
        total = self.trainer.strategy.reduce(self._val_sum, reduce_op="sum")
        count = self.trainer.strategy.reduce(self._val_count, reduce_op="sum")
        losses = {"val/loss": float(total.sum() / count.sum().clamp(min=1))}
        for i, lang in enumerate(self.languages):
            if count[i] > 0:
                losses[f"val/loss_{lang}"] = float(total[i] / count[i])
        self.log(
            "val/loss",
            losses["val/loss"],
            prog_bar=True,
            logger=False,
            batch_size=1,
            sync_dist=True,
        )
        self.val_history[self.global_step] = losses
        self._log_to_loggers(losses, self.global_step)

    def configure_optimizers(self) -> dict[str, Any]:
        cfg = self.cfg
        optimizer = torch.optim.AdamW(decay_groups(self.model, cfg.weight_decay), lr=cfg.lr)
        if self.frozen is not None:
            self.frozen.protect(optimizer)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: warmup_linear_decay(s, cfg.warmup_steps, cfg.max_steps)
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[CHECKPOINT_KEY] = {
            "train_history": {int(k): v for k, v in self.train_history.items()},
            "val_history": {int(k): v for k, v in self.val_history.items()},
            "rng": rng_state(),
            "config": plain_config(self.cfg),
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        extras = checkpoint.get(CHECKPOINT_KEY, {})
        self.train_history = dict(extras.get("train_history", {}))
        self.val_history = dict(extras.get("val_history", {}))
        if "rng" in extras:
            set_rng_state(extras["rng"])


MLMModule = LMModule  # its former name (bench/ uses it)
