"""Continued pre-training of an assembled model (masked LM or next-token prediction, as its
family trains): checks, Trainer, resume, final model.

A run dir holds `run.json` (its claim: what it trains), `checkpoints/last.ckpt` (every
`checkpoint_every_n_steps` updates: model, optimizer, scheduler, loops, sampler position, RNG,
config), `csv/version_*/metrics.csv` (one version per process run), `wandb/` when configured, and
once finished `model/` (`family.save`: weights, config and tokenizer), `pretrain.json` and
`loss.png`. Rerunning with the same dir resumes from `last.ckpt`; a finished run is not retrained.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger, Logger

from hyperofa.artifacts import atomic_dir, write_json_atomic
from hyperofa.config.enums import TrainOnly
from hyperofa.config.pretrain import PretrainConfig
from hyperofa.config.training import TrainerConfig
from hyperofa.errors import EmptyInputError, require_path
from hyperofa.models import MASKED_ENCODER, ModelFamily
from hyperofa.pretrain.blocks import (
    Blocks,
    is_cpt_data,
    objective,
    open_cpt_data,
    prepared_blocks,
)
from hyperofa.pretrain.data import SpecialIds, accumulation, prepare_data
from hyperofa.pretrain.datamodule import LMDataModule
from hyperofa.pretrain.module import LMModule, plain_config
from hyperofa.pretrain.plot import plot_loss_curves
from hyperofa.pretrain.trainable import restrict_training, trainable_count
from hyperofa.training.loggers import close_loggers
from hyperofa.training.rundir import claim_run_dir
from hyperofa.training.seeding import scoped_global_state
from hyperofa.training.trainer import build_trainer

log = logging.getLogger(__name__)
CHECKPOINTS, MODEL, RESULT = "checkpoints", "model", "pretrain.json"
_NOT_CLAIMED = (
    "num_workers",
    "num_proc",
    "log_every_n_steps",
    "keep_step_checkpoints",
)  # results stay equal


def pretrain_trainer(
    hw: TrainerConfig,
    run_dir: Path,
    cfg: PretrainConfig,
    callbacks: Sequence[pl.Callback] = (),
    loggers: Sequence[Logger] = (),
) -> pl.Trainer:
    """A Trainer on `hw` for `cfg`: updates counted in optimizer steps, `last.ckpt` every
    `checkpoint_every_n_steps`, accumulation from `cfg.effective_batch_size` and the device count."""
    checkpoint = ModelCheckpoint(
        dirpath=run_dir / CHECKPOINTS,
        filename="step={step}",
        auto_insert_metric_name=False,
        every_n_train_steps=cfg.checkpoint_every_n_steps,
        save_top_k=-1 if cfg.keep_step_checkpoints else 0,
        save_last=True,
        enable_version_counter=False,
    )
    trainer = build_trainer(
        hw,
        callbacks=[checkpoint, *callbacks],
        logger=list(loggers),
        default_root_dir=run_dir,
        max_steps=cfg.max_steps,
        gradient_clip_val=cfg.max_grad_norm,
        check_val_every_n_epoch=None,
        log_every_n_steps=cfg.log_every_n_steps,
        use_distributed_sampler=False,
    )
    # the device count is known only once the Trainer has resolved `devices`
    trainer.accumulate_grad_batches = accumulation(cfg, trainer.world_size)
    trainer.val_check_interval = cfg.val_check_interval * trainer.accumulate_grad_batches
    return trainer


def _with_csv(run_dir: Path, loggers: Sequence[Logger] | None) -> list[Logger]:
    built = list(loggers or [])
    if not any(isinstance(lg, CSVLogger) for lg in built):
        built.insert(0, CSVLogger(run_dir, name="csv", flush_logs_every_n_steps=1))
    return built


def pretrain(
    model_dir: Path,
    tokenizer: Any,
    train_texts: Any,
    val_texts: Any,
    cfg: PretrainConfig,
    run_dir: Path,
    hw: TrainerConfig | None = None,
    loggers: Sequence[Logger] | None = None,
    callbacks: Sequence[pl.Callback] = (),
    family: ModelFamily = MASKED_ENCODER,
    n_source: int | None = None,
) -> dict[str, Any]:
    """Continue pre-training the assembled model in `model_dir` on `train_texts` with its
    family's objective (masked LM, or next-token prediction for a causal decoder).

    Texts: language → list of texts, a dir of `<lang>.txt`, or a `datasets` dataset (text, lang),
    packed in memory; or blocks prepared on disk (`prepare.prepare_cpt_data`: a `CPTData` or its
    dir), read lazily, with `val_texts=None` (the prepared dir holds the held-out blocks).
    `hw`: the trainer's hardware (default: one CPU, fp32). `loggers`: a CSV logger into
    `run_dir/csv` is added unless one is given. `n_source`: the source vocabulary size (rows
    below it are the source tokens'), needed by `cfg.train_only=new_rows` only.
    Returns (and writes to `run_dir/pretrain.json`) the run's figures; `{}` on ranks other than 0.
    """
    run_dir = Path(run_dir)
    if (run_dir / RESULT).exists():
        return json.loads((run_dir / RESULT).read_text())
    model = family.load(require_path(model_dir, "pretrain model dir"))
    train_blocks, val_blocks, ids = _blocks(family, model, tokenizer, train_texts, val_texts, cfg)
    sharded = hw is not None and hw.strategy == "fsdp"
    frozen = restrict_training(model, cfg.train_only, n_source, sharded)
    record = _claim(cfg, model_dir, train_texts, train_blocks.languages, n_source)
    module = LMModule(model, family, cfg, train_blocks.languages, frozen)
    datamodule = LMDataModule(train_blocks, val_blocks, ids, cfg)
    figures, state = _train(module, datamodule, run_dir, record, hw, loggers, callbacks)
    if state is None:
        return {}
    _save_model(family, model, state, tokenizer, run_dir / MODEL)
    figures.update(objective=objective(family.masked), trainable_parameters=trainable_count(model))
    return _finish(run_dir, figures, family.masked)


def _blocks(
    family: ModelFamily, model: Any, tokenizer: Any, train: Any, val: Any, cfg: PretrainConfig
) -> tuple[Blocks, Blocks, SpecialIds]:
    """Every input check, then the train and held-out blocks for the family's objective."""
    blocks = prepared_blocks if is_cpt_data(train) else prepare_data
    return blocks(family.encoder(model).config, tokenizer, train, val, cfg, family.masked)


def _train(
    module: LMModule,
    datamodule: LMDataModule,
    run_dir: Path,
    record: dict[str, Any],
    hw: TrainerConfig | None,
    loggers: Sequence[Logger] | None,
    callbacks: Sequence[pl.Callback],
) -> tuple[dict[str, Any], dict[str, torch.Tensor] | None]:
    """Claim `run_dir` and fit (resuming); the figures and, on rank 0, the trained weights."""
    built, cfg = _with_csv(run_dir, loggers), module.cfg
    try:
        with scoped_global_state():
            pl.seed_everything(cfg.seed, verbose=False)
            pl_trainer = pretrain_trainer(hw or TrainerConfig(), run_dir, cfg, callbacks, built)
            if pl_trainer.world_size > len(datamodule.val_blocks):
                raise EmptyInputError(
                    f"{len(datamodule.val_blocks)} held-out blocks for "
                    f"{pl_trainer.world_size} devices"
                )
            claim_run_dir(run_dir, record, "pre-training")
            figures = _fit(pl_trainer, module, datamodule, run_dir)
            state = pl_trainer.strategy.lightning_module_state_dict()  # collective under FSDP
    finally:
        close_loggers(built)
    return figures, state if pl_trainer.is_global_zero else None


def _claim(
    cfg: PretrainConfig,
    model_dir: Path,
    train_texts: Any,
    languages: Sequence[str],
    n_source: int | None,
) -> dict[str, Any]:
    """What a run dir trains (its claim): the results-changing settings, model and data."""
    record = {k: v for k, v in plain_config(cfg).items() if k not in _NOT_CLAIMED}
    record.update(model_dir=str(model_dir), languages=list(languages))
    if is_cpt_data(train_texts):
        record.update(data=str(open_cpt_data(train_texts).path))
    if cfg.train_only == TrainOnly.new_rows:
        record.update(n_source=n_source)
    return record


def _finish(run_dir: Path, figures: dict[str, Any], masked: bool) -> dict[str, Any]:
    figures.update(model_dir=str(run_dir / MODEL), csv_dir=str(run_dir / "csv"))
    plot_loss_curves({"run": run_dir / "csv"}, run_dir / "loss.png", masked)
    write_json_atomic(run_dir / RESULT, figures)
    log.info(
        "pretrain: %d steps, train loss %.3f → %.3f, val loss %.3f → %.3f, %.0fs",
        figures["steps"],
        figures["train_loss_first"],
        figures["train_loss_last"],
        figures["val_loss_before"],
        figures["val_loss_after"],
        figures["seconds"],
    )
    return figures


def _fit(
    trainer: pl.Trainer, module: LMModule, datamodule: LMDataModule, run_dir: Path
) -> dict[str, Any]:
    """Validate (fresh run), fit (resuming from last.ckpt), validate at the end; the figures."""
    last = run_dir / CHECKPOINTS / "last.ckpt"
    resume = last if last.exists() else None
    if resume is None:
        trainer.validate(module, datamodule=datamodule, verbose=False)
    started = time.perf_counter()
    trainer.fit(module, datamodule=datamodule, ckpt_path=resume, weights_only=True)
    if max(module.val_history) != trainer.global_step:
        trainer.validate(module, datamodule=datamodule, verbose=False)
    seconds = time.perf_counter() - started
    train, val = module.train_history, module.val_history
    first_val, last_val = val[min(val)], val[max(val)]
    data = datamodule.train_blocks.languages, datamodule.probabilities.round(6).tolist()
    return {
        "steps": int(trainer.global_step),
        "train_loss_first": train[min(train)] if train else float("nan"),
        "train_loss_last": train[max(train)] if train else float("nan"),
        "val_loss_before": first_val["val/loss"],
        "val_loss_after": last_val["val/loss"],
        "val_loss_before_per_language": _per_language(first_val),
        "val_loss_after_per_language": _per_language(last_val),
        "seconds": round(seconds, 3),
        "resumed": resume is not None,
        "train_blocks": len(datamodule.train_blocks),
        "val_blocks": len(datamodule.val_blocks),
        "sampling": dict(zip(*data, strict=True)),
        "effective_batch_size": trainer.accumulate_grad_batches
        * datamodule.cfg.batch_size
        * trainer.world_size,
    }


def _per_language(losses: Mapping[str, float]) -> dict[str, float]:
    return {k.removeprefix("val/loss_"): v for k, v in losses.items() if k.startswith("val/loss_")}


def _save_model(
    family: ModelFamily, model: Any, state: Mapping[str, torch.Tensor], tokenizer: Any, out: Path
) -> None:
    """The trained weights (gathered on rank 0) in a fresh model of `model`'s class, saved with
    the tokenizer beside (atomic)."""
    trained = type(model)(model.config)
    trained.load_state_dict({k.removeprefix("model."): v for k, v in state.items()}, strict=True)
    if out.exists():  # left by a run killed between this save and pretrain.json
        shutil.rmtree(out)
    with atomic_dir(out) as tmp:
        family.save(trained, tokenizer, tmp)
