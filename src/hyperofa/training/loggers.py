"""Lightning loggers: CSV always (each trainer writes its own into its run dir), W&B when the
`logger` config says `kind: wandb` (offline by default, under the job's run dir, never the cache),
with the sweep's group and the job's tags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pytorch_lightning.loggers import CSVLogger, Logger, WandbLogger

from hyperofa.config.enums import LoggerKind
from hyperofa.config.training import LoggerConfig


def csv_logger(run_dir: Path, flush_every_n_steps: int = 1, name: str = "csv") -> CSVLogger:
    """`run_dir/<name>/version_<n>/metrics.csv` (one version per process run), flushed every
    `flush_every_n_steps` so a killed run keeps its rows."""
    return CSVLogger(run_dir, name=name, flush_logs_every_n_steps=flush_every_n_steps)


@dataclass(frozen=True)
class Tracking:
    """Where and how a job's trainers log beyond CSV: wired once per job by the pipeline."""

    cfg: LoggerConfig
    run_dir: Path  # the job's run dir
    tags: tuple[str, ...] = ()

    def loggers(self, subdir: str, job_type: str) -> list[Logger]:
        """[W&B under `run_dir/subdir`] when configured, else []."""
        if self.cfg.kind != LoggerKind.wandb:
            return []
        mode = {"mode": "offline"} if self.cfg.offline else {}  # Lightning only sets an env var
        return [
            WandbLogger(
                save_dir=str(self.run_dir / subdir),
                project=self.cfg.project,
                offline=self.cfg.offline,
                name=self.cfg.name,
                group=self.cfg.group,
                tags=[*self.cfg.tags, *self.tags],
                job_type=job_type,
                **mode,
            )
        ]


def close_loggers(loggers: Sequence[Logger]) -> None:
    """End our W&B run, so the next job of a sequential multirun starts its own."""
    if any(isinstance(lg, WandbLogger) for lg in loggers):
        import wandb

        if wandb.run is not None:
            wandb.finish()
