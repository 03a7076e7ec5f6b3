"""W&B bookkeeping of a job: the group and tags every run of a sweep shares, and the job's own run
carrying the resolved config and the result rows as summary metrics (offline by default)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def tracking_tags(run) -> dict[str, Any]:
    """{"group": the sweep (set by the entry point), "tags": initializer, model, dim, langset}."""
    dim = run.factorize.dim
    tags = [
        f"initializer:{run.initializer.get('name', '?')}",
        f"model:{run.model.name}",
        f"dim:{dim if dim is not None else 'full'}",
        f"langset:{run.langset.name}",
    ]
    return {"group": (run.logger or {}).get("group"), "tags": tags}


def wandb_logger_builders(run, save_dir: Path, job_type: str) -> list | None:
    """The configured W&B logger as a builder bound to `save_dir` (the job's run dir, never the
    cache), with the sweep's group and tags; None when `logger` is not W&B (CSV is always kept)."""
    cfg = dict(run.logger or {})
    if "wandb" not in cfg.get("_target_", ""):
        return None
    from hydra.utils import instantiate

    tags = tracking_tags(run)
    cfg["group"] = cfg.get("group") or tags["group"]
    cfg["tags"] = [*cfg.get("tags", []), *tags["tags"]]
    cfg.setdefault("job_type", job_type)
    builder = instantiate(cfg)
    return [lambda _run_dir: builder(save_dir)]


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


def log_job(run, rows: list[dict[str, Any]]) -> None:
    """One W&B run per job (when `logger` is W&B): config and summary metrics, in the run dir."""
    cfg = dict(run.logger or {})
    if "wandb" not in cfg.get("_target_", "") or not rows:
        return
    import wandb

    tags = tracking_tags(run)
    wb = wandb.init(
        project=cfg.get("project", "hyperofa"),
        dir=str(Path(run.run_dir)),
        mode="offline" if cfg.get("offline", True) else "online",
        group=tags["group"],
        tags=[*cfg.get("tags", []), *tags["tags"]],
        job_type="evaluate",
        config=asdict(run),
        reinit="finish_previous",
    )
    wb.summary.update(summary_metrics(rows))
    wb.finish()
    log.info(
        "wandb: logged %d summary metrics (group %s)", len(summary_metrics(rows)), tags["group"]
    )
