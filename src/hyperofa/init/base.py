"""The initializer interface and the steps every initializer shares.

Every initializer fills the target rows the same way (DESIGN §3.3): all rows start random
(source mean/std per dimension), the method writes the rows of the target tokens it covers (e.g.
those that matched words), then tokens shared with the source vocabulary are copied over. Only the
middle step differs: an initializer says which target tokens it can set (`covers`) and computes
their rows (`fill`). Initializers are pure: arrays in, rows out, no files, no training.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from hyperofa.init.provenance import Provenance, provenance_counts
from hyperofa.init.static_vectors import StaticVectors
from hyperofa.match import TokenWordMap
from hyperofa.vocab.copy import CopyKind, CopyMap

log = logging.getLogger(__name__)

_KIND_TO_PROVENANCE = {
    CopyKind.SPECIAL: Provenance.SPECIAL,
    CopyKind.EXACT: Provenance.COPIED_EXACT,
    CopyKind.CASE_INSENSITIVE: Provenance.COPIED_CI,
}


@dataclass
class InitInputs:
    """What an initializer may use. Rows are coordinates F when factorized, else embeddings E.

    source_rows: float32 (V_s, k); copy: target→source map; *_words: token→word CSR maps (with
    multiplicities) of each tokenizer; word_vectors: the word-vector table (N, d). What only some
    methods read: the two transformers tokenizers (`fvt`, `manual`, `stacked`) and FOCUS's static
    token embeddings of the target vocabulary (`focus`, `omp` with space=static); `probe(ids,
    rows)`: the source model's loss on training text with `rows` for the new tokens `ids`
    (`stacked` with calibrate=text; `evaluate.probe`).
    """

    source_rows: np.ndarray
    copy: CopyMap
    source_words: TokenWordMap
    target_words: TokenWordMap
    word_vectors: np.ndarray
    seed: int = 0
    source_tokenizer: Any = None
    target_tokenizer: Any = None
    static_vectors: StaticVectors | None = None
    probe: Callable[[np.ndarray, np.ndarray], float] | None = None

    @property
    def num_target(self) -> int:
        return len(self.copy.kind)


@dataclass(frozen=True)
class InitResult:
    rows: np.ndarray  # float32 (V_t, k)
    provenance: np.ndarray  # int8 (V_t,), Provenance values

    def counts(self) -> dict[str, int]:
        return provenance_counts(self.provenance)


class Initializer(Protocol):
    """A method that sets the rows of the target tokens it covers (those not copied)."""

    name: str

    def covers(self, inputs: InitInputs) -> np.ndarray:
        """bool (V_t,): the target tokens this method can set (e.g. those with matched words)."""
        ...

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> np.ndarray:
        """float32 (len(token_ids), k): rows for `token_ids`, all covered."""
        ...


class HeldOut(Protocol):
    """An initializer that can also predict held-out *source* tokens, for intrinsic scores."""

    def heldout(self, inputs: InitInputs, source_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows float32 (n, k) for source tokens `source_ids` predicted as if they were new —
        without their own rows, strings or vectors as anchors or candidates — and bool (n,): the
        ones the method covers (the other rows are not used)."""
        ...


def random_rows(
    source_rows: np.ndarray, n: int, rng: np.random.Generator, chunk: int = 1 << 14
) -> np.ndarray:
    """n rows drawn from normal(mean, std) of each dimension of the source rows.

    The values of `rng.normal(mean, std, (n, k))` (mean + std · z, z standard normal, in row
    order), drawn `chunk` rows at a time: a float64 (n, k) draw never exists whole."""
    from hyperofa.ordered_sums import column_moments

    mean, std = column_moments(source_rows)
    out = np.empty((n, source_rows.shape[1]), dtype=np.float32)
    buffer = np.empty((min(chunk, n), source_rows.shape[1]))
    for start in range(0, n, chunk):
        z = buffer[: min(chunk, n - start)]
        rng.standard_normal(out=z)
        z *= std
        z += mean
        out[start : start + len(z)] = z
    return out


def initialize(initializer: Initializer, inputs: InitInputs) -> InitResult:
    """Random everywhere → the initializer's rows where it has input → copies over shared tokens."""
    rng = np.random.default_rng(inputs.seed)
    rows = random_rows(inputs.source_rows, inputs.num_target, rng)
    provenance = np.full(inputs.num_target, Provenance.RANDOM, dtype=np.int8)
    copied = inputs.copy.kind != CopyKind.NONE
    todo = np.flatnonzero(initializer.covers(inputs) & ~copied)
    if len(todo):
        rows[todo] = initializer.fill(inputs, todo)
        provenance[todo] = Provenance.INITIALIZED
    for kind, prov in _KIND_TO_PROVENANCE.items():
        sel = np.flatnonzero(inputs.copy.kind == kind)
        rows[sel] = inputs.source_rows[inputs.copy.source_id[sel]]
        provenance[sel] = prov
    result = InitResult(rows=rows, provenance=provenance)
    c = result.counts()
    log.info(
        "initialize[%s]: %s target, %s copied (%s exact, %s case-insensitive, %s special), "
        "%s initialized, %s random",
        initializer.name,
        f"{inputs.num_target:,}",
        f"{c['copied_exact'] + c['copied_ci'] + c['special']:,}",
        f"{c['copied_exact']:,}",
        f"{c['copied_ci']:,}",
        f"{c['special']:,}",
        f"{c['initialized']:,}",
        f"{c['random']:,}",
    )
    return result
