"""Collect the rows of a run or a sweep into summary.json + summary.md and print the table."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from hyperofa.artifacts import write_json_atomic
from hyperofa.cli.common import ERROR_FILE
from hyperofa.report import write_report

log = logging.getLogger(__name__)
COLUMNS = [
    ("initializer", "initializer"),
    ("dim", "dim"),
    ("stage", "stage"),
    ("copied", None),
    ("initialized", None),
    ("random", None),
    ("mlm_loss_heldout", "mlm↓ held-out"),
    ("mlm_loss_unseen_languages", "mlm↓ unseen"),
    ("sr_udhr_top1", "SR top1"),
    ("sr_udhr_top10", "SR top10"),
    ("embedded_pos_accuracy", "POS tur→ind acc"),
    ("intrinsic_cosine_hyperofa", "intrinsic cos: hyperofa"),
    ("intrinsic_cosine_ofa", "ofa"),
    ("intrinsic_cosine_random", "random"),
]


def collect_rows(root: Path) -> list[dict[str, Any]]:
    """Rows of every result.json under `root`, the same (initializer, dim, stage) kept once."""
    rows, seen = [], set()
    for path in sorted(root.rglob("result.json")):
        for row in json.loads(path.read_text())["rows"]:
            key = (row["initializer"], row["dim"], row["stage"])
            if key not in seen:
                seen.add(key)
                rows.append(row)
    return rows


def _cell(row: dict[str, Any], name: str) -> str:
    counts, metrics = row.get("counts", {}), row.get("metrics", {})
    if name == "copied":
        value = (
            sum(counts.get(k, 0) for k in ("copied_exact", "copied_ci", "special"))
            if counts
            else None
        )
    elif name in ("initialized", "random"):
        value = counts.get(name)
    elif name in ("initializer", "dim", "stage"):
        value = row[name] if row[name] is not None else ("—" if name == "dim" else None)
    else:
        value = metrics.get(name)
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    header = "| " + " | ".join(title or name for name, title in COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    body = ["| " + " | ".join(_cell(r, name) for name, _ in COLUMNS) + " |" for r in rows]
    return "\n".join([header, rule, *body])


def write_summary(root: Path) -> Path | None:
    """Write and print the table of every job under `root`; None when no job produced rows."""
    rows = collect_rows(root)
    if not rows:
        return None
    path = root / "summary.json"
    write_json_atomic(path, rows)
    table = markdown_table(rows)
    (root / "summary.md").write_text(table + "\n")
    report = write_report(root)
    print(table)
    print(f"report: {report.out / 'report.md'} ({len(report.files)} files: tables, plots)")
    print(f"summary: {path}")
    return path


def failed_jobs(root: Path) -> list[str]:
    """`<job dir>: <error>` for every job under `root` that left an error.json."""
    out = []
    for path in sorted(root.rglob(ERROR_FILE)):
        err = json.loads(path.read_text())
        out.append(f"{path.parent}: {err['error']}: {err['message']}")
    return out


class SummaryCallback(Callback):
    def on_run_end(self, config: DictConfig, **kwargs: Any) -> None:
        write_summary(Path(config.hydra.runtime.output_dir))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        root = Path(config.hydra.sweep.dir)
        write_summary(root)
        failed = failed_jobs(root)
        if failed:
            log.error("%d job(s) failed:\n  %s", len(failed), "\n  ".join(failed))
            sys.exit(1)
