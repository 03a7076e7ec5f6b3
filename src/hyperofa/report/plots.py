"""PNG figures of a sweep (matplotlib Agg): pre-training loss curves and bars per headline metric."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.lines import Line2D  # noqa: E402

from hyperofa.pretrain.plot import read_metrics  # noqa: E402
from hyperofa.report.collect import INITIALIZER_ORDER, STAGE_ORDER, Job, Row, rank  # noqa: E402
from hyperofa.report.convergence import REFERENCE, Convergence, label, varying  # noqa: E402
from hyperofa.report.tables import Metric  # noqa: E402

COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]
DPI = 120


def dim_label(dim: int | None) -> str:
    return "full" if dim is None else f"dim {dim}"


def _varying(items: Sequence[object], names: Sequence[str]) -> list[str]:
    return [n for n in names if len({getattr(i, n) for i in items}) > 1]


def variant_label(job: Job, varying: Sequence[str]) -> str:
    """A job's setting besides its initializer: dim, plus model / langset / seed where they vary."""
    parts = [dim_label(job.dim)]
    parts += [f"seed {job.seed}" if n == "seed" else str(getattr(job, n)) for n in varying]
    return " · ".join(parts)


def _variant(job: Job, varying: Sequence[str]) -> tuple:
    """Sort key of a job's setting; one setting has one colour in every panel."""
    return (math.inf if job.dim is None else job.dim, *(str(getattr(job, n)) for n in varying))


def _grid(
    n: int, width: float, height: float, sharey: bool = True
) -> tuple[plt.Figure, list[plt.Axes]]:
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    size = (width * cols, height * rows)
    fig, axes = plt.subplots(
        rows, cols, figsize=size, squeeze=False, sharey=sharey, layout="constrained"
    )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _curve(metrics: dict, name: str) -> tuple[list[int], list[float]]:
    points = [(s, v) for s, v in metrics.get(name, []) if math.isfinite(v)]
    return [s for s, _ in points], [v for _, v in points]


def _plot_job(ax: plt.Axes, job: Job, color: str) -> None:
    metrics = read_metrics(job.pretrain_logs)
    steps, values = _curve(metrics, "train/loss")
    ax.plot(steps, values, color=color, lw=1.2, alpha=0.85)
    steps, values = _curve(metrics, "val/loss")
    ax.plot(steps, values, color=color, ls="--", marker="o", ms=4, lw=1.2)


def _loss_legend(fig: plt.Figure, labels: Sequence[str]) -> None:
    """One legend below all panels: a colour per setting, then the line style of each curve."""
    handles = [Line2D([], [], color=COLORS[i % len(COLORS)], lw=2) for i in range(len(labels))]
    handles += [
        Line2D([], [], color="black", lw=1.2),
        Line2D([], [], color="black", ls="--", marker="o", ms=4),
    ]
    labels = [*labels, "train/loss", "val/loss"]
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6))


def plot_sweep_loss_curves(jobs: Sequence[Job], out_png: Path) -> Path | None:
    """One panel per initializer, one colour per dim (and seed, model, langset where they vary):
    `train/loss` solid, `val/loss` dashed with dots, over optimizer steps (a resumed run's CSV
    versions merged). None when no job has pre-training logs."""
    logged = [j for j in jobs if j.pretrain_logs is not None]
    if not logged:
        return None
    initializers = sorted({j.initializer for j in logged}, key=lambda i: rank(i, INITIALIZER_ORDER))
    varying = _varying(logged, ("model", "head", "langset", "seed"))
    labels = {_variant(j, varying): variant_label(j, varying) for j in logged}
    order = sorted(labels)
    fig, axes = _grid(len(initializers), 5.2, 3.8)
    for ax, initializer in zip(axes, initializers, strict=True):
        for job in (j for j in logged if j.initializer == initializer):
            _plot_job(ax, job, COLORS[order.index(_variant(job, varying)) % len(COLORS)])
        ax.set_title(initializer)
        ax.set_xlabel("optimizer step")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("MLM loss (masked tokens)")
    _loss_legend(fig, [labels[v] for v in order])
    fig.suptitle("Continued pre-training")
    return _save(fig, out_png)


