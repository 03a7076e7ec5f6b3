"""Write a run's or sweep's report dir: report.md, report.json, per-language CSVs, PNG plots."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperofa.artifacts import atomic_dir, write_json_atomic
from hyperofa.report.collect import Job, Row, collect
from hyperofa.report.convergence import Convergence, convergence, convergence_table, records
from hyperofa.report.plots import plot_bars, plot_convergence, plot_sweep_loss_curves
from hyperofa.report.tables import (
    INITIALIZER_METRICS,
    continuations_table,
    full_table,
    headline_table,
    initializers_table,
    per_language_csv,
    present,
    tasks,
)

REPORT_DIR = "report"
ROW_FIELDS = (
    "model",
    "initializer",
    "dim",
    "stage",
    "head",
    "langset",
    "seed",
    "metrics",
    "counts",
)
CONVERGENCE = (
    "Validation loss during continued pre-training (the same held-out blocks for every "
    "initializer of a setting) and the first validation step at which each initializer reaches "
    "the loss random ends with: the papers' faster-convergence claim, measured."
)
LEGEND = (
    "↓ lower is better; blank = not measured; dim full = no factorization; step0 = right after "
    "initialization, pretrained = after continued pre-training; avg = mean of the "
    "higher-is-better task columns (only for rows that have all of them)."
)


@dataclass(frozen=True)
class Report:
    """What `write_report` wrote: the dir, the headline markdown table, every file (final paths),
    and the rows it reported."""

    out: Path
    table: str
    files: list[Path]
    rows: list[Row] = field(default_factory=list)


def row_record(row: Row) -> dict[str, Any]:
    """A row as JSON: what it is, its flat metrics and counts, the job dir it was read from."""
    return {k: getattr(row, k) for k in ROW_FIELDS} | {"job": str(row.job)}


def safe_name(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name)


def _markdown(
    root: Path,
    rows: Sequence[Row],
    jobs: Sequence[Job],
    csvs: dict[str, str],
    pngs: list[str],
    converged: Sequence[Convergence],
) -> str:
    logged = sum(j.pretrain_logs is not None for j in jobs)
    lines = [
        f"# Report: {root}",
        "",
        f"{len(rows)} rows from {len(jobs)} result.json files; "
        f"{logged} jobs with continued pre-training logs.",
        "",
        tables_markdown(rows),
    ]
    if table := convergence_table(converged):
        lines += ["## Convergence in continued pre-training", "", CONVERGENCE, "", table, ""]
    lines += [
        "## Per-language scores",
        "",
        *(f"- [{f}]({f}): {metric} per language" for f, metric in csvs.items()),
        "",
        "## Plots",
        "",
        *(f"![{f}]({f})" for f in pngs),
        "",
    ]
    return "\n".join(lines)


def tables_markdown(rows: Sequence[Row]) -> str:
    """The legend, the headline table and the table of every metric and count."""
    parts = [LEGEND, "## Headline metrics", headline_table(rows)]
    if initializers := initializers_table(rows):
        parts += [
            "## Initializers: coverage of the new tokens, intrinsic cosine, time",
            initializers,
        ]
    parts += ["## All metrics and vocabulary counts", full_table(rows)]
    if continuations := continuations_table(rows):
        parts += ["## Greedy continuations of held-out openings", continuations]
    return "\n\n".join(parts) + "\n"


def _write_csvs(rows: Sequence[Row], tmp: Path) -> dict[str, str]:
    """<task>_per_language.csv per task; returns file name → the per-language metric used."""
    written = {}
    for task in tasks(rows):
        text, metric = per_language_csv(rows, task)
        name = f"{safe_name(task)}_per_language.csv"
        (tmp / name).write_text(text)
        written[name] = metric or task
    return written


def _write_plots(
    rows: Sequence[Row], jobs: Sequence[Job], converged: Sequence[Convergence], tmp: Path
) -> list[str]:
    written = [plot_sweep_loss_curves(jobs, tmp / "loss_curves.png")]
    written.append(plot_convergence(converged, tmp / "convergence.png"))
    for metric in present(rows):
        written.append(plot_bars(rows, metric, tmp / f"bars_{safe_name(metric.key)}.png"))
    step0 = [r for r in rows if r.stage == "step0" and r.initializer != "source"]
    for metric in present(step0, INITIALIZER_METRICS):
        written.append(plot_bars(step0, metric, tmp / f"bars_{safe_name(metric.key)}.png"))
    return [p.name for p in written if p is not None]


def _summary(
    rows: Sequence[Row], jobs: Sequence[Job], csvs: dict[str, str], converged: Sequence[Convergence]
) -> dict:
    return {
        "rows": [row_record(r) for r in rows],
        "jobs": [{"path": str(j.path), "pretrain_logs": j.pretrain_logs} for j in jobs],
        "per_language_metric": csvs,
        "convergence": records(converged),
    }


def write_report(root: str | Path, out: str | Path | None = None) -> Report:
    """Collect every result.json under `root` and write the report into `out` (default
    `<root>/report/`), replacing an older one as a whole. Raises MissingPathError, EmptyInputError
    or BadFileError (from hyperofa.errors) before anything is written."""
    root = Path(root)
    rows, jobs = collect(root)
    base = root.parent if root.is_file() else root
    out = Path(out) if out is not None else base / REPORT_DIR
    converged = convergence(jobs)
    with atomic_dir(out, replace=True) as tmp:
        csvs = _write_csvs(rows, tmp)
        pngs = _write_plots(rows, jobs, converged, tmp)
        (tmp / "report.md").write_text(_markdown(root, rows, jobs, csvs, pngs, converged))
        write_json_atomic(tmp / "report.json", _summary(rows, jobs, csvs, converged))
    names = ["report.md", "report.json", *csvs, *pngs]
    return Report(out=out, table=headline_table(rows), files=[out / n for n in names], rows=rows)
