"""Typed config of continued pre-training (conf/pretrain/*.yaml, DESIGN §3.5)."""

from __future__ import annotations

from dataclasses import dataclass

from hyperofa.config.enums import TrainOnly
from hyperofa.config.rules import (
    Rule,
    in_unit,
    non_negative,
    positive,
    probability,
    require,
    ruled,
)


@dataclass
class PretrainConfig:
    """One continued pre-training run. Steps count optimizer updates; a batch is per device.

    effective batch = batch_size × accumulate_grad_batches × devices; `effective_batch_size`
    (when set) fixes it and `accumulate_grad_batches` is derived from the device count.
    """

    max_steps: int = positive(40)
    batch_size: int = positive(8)
    accumulate_grad_batches: int = positive(1)
    effective_batch_size: int | None = positive(None)
    lr: float = positive(5e-5)
    warmup_steps: int = non_negative(0)
    weight_decay: float = non_negative(0.01)
    max_grad_norm: float | None = positive(1.0)
    max_length: int = ruled(128, Rule(lambda v: v >= 3, ">= 3 (two specials + a token)"))
    mlm_probability: float = probability(0.15)
    alpha: float = in_unit(0.3)  # language sampling p_l ∝ n_l^α (XLM-R 0.3; 1 = proportional)
    val_check_interval: int = positive(20)  # optimizer steps between validations
    val_max_blocks_per_language: int | None = positive(None)  # cap on held-out blocks
    checkpoint_every_n_steps: int = positive(20)
    keep_step_checkpoints: bool = False  # also keep `step=N.ckpt` (else last.ckpt only)
    log_every_n_steps: int = positive(1)
    num_workers: int = non_negative(0)
    seed: int = non_negative(42)
    # text by path: a dir of <lang>.txt (one text per line), a `datasets.save_to_disk` dir with
    # `text` and `lang` columns, or Glot500-c's layout (a dir per <iso>_<Script> subset);
    # null = the embedded default's UDHR train / held-out articles
    train_path: str | None = None
    val_path: str | None = None
    # the first N texts (lines / rows as stored) of each training language; null = all
    # (HyperOFA: 5,000,000 of each Glot500-c subset)
    max_texts_per_language: int | None = positive(None)
    languages: list[str] | None = None  # the languages (file / subset names) to use; null = all
    num_proc: int = positive(1)  # processes that tokenize the text once (stage cpt_data)
    # all parameters, the token embeddings only, or only the new tokens' rows of them
    train_only: TrainOnly = ruled(
        TrainOnly.all, Rule(lambda v: v in set(TrainOnly), f"one of {[m.value for m in TrainOnly]}")
    )

    def check(self, prefix: str) -> None:
        for name in ("warmup_steps", "val_check_interval"):
            value = getattr(self, name)
            require(
                value <= self.max_steps,
                f"{prefix}.{name}",
                value,
                f"<= max_steps ({self.max_steps})",
            )