def plot_convergence(items: Sequence[Convergence], out_png: Path) -> Path | None:
    """One panel per setting, every initializer's validation loss over optimizer steps side by
    side (one colour per initializer in every panel), and random's final loss as a dotted line;
    None when fewer than two initializers were pre-trained."""
    initializers = sorted(
        {c.job.initializer for c in items}, key=lambda i: rank(i, INITIALIZER_ORDER)
    )
    if len(initializers) < 2:
        return None
    names = varying(items)
    settings = sorted({c.setting for c in items}, key=str)
    fig, axes = _grid(len(settings), 5.2, 3.8, sharey=False)
    for ax, key in zip(axes, settings, strict=True):
        panel = [c for c in items if c.setting == key]
        for c in panel:
            color = COLORS[initializers.index(c.job.initializer) % len(COLORS)]
            steps, losses = zip(*c.curve, strict=True)
            ax.plot(steps, losses, color=color, marker="o", ms=3, lw=1.4)
        if (target := panel[0].target) is not None:
            ax.axhline(target, color="grey", ls=":", lw=1)
        ax.set_title(label(panel[0], names), fontsize="medium")
        ax.set_xlabel("optimizer step")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("validation loss (lower is better)")
    handles = [
        Line2D([], [], color=COLORS[i % len(COLORS)], lw=2) for i in range(len(initializers))
    ]
    handles.append(Line2D([], [], color="grey", ls=":"))
    labels = [*initializers, f"{REFERENCE}'s final loss"]
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3))
    fig.suptitle("Convergence in continued pre-training")
    return _save(fig, out_png)


def _save(fig: plt.Figure, out_png: Path) -> Path:
    fig.savefig(out_png, dpi=DPI)
    plt.close(fig)
    return out_png


def _panel_key(row: Row) -> tuple[str, str, str]:
    return (row.model, row.stage, row.langset)


def _bars(ax: plt.Axes, rows: Sequence[Row], metric: Metric, dims: list[int | None]) -> None:
    """Grouped bars: a group per initializer, a bar per dim it has (mean over seeds, std bar)."""
    initializers = sorted({r.initializer for r in rows}, key=lambda i: rank(i, INITIALIZER_ORDER))
    width = 0.8 / max(len(dims), 1)
    for x, initializer in enumerate(initializers):
        own = [d for d in dims if any(r.initializer == initializer and r.dim == d for r in rows)]
        for j, dim in enumerate(own):
            values = [
                r.metrics[metric.key] for r in rows if r.initializer == initializer and r.dim == dim
            ]
            mean = statistics.fmean(values)
            err = statistics.stdev(values) if len(values) > 1 else None
            pos = x + (j - (len(own) - 1) / 2) * width
            color = COLORS[dims.index(dim) % len(COLORS)]
            bars = ax.bar(pos, mean, width * 0.92, yerr=err, color=color, capsize=3)
            ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=2, rotation=90 if width < 0.3 else 0)
    ax.set_xticks(range(len(initializers)), initializers)
    ax.set_xlim(-0.6, len(initializers) - 0.4)  # a lone bar keeps its width


def _ylim(ax: plt.Axes, values: Sequence[float], metric: Metric) -> None:
    """Scores start at 0; losses zoom on their range (differences of a few % would vanish)."""
    low, high = min(values), max(values)
    span = max(high - low, 0.05 * abs(high), 1e-6)
    if metric.lower_is_better:  # room above the tallest bar for its value label
        ax.set_ylim(max(low - 0.5 * span, 0.0), high + 0.45 * span)
    else:
        ax.set_ylim(0.0, high + 0.2 * abs(high) + 1e-6)


def plot_bars(rows: Sequence[Row], metric: Metric, out_png: Path) -> Path | None:
    """`metric` per initializer (x) and dim (colour), one panel per (model, stage, langset);
    None when no row has it."""
    having = [r for r in rows if math.isfinite(r.metrics.get(metric.key, math.nan))]
    if not having:
        return None
    panels = sorted(
        {_panel_key(r) for r in having}, key=lambda k: (k[0], rank(k[1], STAGE_ORDER), k[2])
    )
    dims = sorted({r.dim for r in having}, key=lambda d: math.inf if d is None else d)
    n_bars = len({(r.initializer, r.dim) for r in having})
    # losses of step0 and pretrained models lie far apart: each panel zooms on its own range
    fig, axes = _grid(len(panels), max(4.0, 0.55 * n_bars + 1.5), 3.8, not metric.lower_is_better)
    for ax, key in zip(axes, panels, strict=True):
        panel = [r for r in having if _panel_key(r) == key]
        _bars(ax, panel, metric, dims)
        ax.set_title(" · ".join(k for k in key if k), fontsize="medium")
        ax.grid(axis="y", alpha=0.3)
        _ylim(
            ax,
            [r.metrics[metric.key] for r in (panel if metric.lower_is_better else having)],
            metric,
        )
    handles = [plt.Rectangle((0, 0), 1, 1, color=COLORS[i % len(COLORS)]) for i in range(len(dims))]
    labels = [dim_label(d) for d in dims]
    fig.legend(handles, labels, loc="outside lower center", ncols=len(dims), fontsize="small")
    direction = "lower is better" if metric.lower_is_better else "higher is better"
    axes[0].set_ylabel(f"{metric.key} ({direction})")
    fig.suptitle(metric.header)
    return _save(fig, out_png)
