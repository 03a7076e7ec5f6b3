"""The source model's loss on a sample of training text with candidate rows for the new tokens:
how an initializer may choose among its own candidates without reading any evaluation text.

`TextProbe` holds what does not change between candidates (the source model, the copied rows,
the output bias, the text); `probe(ids, rows)` writes `rows` for the new target tokens `ids` into
one model assembled on the first call (new tokens not in `ids`, e.g. ones a user override sets,
hold the mean source row) and returns its loss: masked-LM loss with masks drawn from `seed` (every candidate scored on the
same positions) or a causal model's bits per byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import torch

from hyperofa.errors import EmptyInputError, IncompatibleInputsError
from hyperofa.evaluate.causal import bits_per_byte
from hyperofa.evaluate.mlm import mlm_loss
from hyperofa.models import ModelFamily
from hyperofa.models.build import target_bias
from hyperofa.models.common import stored_rows
from hyperofa.vocab.copy import CopyKind, CopyMap


def sample_texts(batches, size: int, seed: int) -> list[str]:
    """A seeded sample of `size` non-blank texts (all of them when fewer) from (language, texts)
    batches, in a fixed order; EmptyInputError when there is none."""
    texts = [t for _, batch in batches for t in batch if t and t.strip()]
    if not texts:
        raise EmptyInputError("probe: the training text holds no non-blank text")
    rng = np.random.default_rng([seed, 3])
    picked = np.sort(rng.choice(len(texts), min(size, len(texts)), replace=False))
    return [texts[i] for i in picked]


def text_loss(
    family: ModelFamily, model: Any, tokenizer: Any, texts: Sequence[str], seed: int, **kw: int
) -> float:
    """Masked-LM loss (masks seeded by `seed`) or bits per byte of `model` on `texts`; `kw`:
    max_length, batch_size."""
    if family.masked:
        return mlm_loss(model, tokenizer, texts, seed=seed, **kw)[0]
    return bits_per_byte(model, tokenizer, texts, **kw)[0]


@dataclass(frozen=True)
class TextProbe:
    """The source model (tied head) and a text sample; `bind` adds the rows that stay fixed."""

    family: ModelFamily
    source: Any
    tokenizer: Any  # the target tokenizer
    texts: list[str]
    seed: int
    max_length: int = 128
    batch_size: int = 16

    def bind(
        self, copy: CopyMap, source_rows: np.ndarray, primitives: np.ndarray | None
    ) -> RowProbe:
        """The probe of one initialization: copied rows from `source_rows` (coordinates when
        `primitives` are given), the target's output bias."""
        if self.family.output_embeddings(self.source) is not None:
            raise IncompatibleInputsError(
                "probe: the source model's head is untied; the training-text probe scores input "
                "rows of a tied head only"
            )
        copied = copy.kind != CopyKind.NONE
        rows = np.empty((len(copy.kind), source_rows.shape[1]), dtype=np.float32)
        rows[:] = source_rows.mean(axis=0, dtype=np.float64)
        rows[copied] = source_rows[copy.source_id[copied]]
        source_bias = self.family.output_bias(self.source)
        bias = None if source_bias is None else target_bias(source_bias, copy.source_id)
        return RowProbe(self, rows, np.flatnonzero(~copied), primitives, bias)


@dataclass(frozen=True)
class RowProbe:
    probe: TextProbe
    rows: np.ndarray  # (V_t, k): the copied rows, the mean source row where `new`
    new: np.ndarray  # the target ids not copied
    primitives: np.ndarray | None
    bias: np.ndarray | None

    def __call__(self, ids: np.ndarray, rows: np.ndarray) -> float:
        """The loss with `rows` for the new target tokens `ids`."""
        if not np.isin(ids, self.new).all():
            raise IncompatibleInputsError(
                "probe: rows given for copied target tokens; expected new tokens only"
            )
        p = self.probe
        matrix, written = stored_rows(self.model), self.written
        stale = np.setdiff1d(written.pop() if written else np.zeros(0, np.int64), ids)
        with torch.no_grad():  # rows the previous candidate set and this one does not: the mean
            matrix[stale] = torch.from_numpy(self.rows[stale]).to(matrix.dtype)
            matrix[ids] = torch.from_numpy(np.asarray(rows, dtype=np.float32)).to(matrix.dtype)
        written.append(np.asarray(ids))
        kw = {"max_length": p.max_length, "batch_size": p.batch_size}
        return text_loss(p.family, self.model, p.tokenizer, p.texts, p.seed, **kw)

    @cached_property
    def written(self) -> list[np.ndarray]:
        """The ids the last candidate wrote into `model` (none yet: an empty list)."""
        return []

    @cached_property
    def model(self) -> Any:
        """The model assembled once; each candidate only rewrites the new tokens' rows."""
        p = self.probe
        return p.family.assemble(p.source, self.rows, self.primitives, self.bias)
