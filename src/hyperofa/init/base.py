"""The initializer interface and the steps every initializer shares.

Every initializer fills the target rows the same way (DESIGN §3.3): all rows start random
(source mean/std per dimension), the method writes the rows of target tokens that matched words,
then tokens shared with the source vocabulary are copied over. Only the middle step differs, so
an initializer is a function `fill(inputs, token_ids) -> rows`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from hyperofa.init.provenance import Provenance, provenance_counts
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
    multiplicities) of each tokenizer; word_vectors: the word-vector table (N, d).
    """

    source_rows: np.ndarray
    copy: CopyMap
    source_words: TokenWordMap
    target_words: TokenWordMap
    word_vectors: np.ndarray
    seed: int = 0
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def num_target(self) -> int:
        return len(self.copy.kind)


@dataclass(frozen=True)
class InitResult:
    rows: np.ndarray  # float32 (V_t, k)
    provenance: np.ndarray  # int8 (V_t,), Provenance values
    metrics: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return provenance_counts(self.provenance)


class Initializer(Protocol):
    """Fills the rows of `token_ids` (target tokens with matched words, not copied)."""

    name: str

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> np.ndarray: ...


def random_rows(source_rows: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n rows drawn from normal(mean, std) of each dimension of the source rows."""
    mean = source_rows.mean(axis=0, dtype=np.float64)
    std = source_rows.std(axis=0, dtype=np.float64)
    return rng.normal(mean, std, size=(n, source_rows.shape[1])).astype(np.float32)


def initialize(initializer: Initializer, inputs: InitInputs) -> InitResult:
    """Random everywhere → the initializer's rows where it has input → copies over shared tokens."""
    rng = np.random.default_rng(inputs.seed)
    rows = random_rows(inputs.source_rows, inputs.num_target, rng)
    provenance = np.full(inputs.num_target, Provenance.RANDOM, dtype=np.int8)
    copied = inputs.copy.kind != CopyKind.NONE
    todo = np.flatnonzero(inputs.target_words.covered() & ~copied)
    if len(todo):
        filled = initializer.fill(inputs, todo)
        if filled is not None:
            rows[todo] = filled
            provenance[todo] = Provenance.INITIALIZED
    for kind, prov in _KIND_TO_PROVENANCE.items():
        sel = np.flatnonzero(inputs.copy.kind == kind)
        rows[sel] = inputs.source_rows[inputs.copy.source_id[sel]]
        provenance[sel] = prov
    result = InitResult(
        rows=rows, provenance=provenance, metrics=dict(getattr(initializer, "metrics", {}))
    )
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


def build_initializer(spec: dict[str, Any]) -> Initializer:
    """Instantiate an `initializer/*.yaml` option; a bad value is a ConfigError naming the key."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    from hyperofa.errors import ConfigError

    try:
        # not recursive: nested `_target_` nodes (the hypernet) are the initializer's to build
        return instantiate({k: v for k, v in spec.items() if k != "name"}, _recursive_=False)
    except InstantiationException as err:
        cause = err.__cause__ if isinstance(err.__cause__, ConfigError) else None
        if cause is not None:
            raise cause from None
        raise ConfigError("initializer", spec, f"arguments its builder accepts ({err})") from None
