"""One Trainer builder for every trained stage: the hardware comes from `TrainerConfig`
(conf/trainer), the loop (steps or epochs, clipping, callbacks, loggers) from the stage."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.strategies import DDPStrategy, FSDPStrategy, Strategy

from hyperofa.config.training import TrainerConfig

log = logging.getLogger(__name__)


def build_strategy(
    strategy: str, accelerator: str, fsdp_wrap_layers: Sequence[str] = ()
) -> str | Strategy:
    """`ddp` (gloo on CPU), `fsdp` (full state dict; `fsdp_wrap_layers` = dotted layer classes to
    shard, e.g. transformers' BertLayer), or any Lightning strategy name."""
    if strategy == "ddp":
        return DDPStrategy(process_group_backend="gloo" if accelerator == "cpu" else None)
    if strategy == "fsdp":
        layers = {_import(name) for name in fsdp_wrap_layers}
        return FSDPStrategy(auto_wrap_policy=layers or None, state_dict_type="full")
    return strategy


def _import(dotted: str) -> type:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def single_device(hw: TrainerConfig, what: str) -> TrainerConfig:
    """`hw` on one device (same accelerator, precision, determinism), for trainers whose data
    order is not sharded over ranks; says so when the config asked for more."""
    if hw.devices == 1 and hw.num_nodes == 1 and hw.strategy == "auto":
        return hw
    log.info(
        "%s: trains on one %s device (trainer asks for %s × %s nodes, %s)",
        what,
        hw.accelerator,
        hw.devices,
        hw.num_nodes,
        hw.strategy,
    )
    return TrainerConfig(
        accelerator=hw.accelerator,
        precision=hw.precision,
        deterministic=hw.deterministic,
        progress=hw.progress,
    )


def build_trainer(
    hw: TrainerConfig,
    *,
    callbacks: Sequence[pl.Callback] = (),
    logger: Any = False,
    **loop: Any,
) -> pl.Trainer:
    """A Trainer on `hw`'s hardware with the stage's `loop` arguments (max_steps or max_epochs,
    gradient_clip_val, default_root_dir, …); sanity validation and the model summary are off."""
    return pl.Trainer(
        accelerator=hw.accelerator,
        devices=hw.devices,
        num_nodes=hw.num_nodes,
        strategy=build_strategy(hw.strategy, hw.accelerator, hw.fsdp_wrap_layers),
        precision=hw.precision,
        deterministic=hw.deterministic,
        enable_progress_bar=hw.progress,
        callbacks=list(callbacks),
        logger=logger,
        num_sanity_val_steps=0,  # a resumed run must not differ by a sanity pass
        enable_model_summary=False,
        **loop,
    )
