"""Typed configs of the Trainer every trained stage uses (conf/trainer) and of the loggers
(conf/logger). One `TrainerConfig` reaches the hypernetwork, continued pre-training and
fine-tuning alike (`hyperofa.training.build_trainer`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hyperofa.config.enums import LoggerKind
from hyperofa.config.rules import Rule, positive, require, ruled

_DEVICES = Rule(
    lambda v: (isinstance(v, int) and (v > 0 or v == -1)) or isinstance(v, str),
    "a device count > 0, -1 (all), or a Lightning device string such as 'auto' or '0,1'",
)


@dataclass
class TrainerConfig:
    """Hardware settings of a Lightning Trainer; the loop settings come from each stage."""

    accelerator: str = "cpu"  # cpu | gpu | auto (Lightning names)
    devices: int | str = ruled(1, _DEVICES)
    num_nodes: int = positive(1)
    strategy: str = "auto"  # auto | ddp | fsdp | any Lightning strategy name
    precision: str = "32-true"  # 32-true | bf16-mixed | 16-mixed | …
    deterministic: bool = True  # torch.use_deterministic_algorithms; resumed runs match to 1e-6
    fsdp_wrap_layers: list[str] = field(default_factory=list)  # dotted layer classes to shard
    progress: bool = True  # Lightning's progress bar

    def check(self, prefix: str) -> None:
        known = ("cpu", "gpu", "cuda", "mps", "tpu", "auto")
        require(self.accelerator in known, f"{prefix}.accelerator", self.accelerator, str(known))


@dataclass
class LoggerConfig:
    """CSV is always written; `wandb` adds W&B (offline by default, in the job's run dir)."""

    kind: LoggerKind = LoggerKind.csv
    project: str = "hyperofa"
    offline: bool = True
    name: str | None = None  # null: W&B names the run
    group: str | None = None  # null: the sweep's dir name (one group per sweep), or the run's
    tags: list[str] = field(default_factory=list)  # extra; initializer/model/dim/langset added
    flush_logs_every_n_steps: int = positive(1)  # CSV rows on disk at once: a killed run keeps them
