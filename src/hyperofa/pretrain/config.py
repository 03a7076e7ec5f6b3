"""Typed config of MLM continued pre-training (DESIGN.md §3.5).

`conf/pretrain/*.yaml` hold the same fields with their provenance; `to_pretrain_config` turns that
group into `PretrainConfig`, and `check_pretrain_config` rejects bad values before any work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from hyperofa.errors import ConfigError

PREFIX = "pretrain"


@dataclass
class PretrainConfig:
    """One MLM run. Steps count optimizer updates; a batch is per device.

    effective batch = batch_size × accumulate_grad_batches × devices; `effective_batch_size`
    (when set) fixes it and `accumulate_grad_batches` is derived from the device count.
    """

    max_steps: int = 40
    batch_size: int = 8
    accumulate_grad_batches: int = 1
    effective_batch_size: int | None = None
    lr: float = 5e-5
    warmup_steps: int = 0
    weight_decay: float = 0.01
    max_grad_norm: float | None = 1.0
    max_length: int = 128
    mlm_probability: float = 0.15
    alpha: float = 0.3  # language sampling p_l ∝ n_l^α (XLM-R 0.3; 1 = proportional)
    val_check_interval: int = 20  # optimizer steps between validations
    val_max_blocks_per_language: int | None = None  # cap on held-out blocks; null = all
    checkpoint_every_n_steps: int = 20
    # also keep `step=N.ckpt` every checkpoint_every_n_steps (else last.ckpt only)
    keep_step_checkpoints: bool = False
    log_every_n_steps: int = 1
    num_workers: int = 0
    seed: int = 42
    # text by path: a dir of <lang>.txt (one text per line) or a `datasets.save_to_disk` dir with
    # `text` and `lang` columns; null = the embedded default's UDHR train / held-out articles
    train_path: str | None = None
    val_path: str | None = None


def _positive_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _nonneg_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


_RULES: dict[str, tuple[Any, str]] = {
    **{
        n: (_positive_int, "an int > 0")
        for n in (
            "max_steps",
            "batch_size",
            "accumulate_grad_batches",
            "val_check_interval",
            "checkpoint_every_n_steps",
            "log_every_n_steps",
        )
    },
    **{n: (_nonneg_int, "an int >= 0") for n in ("warmup_steps", "num_workers")},
    "effective_batch_size": (lambda v: v is None or _positive_int(v), "null or an int > 0"),
    "val_max_blocks_per_language": (lambda v: v is None or _positive_int(v), "null or an int > 0"),
    "lr": (lambda v: v > 0, "> 0"),
    "weight_decay": (lambda v: v >= 0, ">= 0"),
    "max_grad_norm": (lambda v: v is None or v > 0, "null or > 0"),
    "max_length": (lambda v: _positive_int(v) and v >= 3, "an int >= 3 (two specials + a token)"),
    "mlm_probability": (lambda v: 0 < v < 1, "a probability in (0, 1)"),
    "alpha": (lambda v: 0 <= v <= 1, "0 <= α <= 1"),
}


def check_pretrain_config(cfg: PretrainConfig) -> None:
    """ConfigError naming `pretrain.<field>` for the first out-of-range value."""
    for name, (ok, expected) in _RULES.items():
        value = getattr(cfg, name)
        if not ok(value):
            raise ConfigError(f"{PREFIX}.{name}", value, expected)
    if cfg.warmup_steps > cfg.max_steps:
        raise ConfigError(
            f"{PREFIX}.warmup_steps", cfg.warmup_steps, f"<= max_steps ({cfg.max_steps})"
        )
    if cfg.val_check_interval > cfg.max_steps:
        raise ConfigError(
            f"{PREFIX}.val_check_interval",
            cfg.val_check_interval,
            f"<= max_steps ({cfg.max_steps})",
        )


def accumulation(cfg: PretrainConfig, world_size: int) -> int:
    """Micro-batches per optimizer step on each of `world_size` devices."""
    if cfg.effective_batch_size is None:
        return cfg.accumulate_grad_batches
    per_step = cfg.batch_size * world_size
    if cfg.effective_batch_size % per_step:
        raise ConfigError(
            f"{PREFIX}.effective_batch_size",
            cfg.effective_batch_size,
            f"a multiple of batch_size × devices = {cfg.batch_size} × {world_size}",
        )
    return cfg.effective_batch_size // per_step


def to_pretrain_config(node: Mapping[str, Any]) -> PretrainConfig:
    """From a plain mapping (e.g. `OmegaConf.to_container(cfg.pretrain)`); unknown keys fail."""
    known = {f.name for f in fields(PretrainConfig)}
    unknown = sorted(set(node) - known - {"name"})
    if unknown:
        raise ConfigError(f"{PREFIX}.{unknown[0]}", node[unknown[0]], f"one of {sorted(known)}")
    cfg = PretrainConfig(**{k: v for k, v in node.items() if k in known})
    check_pretrain_config(cfg)
    return cfg
