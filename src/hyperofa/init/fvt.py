"""`fvt`: Fast Vocabulary Transfer (Gee et al. 2022) — a new token's row is the mean of the
source rows of the pieces the source tokenizer splits its text into.

The public code (LeonidasY/fast-vocabulary-transfer `fvt/fvt.py`) strips a leading `##`, `Ġ` or
`▁` and tokenizes the rest with the source tokenizer, so every token is split as a word start. Ours
keeps the token's place in a word (`init.subword`): `▁haus` is split as a word start, `aus` (or
BERT's `##aus`) into continuation pieces; byte-fallback pieces are their ASCII character, a
non-ASCII byte has no text. A token with no known source piece stays random (logged).

Held-out view (intrinsic scores): a source token's text split by the source vocabulary without
the held-out tokens — the mean of its other pieces' rows.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from hyperofa.errors import IncompatibleInputsError
from hyperofa.init.base import InitInputs
from hyperofa.init.subword import SourcePieces, surface_forms
from hyperofa.vocab.copy import CopyKind

log = logging.getLogger(__name__)


def mean_rows(pieces: list[list[int]], rows: np.ndarray) -> np.ndarray:
    """float32 (n, k): row i = the mean of `rows[pieces[i]]` (zero for an empty list)."""
    lengths = np.array([len(p) for p in pieces], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.array([i for p in pieces for i in p], dtype=np.int64)
    weights = np.repeat(1.0 / np.maximum(lengths, 1), lengths)
    used, columns = np.unique(indices, return_inverse=True)  # float64 copies of these rows only
    mean = sp.csr_matrix((weights, columns, indptr), shape=(len(pieces), len(used)))
    return np.asarray(mean @ rows[used].astype(np.float64), dtype=np.float32)


class FVTInitializer:
    name = "fvt"

    def covers(self, inputs: InitInputs) -> np.ndarray:
        """New tokens whose text has at least one known source piece."""
        new = np.flatnonzero(inputs.copy.kind == CopyKind.NONE)
        pieces = self._pieces(inputs, new)
        out = np.zeros(inputs.num_target, dtype=bool)
        out[new] = [len(p) > 0 for p in pieces]
        if (missing := len(new) - int(out.sum())) > 0:
            log.info("fvt: %s new tokens have no known source piece (they stay random)", missing)
        return out

    def fill(self, inputs: InitInputs, token_ids: np.ndarray) -> np.ndarray:
        return mean_rows(self._pieces(inputs, token_ids), inputs.source_rows)

    def heldout(self, inputs: InitInputs, source_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tokenizer = _tokenizer(inputs.source_tokenizer, "source_tokenizer")
        split = SourcePieces(tokenizer, excluded=source_ids)
        pieces = split.split(surface_forms(tokenizer, source_ids), len(inputs.source_rows))
        covered = np.array([len(p) > 0 for p in pieces], dtype=bool)
        return mean_rows(pieces, inputs.source_rows), covered

    def _pieces(self, inputs: InitInputs, token_ids: np.ndarray) -> list[list[int]]:
        source = _tokenizer(inputs.source_tokenizer, "source_tokenizer")
        target = _tokenizer(inputs.target_tokenizer, "target_tokenizer")
        forms = surface_forms(target, token_ids)
        return SourcePieces(source).split(forms, len(inputs.source_rows))


def _tokenizer(tokenizer, field: str):
    if tokenizer is None:
        raise IncompatibleInputsError(f"initializer `fvt` needs InitInputs.{field}")
    return tokenizer
