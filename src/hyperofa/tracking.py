"""W&B bookkeeping of a job: the tags every run of a sweep shares, and the job's own run carrying
the resolved config and the result rows as summary metrics (offline by default)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hyperofa.config.enums import LoggerKind
from hyperofa.config.schema import RunConfig
from hyperofa.training.loggers import Tracking

log = logging.getLogger(__name__)


def job_tracking(run: RunConfig) -> Tracking:
    """The job's logger settings, run dir and tags: initializer, model, dim, langset."""
    dim = run.factorize.dim
    tags = (
        f"initializer:{run.initializer.name}",
        f"model:{run.model.name}",
        f"dim:{dim if dim is not None else 'full'}",
        f"langset:{run.langset.name}",
    )
    return Tracking(run.logger, Path(run.run_dir), tags)


def summary_metrics(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Flat `<stage>/<metric>` figures of a job's rows (the source row as `source/<metric>`)."""
    out: dict[str, float] = {}
    for row in rows:
        prefix = "source" if row["initializer"] == "source" else row["stage"]
        for name, value in row["metrics"].items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[f"{prefix}/{name}"] = value
        for name, value in row.get("counts", {}).items():
            out[f"counts/{name}"] = value
    return out


def log_job(tracking: Tracking, config: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """One W&B run per job (when `logger` is W&B): config and summary metrics, in the run dir."""
    cfg = tracking.cfg
    if cfg.kind != LoggerKind.wandb or not rows:
        return
    import wandb

    wb = wandb.init(
        project=cfg.project,
        dir=str(tracking.run_dir),
        mode="offline" if cfg.offline else "online",
        group=cfg.group,
        tags=[*cfg.tags, *tracking.tags],
        job_type="evaluate",
        config=config,
        reinit="finish_previous",
    )
    metrics = summary_metrics(rows)
    wb.summary.update(metrics)
    wb.finish()
    log.info("wandb: logged %d summary metrics (group %s)", len(metrics), cfg.group)
