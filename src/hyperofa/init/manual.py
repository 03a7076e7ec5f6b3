"""`manual`: user overrides — named new target tokens get the row of a named source token, or the
mean of several (`initializer.overrides`, e.g. `{▁haus: ▁house, ▁pāʻina: [▁party, ▁dinner]}`).

Every initializer config carries `overrides`: `build_initializer` wraps the method in
`WithOverrides`, whose rows are the overrides' where they name a token and the method's elsewhere,
so `init.base.initialize` still draws the random rows, fills and copies in one place, and an
overridden token counts as `initialized`. `initializer=manual` is the overrides alone (every other
new token random). Tokens are spelled as in the vocabularies (`▁haus`, `##en`, `Ġhaus`); a name
missing from its vocabulary, or a target token shared with the source (it is copied), is an
IncompatibleInputsError naming every such token. No intrinsic score: overrides name target
tokens, which have no held-out source counterpart (a wrapped method keeps its own).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from hyperofa.config.initializers import override_sources
from hyperofa.errors import IncompatibleInputsError
from hyperofa.init.base import Initializer, InitInputs
from hyperofa.vocab.copy import CopyKind

log = logging.getLogger(__name__)
MARKERS = ("\u2581", "##", "\u0120")  # ▁, ##, Ġ: suggested when a bare name is unknown


def _ids(tokenizer, names: list[str], side: str) -> list[int]:
    if tokenizer is None:
        raise IncompatibleInputsError(f"initializer overrides need InitInputs.{side}_tokenizer")
    vocab = tokenizer.get_vocab()
    unknown = [n for n in names if n not in vocab]
    if unknown:
        hints = {n: [m + n for m in MARKERS if m + n in vocab] for n in unknown}
        hint = "; ".join(f"{n!r}: did you mean {h}?" for n, h in hints.items() if h)
        raise IncompatibleInputsError(
            f"initializer.overrides: {side} tokens not in the {side} vocabulary: {unknown}"
            + (f" ({hint})" if hint else "")
        )
    return [vocab[n] for n in names]


class ManualInitializer:
    """Covers exactly the named target tokens; each gets the mean of its source tokens' rows."""

    name = "manual"

    def __init__(self, overrides: Mapping[str, Any]):
        self.overrides = {t: override_sources(v) or [] for t, v in overrides.items()}
        if not self.overrides:
            log.warning("initializer=manual without overrides: every new token stays random")

    def targets(self, inputs: InitInputs) -> tuple[np.ndarray, list[list[int]]]:
        """(target ids, source ids per target) of the overrides; errors name bad tokens."""
        names = list(self.overrides)
        if not names:
            return np.zeros(0, dtype=np.int64), []
        target = np.asarray(_ids(inputs.target_tokenizer, names, "target"), dtype=np.int64)
        shared = [
            n for n, t in zip(names, target, strict=True) if inputs.copy.kind[t] != CopyKind.NONE
        ]
        if shared:
            raise IncompatibleInputsError(
                f"initializer.overrides: target tokens {shared} are shared with the source "
                "vocabulary and copied; name new tokens only"
            )
        sources = [_ids(inputs.source_tokenizer, self.overrides[n], "source") for n in names]
        too_far = [
            n for n, s in zip(names, sources, strict=True) if max(s) >= len(inputs.source_rows)
        ]
        if too_far:
            raise IncompatibleInputsError(
                f"initializer.overrides: {too_far} name source ids past the rows"
            )
        return target, sources

    def covers(self, inputs: InitInputs) -> np.ndarray:
        out = np.zeros(inputs.num_target, dtype=bool)
        out[self.targets(inputs)[0]] = True
        return out

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> np.ndarray:
        target, sources = self.targets(inputs)
        by_target = dict(zip(target.tolist(), sources, strict=True))
        rows = [
            inputs.source_rows[by_target[int(t)]].mean(axis=0, dtype=np.float64) for t in token_ids
        ]
        return np.asarray(rows, dtype=np.float32).reshape(len(token_ids), -1)


class WithOverrides:
    """A method with user overrides on top: the overrides' rows where they name a token."""

    def __init__(self, method: Initializer, overrides: ManualInitializer):
        self.method, self.overrides, self.name = method, overrides, method.name

    def covers(self, inputs: InitInputs) -> np.ndarray:
        return self.method.covers(inputs) | self.overrides.covers(inputs)

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> np.ndarray:
        named = self.overrides.covers(inputs)[token_ids]
        rows = np.empty((len(token_ids), inputs.source_rows.shape[1]), dtype=np.float32)
        if named.any():
            rows[named] = self.overrides.fill(inputs, token_ids[named])
        if (~named).any():
            rows[~named] = self.method.fill(inputs, token_ids[~named])
        return rows

    def __getattr__(self, attr: str) -> Any:
        # `heldout` and other extras are the wrapped method's (overrides have no held-out view)
        if attr.startswith("__") or attr == "method":
            raise AttributeError(attr)
        return getattr(self.method, attr)
