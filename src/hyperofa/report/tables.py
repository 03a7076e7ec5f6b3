"""Paper-style markdown tables and per-language CSVs from report rows (pure: strings in, no I/O)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hyperofa.report.collect import Row


@dataclass(frozen=True)
class Metric:
    """A table column: the flat metric key, its printed title, and its direction."""

    key: str
    title: str
    lower_is_better: bool = False

    @property
    def header(self) -> str:
        return f"{self.title} ↓" if self.lower_is_better else self.title


# the paper's headline per task, in the order its tables print them
HEADLINE = (
    Metric("mlm_loss_heldout", "MLM loss", lower_is_better=True),
    Metric("mlm_loss_unseen_languages", "MLM loss unseen", lower_is_better=True),
    Metric("bpb_heldout", "bits/byte", lower_is_better=True),
    Metric("bpb_unseen_languages", "bits/byte unseen", lower_is_better=True),
    Metric("fertility_heldout", "tokens/word", lower_is_better=True),
    Metric("sr_udhr_top10", "SR-UDHR top10"),
    Metric("sr_b_top10", "SR-B top10"),
    Metric("sr_t_top10", "SR-T top10"),
    Metric("taxi1500_macro_f1", "Taxi1500 F1"),
    Metric("ner_f1", "NER F1"),
    Metric("pos_f1", "POS F1"),
    Metric("embedded_pos_f1", "POS tur→ind F1"),
)
# what an initializer is besides its scores: how many new tokens it sets, how well it predicts
# held-out source rows, what it costs
INITIALIZER_METRICS = (
    Metric("coverage", "coverage"),
    Metric("intrinsic_cosine", "intrinsic cosine"),
    Metric("init_seconds", "init time (s)", lower_is_better=True),
)
# which entry of a per-language {metric: value} is the task's headline, first found wins
LANGUAGE_METRIC = ("top10", "f1", "macro_f1", "accuracy")
COUNTS = ("copied", "initialized", "random")
AVG = "avg"


def lower_is_better(key: str) -> bool:
    return any(part in key for part in ("loss", "l1", "bpb", "fertility", "seconds"))


def present(rows: Sequence[Row], metrics: Sequence[Metric] = HEADLINE) -> list[Metric]:
    """The metrics of `metrics` that at least one row has."""
    return [m for m in metrics if any(m.key in r.metrics for r in rows)]


def all_metrics(rows: Sequence[Row]) -> list[Metric]:
    """Every flat metric of any row: headline ones first, then the rest alphabetically."""
    headline = present(rows)
    known = {m.key for m in headline}
    rest = sorted({k for r in rows for k in r.metrics} - known)
    return headline + [Metric(k, k, lower_is_better(k)) for k in rest]


def average(row: Row, metrics: Sequence[Metric]) -> float | None:
    """Mean of the row's higher-is-better `metrics`; None unless it has every one of them (a
    mean over fewer tasks would not compare), or when fewer than two such columns exist."""
    keys = [m.key for m in metrics if not m.lower_is_better]
    if len(keys) < 2 or any(k not in row.metrics for k in keys):
        return None
    return sum(row.metrics[k] for k in keys) / len(keys)


def fmt(value: float | int | None) -> str:
    """Every table number alike: ints with thousands separators, floats with 3 decimals."""
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.3f}" if math.isfinite(value) else "nan"


def identity(rows: Sequence[Row]) -> list[str]:
    """Columns naming a row: model, initializer, dim, stage, plus langset and seed where they vary."""
    names = ("head", "langset", "seed")
    extra = [name for name in names if len({getattr(r, name) for r in rows}) > 1]
    return ["model", "initializer", "dim", "stage", *extra]


def identity_cells(row: Row, columns: Sequence[str]) -> list[str]:
    cells = {"dim": "full" if row.dim is None else str(row.dim), "seed": str(row.seed)}
    return [cells.get(c, str(getattr(row, c))) for c in columns]


def counts_cells(row: Row) -> list[str]:
    c = row.counts
    if not c:
        return ["", "", ""]
    copied = sum(c.get(k, 0) for k in ("special", "copied_exact", "copied_ci"))
    return [fmt(copied), fmt(c.get("initialized")), fmt(c.get("random"))]


def _markdown(header: list[str], body: list[list[str]], numeric_from: int) -> str:
    align = ["---" if i < numeric_from else "---:" for i in range(len(header))]
    lines = [header, align, *body]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def headline_table(rows: Sequence[Row]) -> str:
    """Markdown: one line per row, the headline metric of each task any row has, `avg` of the
    higher-is-better ones when there are two or more; a missing value is a blank cell."""
    metrics, ids = present(rows), identity(rows)
    with_avg = sum(not m.lower_is_better for m in metrics) >= 2
    header = ids + [m.header for m in metrics] + ([AVG] if with_avg else [])
    body = []
    for row in rows:
        cells = identity_cells(row, ids) + [fmt(row.metrics.get(m.key)) for m in metrics]
        body.append(cells + ([fmt(average(row, metrics))] if with_avg else []))
    return _markdown(header, body, len(ids))


def initializers_table(rows: Sequence[Row]) -> str:
    """Markdown: per extended step-0 row, the new tokens its initializer set (initialized /
    random), `INITIALIZER_METRICS`; "" when there is none."""
    rows = [r for r in rows if r.stage == "step0" and r.initializer != "source" and r.counts]
    if not rows:
        return ""
    ids = [c for c in identity(rows) if c != "stage"]
    metrics = present(rows, INITIALIZER_METRICS)
    header = [*ids, "initialized", "random", *(m.header for m in metrics)]
    body = [
        identity_cells(r, ids) + counts_cells(r)[1:] + [fmt(r.metrics.get(m.key)) for m in metrics]
        for r in rows
    ]
    return _markdown(header, body, len(ids))


def full_table(rows: Sequence[Row]) -> str:
    """Markdown: vocabulary counts and every flat metric of every row."""
    metrics, ids = all_metrics(rows), identity(rows)
    header = ids + list(COUNTS) + [m.header for m in metrics]
    body = [
        identity_cells(r, ids) + counts_cells(r) + [fmt(r.metrics.get(m.key)) for m in metrics]
        for r in rows
    ]
    return _markdown(header, body, len(ids))


def continuations_table(rows: Sequence[Row]) -> str:
    """Markdown: a line per language and prompt, a column per row with continuations (the greedy
    text, `|` and newlines escaped); "" when no row has any."""
    having = [r for r in rows if r.continuations]
    if not having:
        return ""
    ids = identity(having)
    header = ["language", "prompt", *(" ".join(identity_cells(r, ids)) for r in having)]
    langs = sorted({lang for r in having for lang in r.continuations})
    body = []
    for lang in langs:
        prompt = next(r.continuations[lang]["prompt"] for r in having if lang in r.continuations)
        texts = [r.continuations.get(lang, {}).get("continuation", "") for r in having]
        body.append([lang, *(_cell(t) for t in (prompt, *texts))])
    return _markdown(header, body, len(header))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ⏎ ").strip()


def tasks(rows: Sequence[Row]) -> list[str]:
    """Names of the tasks with per-language scores in any row, sorted."""
    return sorted({t for r in rows for t, v in r.per_language.items() if isinstance(v, dict)})


def language_value(value: Any) -> tuple[float | None, str]:
    """(score, metric name) of one language's entry: a number, or a {metric: number} dict whose
    headline (LANGUAGE_METRIC order, else its first key alphabetically) is taken."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value), ""
    if isinstance(value, dict) and value:
        name = next((k for k in LANGUAGE_METRIC if k in value), min(value))
        v = value[name]
        return (float(v) if isinstance(v, (int, float)) else None), name
    return None, ""


def per_language_csv(rows: Sequence[Row], task: str) -> tuple[str, str]:
    """(CSV text, metric name) for `task`: a line per row having it, a column per language
    (sorted) and `average` = mean over that row's finite scores; missing → empty cell."""
    having = [r for r in rows if isinstance(r.per_language.get(task), dict)]
    scores, metric = [], ""
    for row in having:
        parsed = {}
        for lang, value in row.per_language[task].items():
            if lang != "average":
                parsed[lang], name = language_value(value)
                metric = metric or name
        scores.append(parsed)
    langs = sorted({lang for s in scores for lang in s})
    ids = identity(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*ids, *langs, "average"])
    for row, s in zip(having, scores, strict=True):
        finite = [v for v in s.values() if v is not None and math.isfinite(v)]
        mean = sum(finite) / len(finite) if finite else None
        values = [_raw(s.get(lang)) for lang in langs] + [_raw(mean)]
        writer.writerow([*identity_cells(row, ids), *values])
    return buffer.getvalue(), metric


def _raw(value: float | None) -> str:
    """Full precision in CSVs: they are data, not presentation."""
    return "" if value is None else repr(value)
