"""The papers' convergence claim, measured: in each setting of a sweep (model, dim, head, langset,
seed), every initializer's validation loss during continued pre-training, and the first step at
which it reaches the loss `random` ends with."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from hyperofa.pretrain.plot import read_metrics
from hyperofa.report.collect import INITIALIZER_ORDER, Job, rank

REFERENCE = "random"
VAL = "val/loss"
SETTING = ("model", "dim", "head", "langset", "seed")


@dataclass(frozen=True)
class Convergence:
    """One pre-trained job: its validation curve [(step, loss)], the loss `random` ends with in
    its setting (None without a random job there) and the first step it is reached (None: not
    within the run)."""

    job: Job
    curve: list[tuple[int, float]]
    target: float | None
    steps: int | None

    @property
    def setting(self) -> tuple:
        return setting(self.job)


def setting(job: Job) -> tuple:
    return tuple(getattr(job, name) for name in SETTING)


def first_step_at(curve: Sequence[tuple[int, float]], target: float) -> int | None:
    """The first step whose loss is ≤ `target`; None when none is."""
    return next((step for step, loss in curve if loss <= target), None)


def convergence(jobs: Sequence[Job]) -> list[Convergence]:
    """Every job with a validation curve, in setting then initializer order."""
    curves = {}
    for job in jobs:
        if job.pretrain_logs is not None:
            curve = [
                (s, v) for s, v in read_metrics(job.pretrain_logs).get(VAL, []) if math.isfinite(v)
            ]
            if curve:
                curves[job] = curve
    targets = {setting(j): c[-1][1] for j, c in curves.items() if j.initializer == REFERENCE}
    found = []
    for job, curve in curves.items():
        target = targets.get(setting(job))
        steps = None if target is None else first_step_at(curve, target)
        found.append(Convergence(job, curve, target, steps))
    return sorted(found, key=lambda c: (str(c.setting), rank(c.job.initializer, INITIALIZER_ORDER)))


def varying(items: Sequence[Convergence]) -> list[str]:
    """The setting fields that differ between jobs (they name a row or a panel)."""
    return [n for i, n in enumerate(SETTING) if len({c.setting[i] for c in items}) > 1]


def label(item: Convergence, names: Sequence[str]) -> str:
    """A panel's title: the setting fields that vary, else the model and dim."""
    names = names or ("model", "dim")
    return " · ".join(f"{n} {getattr(item.job, n)}" for n in names)


def convergence_table(items: Sequence[Convergence]) -> str:
    """Markdown: per job, its validation loss before and after pre-training and the steps it took
    to reach random's final loss ("" when no setting has a random job)."""
    if not any(c.target is not None for c in items):
        return ""
    names = varying(items)
    header = [*names, "initializer", "val loss step 0 ↓", "val loss final ↓",
              f"steps to {REFERENCE}'s final val loss ↓"]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(names) + "---|---:|---:|---:|"]
    for c in items:
        last = c.curve[-1][0]
        reached = "–" if c.target is None else ("not reached" if c.steps is None else f"{c.steps}")
        cells = [str(getattr(c.job, n)) for n in names]
        cells += [c.job.initializer, f"{c.curve[0][1]:.4f}", f"{c.curve[-1][1]:.4f}",
                  f"{reached} of {last}"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def records(items: Sequence[Convergence]) -> list[dict]:
    """JSON records of `items` for report.json."""
    return [
        {
            "job": str(c.job.path),
            **{n: getattr(c.job, n) for n in SETTING},
            "initializer": c.job.initializer,
            "val_loss": c.curve,
            "target": c.target,
            "steps_to_target": c.steps,
        }
        for c in items
    ]
