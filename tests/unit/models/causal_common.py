"""Tiny decoders, batches and assembly inputs shared by the causal-family tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from transformers import PreTrainedModel

from hyperofa.factorize import factorize
from hyperofa.models import CAUSAL_DECODER
from tests.tiny_decoder import DECODERS

EXTRA = 7  # target tokens beyond the source vocabulary
SOURCE_VOCAB = 40
KINDS = sorted(DECODERS)
UNTIED = [k for k in KINDS if "untied" in k or k == "phi_biased"]


def batch(vocab: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids (3, 10), attention mask with right padding in the last row)."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, vocab, (3, 10), generator=g)
    mask = torch.ones_like(ids)
    mask[2, 7:] = 0
    return ids, mask


def logits(model: PreTrainedModel, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask).logits


def _extend(matrix: np.ndarray | None, dim: int | None) -> tuple[Any, Any]:
    """(rows or coordinates, primitives) of `matrix` (V, D) plus EXTRA new rows."""
    if matrix is None:
        return None, None
    rows, primitives = (matrix, None) if dim is None else factorize(matrix, dim)
    return np.concatenate([rows, rows[:EXTRA] * 0.5]), primitives


def target_inputs(source: PreTrainedModel, dim: int | None = None) -> dict[str, Any]:
    """`assemble` keyword arguments for a vocabulary EXTRA tokens larger than the source's: new
    rows (and untied output rows) are halves of the first ones, a new bias entry is +1."""
    rows, primitives = _extend(CAUSAL_DECODER.source_embeddings(source), dim)
    output_rows, output_primitives = _extend(CAUSAL_DECODER.output_embeddings(source), dim)
    bias = CAUSAL_DECODER.output_bias(source)
    if bias is not None:
        bias = np.concatenate([bias, bias[:EXTRA] + 1.0])
    return {
        "rows": rows,
        "primitives": primitives,
        "bias": bias,
        "output_rows": output_rows,
        "output_primitives": output_primitives,
    }


def assembled(kind: str, dim: int | None = None, **kwargs: Any) -> PreTrainedModel:
    """The tiny `kind` decoder assembled under the larger vocabulary (plain or factorized)."""
    source = DECODERS[kind](SOURCE_VOCAB)
    return CAUSAL_DECODER.assemble(source, **target_inputs(source, dim), **kwargs)
