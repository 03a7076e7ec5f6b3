"""Stacked regression (Wolpert 1992; Breiman 1996) of initializers' predictions: one ridge
regression per coverage pattern from the concatenated predictions of the experts present to the
true row, in closed form.

A token's coverage pattern is the set of experts that predict it (a bit per expert). The map of
pattern p is fitted on every fit token that *all* experts of p predict, reading only those
experts, so a pattern rarer than its supersets still has data; a pattern no fit token has drops
its first experts until one does (the last expert must predict every fit token). Ridge strength
is relative to the mean diagonal of the Gram matrix, so it does not depend on the rows' scale.

Calibration (`variance`): a least-squares prediction is E[row | experts], shrunk toward the mean
row as far as the experts are uncertain, so its rows are shorter than real ones. Each map's
predictions are stretched about the fit rows' mean ȳ by s = √(Σ‖y − ȳ‖² / Σ‖ŷ − ȳ‖²) over its
fit tokens, which gives them the spread of true rows; s comes from the fit set, nothing is tuned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hyperofa.errors import EmptyInputError

CHUNK = 8_192  # tokens per block of the Gram sums (float64 features of one block in memory)


@dataclass(frozen=True)
class Experts:
    """Predictions of m experts for n tokens: rows float32 (m, n, k), present bool (m, n) (rows
    where an expert is absent are not read)."""

    names: tuple[str, ...]
    rows: np.ndarray
    present: np.ndarray

    def patterns(self) -> np.ndarray:
        """int64 (n,): each token's coverage pattern, bit j = expert j present."""
        bits = 1 << np.arange(len(self.names), dtype=np.int64)
        return (self.present.astype(np.int64) * bits[:, None]).sum(axis=0)

    def features(self, pattern: int, tokens: np.ndarray | slice) -> np.ndarray:
        """float64 (t, |p|·k): the rows of the experts in `pattern`, side by side."""
        chosen = [j for j in range(len(self.names)) if pattern >> j & 1]
        return np.concatenate([self.rows[j, tokens] for j in chosen], axis=1).astype(np.float64)


def ridge_map(
    experts: Experts, pattern: int, tokens: np.ndarray, targets: np.ndarray, ridge: float
) -> np.ndarray:
    """float64 (|p|·k, k): argmin_W ‖X W − Y‖² + λ‖W‖², X = the pattern's features of `tokens`,
    Y = `targets` (len(tokens), k), λ = ridge · tr(XᵀX) / |p|·k."""
    k = targets.shape[1]
    width = bin(pattern).count("1") * k
    gram, cross = np.zeros((width, width)), np.zeros((width, k))
    for start in range(0, len(tokens), CHUNK):
        block = tokens[start : start + CHUNK]
        x = experts.features(pattern, block)
        gram += x.T @ x
        cross += x.T @ targets[start : start + CHUNK].astype(np.float64)
    lam = ridge * np.trace(gram) / width
    return np.linalg.solve(gram + lam * np.eye(width), cross)


def usable(pattern: int, fitted: np.ndarray) -> int:
    """`pattern` less its lowest experts until one of the `fitted` patterns holds all of it (0 if
    none does)."""
    while pattern and not np.any(fitted & pattern == pattern):
        pattern &= pattern - 1  # drop the lowest set bit
    return pattern


def spread(
    experts: Experts, pattern: int, tokens: np.ndarray, targets: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, float]:
    """The fit rows' mean ȳ (k,) and the stretch s = √(Σ‖y − ȳ‖² / Σ‖ŷ − ȳ‖²) that gives the
    map's predictions ŷ of `tokens` the spread of their `targets`."""
    center = targets.mean(axis=0, dtype=np.float64)
    true, predicted = 0.0, 0.0
    for start in range(0, len(tokens), CHUNK):
        block = tokens[start : start + CHUNK]
        true += float(np.sum((targets[start : start + CHUNK] - center) ** 2))
        predicted += float(np.sum((experts.features(pattern, block) @ w - center) ** 2))
    return center, float(np.sqrt(true / predicted)) if predicted > 0 else 1.0


@dataclass(frozen=True)
class Stack:
    """The fitted maps, pattern → (|p|·k, k), how many fit tokens each was fitted on, the map
    each wanted pattern uses (`usable`), and each map's calibration: its fit rows' mean and
    stretch (1.0: uncalibrated)."""

    names: tuple[str, ...]
    maps: dict[int, np.ndarray]
    fit_tokens: dict[int, int]
    routes: dict[int, int]
    centers: dict[int, np.ndarray]
    stretch: dict[int, float]

    def predict(self, experts: Experts) -> np.ndarray:
        """float32 (n, k) for every token of `experts` (their patterns must be in `routes`)."""
        patterns = experts.patterns()
        out = np.empty(experts.rows.shape[1:], dtype=np.float32)
        for pattern in np.unique(patterns):
            tokens = np.flatnonzero(patterns == pattern)
            used = self.routes[int(pattern)]
            predicted = experts.features(used, tokens) @ self.maps[used]
            out[tokens] = self.centers[used] + self.stretch[used] * (predicted - self.centers[used])
        return out

    def label(self, pattern: int) -> str:
        return "+".join(n for j, n in enumerate(self.names) if pattern >> j & 1)

    def describe(self) -> str:
        """Each map's experts, fit tokens and stretch, e.g. `ofa+fvt+script+mean (15,963, ×1.84)`."""
        maps = sorted(self.maps, reverse=True)
        return ", ".join(
            f"{self.label(p)} ({self.fit_tokens[p]:,}, ×{self.stretch[p]:.2f})" for p in maps
        )


def fit_stack(
    fit: Experts, targets: np.ndarray, wanted: np.ndarray, ridge: float, calibrate: bool = True
) -> Stack:
    """One ridge map per pattern in `wanted` (after `usable`), fitted on `fit`'s tokens whose
    patterns hold it, its predictions stretched to the fit rows' spread when `calibrate`;
    `targets` float (n, k) are the fit tokens' true rows."""
    have = fit.patterns()
    if len(have) == 0:
        raise EmptyInputError("stacked: no source token to fit the combination on")
    maps, counts, routes, centers, stretch = {}, {}, {}, {}, {}
    for pattern in np.unique(wanted):
        used = routes[int(pattern)] = usable(int(pattern), have)
        if used == 0:
            raise EmptyInputError(f"stacked: no fit token has any expert of pattern {pattern:b}")
        if used not in maps:
            tokens = np.flatnonzero(have & used == used)
            maps[used] = ridge_map(fit, used, tokens, targets[tokens], ridge)
            counts[used] = len(tokens)
            if calibrate:  # a second pass over the features: only when it is used
                centers[used], stretch[used] = spread(
                    fit, used, tokens, targets[tokens], maps[used]
                )
            else:
                centers[used], stretch[used] = np.zeros(targets.shape[1]), 1.0
    return Stack(fit.names, maps, counts, routes, centers, stretch)
