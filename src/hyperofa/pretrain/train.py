"""MLM continued pre-training of an assembled model: checks, Trainer, resume, final model.

A run dir holds `pretrain_config.json` (what it trains), `checkpoints/last.ckpt` (every
`checkpoint_every_n_steps` updates: model, optimizer, scheduler, loops, sampler position, RNG,
config), `csv/version_*/metrics.csv` (one version per process run), `wandb/` when configured, and
once finished `model/` (`AssembledForMaskedLM.save_pretrained` + tokenizer), `pretrain.json` and
`loss.png`. Rerunning with the same dir resumes from `last.ckpt`; a finished run is not retrained.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import shutil
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger, Logger, WandbLogger
from pytorch_lightning.strategies import DDPStrategy, FSDPStrategy, Strategy

from hyperofa.artifacts import atomic_dir, write_json_atomic
from hyperofa.assemble.modeling import AssembledForMaskedLM
from hyperofa.errors import EmptyInputError, IncompatibleInputsError, require_path
from hyperofa.pretrain.config import PretrainConfig, accumulation
from hyperofa.pretrain.data import prepare_data
from hyperofa.pretrain.datamodule import MLMDataModule
from hyperofa.pretrain.module import MLMModule
from hyperofa.pretrain.plot import plot_loss_curves

log = logging.getLogger(__name__)
CHECKPOINTS, MODEL, RESULT, CLAIM = "checkpoints", "model", "pretrain.json", "pretrain_config.json"
_NOT_CLAIMED = ("num_workers", "log_every_n_steps", "keep_step_checkpoints")  # results stay equal


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


def build_trainer(
    *,
    run_dir: Path,
    cfg: PretrainConfig,
    callbacks: Sequence[pl.Callback] = (),
    loggers: Sequence[Logger] = (),
    accelerator: str = "cpu",
    devices: int | str = 1,
    num_nodes: int = 1,
    strategy: str = "auto",
    precision: str = "32-true",
    deterministic: bool | str = True,
    fsdp_wrap_layers: Sequence[str] = (),
    progress: bool = True,
) -> pl.Trainer:
    """A Trainer for `cfg`; conf/trainer/*.yaml give the keyword-only hardware settings
    (`_partial_: true`), `pretrain` the rest. Accumulation follows `cfg.effective_batch_size`."""
    checkpoint = ModelCheckpoint(
        dirpath=run_dir / CHECKPOINTS,
        filename="step={step}",
        auto_insert_metric_name=False,
        every_n_train_steps=cfg.checkpoint_every_n_steps,
        save_top_k=-1 if cfg.keep_step_checkpoints else 0,
        save_last=True,
        enable_version_counter=False,
    )
    trainer = pl.Trainer(
        default_root_dir=run_dir,
        accelerator=accelerator,
        devices=devices,
        num_nodes=num_nodes,
        strategy=build_strategy(strategy, accelerator, fsdp_wrap_layers),
        precision=precision,
        deterministic=deterministic,
        max_steps=cfg.max_steps,
        gradient_clip_val=cfg.max_grad_norm,
        check_val_every_n_epoch=None,
        log_every_n_steps=cfg.log_every_n_steps,
        callbacks=[checkpoint, *callbacks],
        logger=list(loggers),
        use_distributed_sampler=False,
        num_sanity_val_steps=0,
        enable_progress_bar=progress,
        enable_model_summary=False,
    )
    # the device count is known only once the Trainer has resolved `devices`
    trainer.accumulate_grad_batches = accumulation(cfg, trainer.world_size)
    trainer.val_check_interval = cfg.val_check_interval * trainer.accumulate_grad_batches
    return trainer


def csv_logger(
    run_dir: Path, name: str = "csv", flush_logs_every_n_steps: int = 1, tags: Sequence[str] = ()
) -> CSVLogger:
    """`run_dir/<name>/version_<n>/metrics.csv`, flushed every step so a killed run keeps its log.
    `tags` are accepted (and unused) so every logger config takes the same call."""
    return CSVLogger(run_dir, name=name, flush_logs_every_n_steps=flush_logs_every_n_steps)


def wandb_logger(
    run_dir: Path,
    project: str = "hyperofa",
    offline: bool = True,
    name: str | None = None,
    tags: Sequence[str] = (),
    **kwargs: Any,
) -> WandbLogger:
    """W&B, offline unless told otherwise, writing under `run_dir/wandb`."""
    mode = {"mode": "offline"} if offline else {}  # explicit: Lightning only sets an env var
    return WandbLogger(
        save_dir=str(run_dir),
        project=project,
        offline=offline,
        name=name,
        tags=list(tags),
        **mode,
        **kwargs,
    )


def _claim(run_dir: Path, record: dict[str, Any]) -> None:
    """Record what this run dir trains, or refuse one that holds another run."""
    path = run_dir / CLAIM
    if path.exists():
        found = json.loads(path.read_text())
        differ = sorted(k for k in set(found) | set(record) if found.get(k) != record.get(k))
        if differ:
            raise IncompatibleInputsError(
                f"{run_dir} holds a pre-training run with other settings ({differ}): use a new run dir"
            )
    else:
        write_json_atomic(path, record)


@contextlib.contextmanager
def _scoped_global_state() -> Iterator[None]:
    """Restore torch's global RNG and deterministic flag afterwards; quiet known warnings."""
    deterministic = torch.are_deterministic_algorithms_enabled()
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        for pattern in (
            ".*does not have many workers.*",
            ".*exists and is not empty.*",
            ".*your dataloader is not resumable.*",
        ):  # our sampler resumes itself
            warnings.filterwarnings("ignore", pattern)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(deterministic)


def _loggers(
    run_dir: Path, loggers: Sequence[Logger | Callable[[Path], Logger]] | None
) -> list[Logger]:
    built = [lg if isinstance(lg, Logger) else lg(run_dir) for lg in (loggers or [])]
    if not any(isinstance(lg, CSVLogger) for lg in built):
        built.insert(0, csv_logger(run_dir))
    return built


def pretrain(
    model_dir: Path,
    tokenizer: Any,
    train_texts: Any,
    val_texts: Any,
    cfg: PretrainConfig,
    run_dir: Path,
    loggers: Sequence[Logger | Callable[[Path], Logger]] | None = None,
    trainer: Callable[..., pl.Trainer] | None = None,
    callbacks: Sequence[pl.Callback] = (),
) -> dict[str, Any]:
    """Continue MLM pre-training of the assembled model in `model_dir` on `train_texts`.

    Texts: language → list of texts, a dir of `<lang>.txt`, or a `datasets` dataset (text, lang).
    `trainer`: a `build_trainer` partial from conf/trainer (default: one CPU, fp32). `loggers`:
    Logger objects or builders called with `run_dir` (a CSV logger is always added).
    Returns (and writes to `run_dir/pretrain.json`) the run's figures; `{}` on ranks other than 0.
    """
    run_dir = Path(run_dir)
    if (run_dir / RESULT).exists():
        return json.loads((run_dir / RESULT).read_text())
    model = AssembledForMaskedLM.from_pretrained(require_path(model_dir, "pretrain model dir"))
    train_blocks, val_blocks, ids = prepare_data(
        model.config, tokenizer, train_texts, val_texts, cfg
    )
    record = {k: v for k, v in asdict(cfg).items() if k not in _NOT_CLAIMED}
    record.update(model_dir=str(model_dir), languages=list(train_blocks.languages))
    built = _loggers(run_dir, loggers)
    try:
        with _scoped_global_state():
            pl.seed_everything(cfg.seed, verbose=False)
            make = trainer or partial(build_trainer)
            pl_trainer = make(run_dir=run_dir, cfg=cfg, callbacks=callbacks, loggers=built)
            if pl_trainer.world_size > len(val_blocks):
                raise EmptyInputError(
                    f"{len(val_blocks)} held-out blocks for {pl_trainer.world_size} devices"
                )
            _claim(run_dir, record)
            module = MLMModule(model, cfg, train_blocks.languages)
            datamodule = MLMDataModule(train_blocks, val_blocks, ids, cfg)
            figures = _fit(pl_trainer, module, datamodule, run_dir)
            state = pl_trainer.strategy.lightning_module_state_dict()  # collective under FSDP
    finally:
        _close_wandb(built)
    if not pl_trainer.is_global_zero:
        return {}
    _save_model(model.config, state, tokenizer, run_dir / MODEL)
    return _finish(run_dir, figures)


def _close_wandb(loggers: Sequence[Logger]) -> None:
    """End our W&B run, so the next job of a sequential multirun starts its own."""
    if any(isinstance(lg, WandbLogger) for lg in loggers):
        import wandb

        if wandb.run is not None:
            wandb.finish()


def _finish(run_dir: Path, figures: dict[str, Any]) -> dict[str, Any]:
    figures.update(model_dir=str(run_dir / MODEL), csv_dir=str(run_dir / "csv"))
    plot_loss_curves({"run": run_dir / "csv"}, run_dir / "loss.png")
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
    trainer: pl.Trainer, module: MLMModule, datamodule: MLMDataModule, run_dir: Path
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


def _save_model(config: Any, state: Mapping[str, torch.Tensor], tokenizer: Any, out: Path) -> None:
    """The trained weights as an `AssembledForMaskedLM` dir with the tokenizer beside (atomic)."""
    model = AssembledForMaskedLM(config)
    model.load_state_dict({k.removeprefix("model."): v for k, v in state.items()}, strict=True)
    if out.exists():  # left by a run killed between this save and pretrain.json
        shutil.rmtree(out)
    with atomic_dir(out) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
