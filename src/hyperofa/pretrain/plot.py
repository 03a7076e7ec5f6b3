"""Loss curves per initializer from Lightning CSV logs, as one PNG (matplotlib Agg, no display)."""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

Curve = list[tuple[int, float]]
Y_LABELS = {True: "MLM loss (masked tokens)", False: "next-token loss (nats per token)"}


def _version(path: Path) -> int:
    match = re.fullmatch(r"version_(\d+)", path.parent.name)
    return int(match.group(1)) if match else -1


def metrics_files(path: str | Path) -> list[Path]:
    """A `metrics.csv` itself, or every `version_*/metrics.csv` under a dir, oldest version first."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(path.rglob("metrics.csv"), key=lambda p: (_version(p), str(p)))


def read_metrics(path: str | Path) -> dict[str, Curve]:
    """metric → [(step, value)] sorted by step, merged over a run's CSV versions.

    A resumed run logs into a new version; where two versions log the same metric at the same step
    the later one wins (the earlier process was killed before its checkpoint caught up).
    """
    merged: dict[str, dict[int, float]] = {}
    for file in metrics_files(path):
        with open(file, newline="") as handle:
            for row in csv.DictReader(handle):
                step = int(row["step"])
                for name, value in row.items():
                    if name not in ("step", "epoch") and value not in ("", None):
                        merged.setdefault(name, {})[step] = float(value)
    return {name: sorted(values.items()) for name, values in merged.items()}


def plot_loss_curves(
    csv_paths: Mapping[str, str | Path], out_png: str | Path, masked: bool = True
) -> Path:
    """One line per run (e.g. per initializer): `train/loss` solid, `val/loss` dashed with dots;
    the y axis names the objective (masked LM, else next-token prediction).

    csv_paths: label → a metrics.csv or a run's CSV log dir. Returns the PNG path.
    """
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (label, path) in enumerate(sorted(csv_paths.items())):
        metrics, color = read_metrics(path), colors[i % len(colors)]
        for name, style in (("train/loss", {"ls": "-"}), ("val/loss", {"ls": "--", "marker": "o"})):
            points = [(s, v) for s, v in metrics.get(name, []) if math.isfinite(v)]
            if points:
                steps, values = zip(*points, strict=True)
                ax.plot(steps, values, color=color, label=f"{label} {name}", **style)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel(Y_LABELS[masked])
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)
    return out_png
