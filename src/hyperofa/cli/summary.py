"""A run's or sweep's summary: the report's rows and tables as summary.json + summary.md, the
headline table printed, then `summary: <path>` (the report dir beside it, via `write_report`)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from hyperofa.artifacts import write_json_atomic
from hyperofa.cli.common import ERROR_FILE, check_launcher
from hyperofa.errors import EmptyInputError
from hyperofa.report import Row, row_record, write_report
from hyperofa.report.write import tables_markdown

log = logging.getLogger(__name__)


def summary_records(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """summary.json: one record per report row, its per-language scores included."""
    return [row_record(r) | {"per_language": r.per_language} for r in rows]


def summary_markdown(rows: Sequence[Row]) -> str:
    """summary.md: report.md's headline table and its table of every metric and count."""
    return tables_markdown(rows)


def write_summary(root: Path) -> Path | None:
    """Write the report, summary.json and summary.md of every job under `root`, print the
    headline table; None when no job produced rows (e.g. every job of a sweep failed)."""
    try:
        report = write_report(root)
    except EmptyInputError:
        return None
    path = root / "summary.json"
    write_json_atomic(path, summary_records(report.rows))
    (root / "summary.md").write_text(summary_markdown(report.rows))
    print(report.table)
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
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        check_launcher(config)

    def on_run_end(self, config: DictConfig, **kwargs: Any) -> None:
        write_summary(Path(config.hydra.runtime.output_dir))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        root = Path(config.hydra.sweep.dir)
        write_summary(root)
        failed = failed_jobs(root)
        if failed:
            log.error("%d job(s) failed:\n  %s", len(failed), "\n  ".join(failed))
            sys.exit(1)
