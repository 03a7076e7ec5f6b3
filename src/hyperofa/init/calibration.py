"""Choices about new rows made on training text (`stacked` with calibrate=text).

A row's length is what a model reads as its loudness (input) and its logit scale (tied head); a
regression's predictions are shrunk toward the mean row, so their length has to be set apart from
their direction. Each candidate is scored by `probe(ids, rows)`, the source model's loss on
training text with those rows, and the lowest wins (the first of equals). The search is one pass
of coordinate descent, each step keeping the rest fixed:
- `common_norm`: all new rows scaled about the origin to a mean norm of ρ × the source rows';
- `mixed_share`: some rows mixed with a second prediction of them, (1 − t)·rows + t·other, the
  other rescaled to the rows' mean norm, for t in a grid;
- `group_norms`: each group of tokens its own ρ, kept only where it lowers the loss.
Every step records its candidates' losses; `calibration_loss` is the loss of the rows returned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

log = logging.getLogger(__name__)
Probe = Callable[[np.ndarray, np.ndarray], float]
Record = dict[str, float]


def mean_norm(rows: np.ndarray) -> float:
    return max(float(np.linalg.norm(rows, axis=1).mean()), float(np.finfo(np.float32).tiny))


NORMS, SHARES = "initializer.text_norms", "initializer.hypernet_shares"  # the grids' config keys


def best_of(
    probe: Probe,
    ids: np.ndarray,
    grid: Sequence[float],
    rows_at: Callable,
    label: str,
    key: str,
    prefix: str = "",
    limits: tuple[float, float] = (0.0, np.inf),
) -> tuple[float, Record]:
    """The value of `grid` (config key `key`) whose rows (`rows_at(value)`, built one at a time)
    have the lowest loss, and a record of every value's loss (`calibration_loss_<prefix><value>`)
    and the lowest (`calibration_loss`); warns when it is an end of the grid other than one of the
    `limits` no value may pass."""
    losses = {}
    for value in grid:
        losses[value] = probe(ids, rows_at(value))
        log.info("calibration: %s %g: training-text loss %.4f", label, value, losses[value])
    best = min(losses, key=losses.__getitem__)
    if len(losses) > 1 and best in (min(losses), max(losses)) and best not in limits:
        log.warning(
            "calibration: the best %s, %g, is an end of %s %s: the training text may prefer a "
            "value beyond it", label, best, key, list(losses),
        )  # fmt: skip
    record = {f"calibration_loss_{prefix}{value:g}": loss for value, loss in losses.items()}
    return best, {**record, "calibration_loss": losses[best]}


def mix(rows: np.ndarray, other: np.ndarray, share: float) -> np.ndarray:
    """(1 − share)·rows + share·other, `other` rescaled to the mean norm of `rows` first."""
    part = other * np.float32(mean_norm(rows) / mean_norm(other))
    return (np.float32(1 - share) * rows + np.float32(share) * part).astype(np.float32)


def _scaled(rows: np.ndarray, mask: np.ndarray, scale: float) -> np.ndarray:
    out = rows.copy()
    out[mask] *= np.float32(scale)
    return out


def common_norm(
    probe: Probe, ids: np.ndarray, rows: np.ndarray, norms: Sequence[float], source_norm: float
) -> tuple[np.ndarray, Record]:
    """`rows` scaled to the mean norm ρ × `source_norm` with the lowest loss, ρ in `norms`."""
    unit = source_norm / mean_norm(rows)
    everything = np.ones(len(ids), dtype=bool)
    at = lambda r: _scaled(rows, everything, r * unit)  # noqa: E731
    best, record = best_of(probe, ids, norms, at, "norm of the new rows", NORMS)
    return at(best), {"calibration_norm": best, "calibration_scale": best * unit, **record}


def mixed_share(
    probe: Probe,
    ids: np.ndarray,
    rows: np.ndarray,
    mask: np.ndarray,
    other: np.ndarray,
    shares: Sequence[float],
    name: str,
) -> tuple[np.ndarray, Record]:
    """`rows` with `rows[mask]` → (1 − t)·rows[mask] + t·`other` (rescaled to the mean norm of
    `rows[mask]`), t in `shares` with the lowest loss; records `<name>_share`."""

    def at(t: float) -> np.ndarray:
        out = rows.copy()
        out[mask] = mix(rows[mask], other, t)
        return out

    label = f"share of the {name}"
    best, record = best_of(probe, ids, shares, at, label, SHARES, f"{name}_", (0.0, 1.0))
    return at(best), {f"{name}_share": best, **record}


def group_norms(
    probe: Probe,
    ids: np.ndarray,
    rows: np.ndarray,
    groups: dict[str, np.ndarray],
    norms: Sequence[float],
    source_norm: float,
    loss: float,
) -> tuple[np.ndarray, Record]:
    """Each group's rows (a bool mask over `ids`; empty or whole groups are skipped) at the mean
    norm ρ × `source_norm` with the lowest loss where that is below `loss` (the loss of `rows`);
    records `calibration_norm_<group>`, the ratio each ends at."""
    record: Record = {}
    for name, mask in groups.items():
        if not mask.any() or mask.all():
            continue
        unit = source_norm / mean_norm(rows[mask])
        at = lambda r, m=mask, u=unit, base=rows: _scaled(base, m, r * u)  # noqa: E731
        label = f"norm of the rows {name}"
        best, tried = best_of(probe, ids, norms, at, label, NORMS, f"{name}_")
        lowest = tried.pop("calibration_loss")
        if lowest < loss:
            rows, loss = at(best), lowest
        record.update(tried)
        record[f"calibration_norm_{name}"] = mean_norm(rows[mask]) / source_norm
    return rows, {**record, "calibration_loss": loss}
