"""Build an assembled model from a source `*ForMaskedLM` and target embeddings rows."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
from transformers import PreTrainedModel

from hyperofa.assemble.modeling import AssembledForMaskedLM, assembled_config
from hyperofa.errors import IncompatibleInputsError

log = logging.getLogger(__name__)


@dataclass
class SourceHead:
    """The MLM head of a source model, in architecture-neutral form."""

    dense_weight: torch.Tensor
    dense_bias: torch.Tensor
    norm_weight: torch.Tensor
    norm_bias: torch.Tensor
    bias: torch.Tensor  # (V_s,)
    activation: str


def source_head(model: PreTrainedModel) -> SourceHead:
    """Read the LM head of BERT-style (`cls.predictions`) or RoBERTa-style (`lm_head`) models."""
    if hasattr(model, "cls"):
        pred = model.cls.predictions
        t = pred.transform
        act = getattr(model.config, "hidden_act", "gelu")
        return SourceHead(
            t.dense.weight, t.dense.bias, t.LayerNorm.weight, t.LayerNorm.bias, pred.bias, act
        )
    if hasattr(model, "lm_head"):
        h = model.lm_head
        return SourceHead(
            h.dense.weight, h.dense.bias, h.layer_norm.weight, h.layer_norm.bias, h.bias, "gelu"
        )
    raise IncompatibleInputsError(
        f"{type(model).__name__}: unknown MLM head (expected `cls.predictions` or `lm_head`)"
    )


def source_embeddings(model: PreTrainedModel) -> np.ndarray:
    """The source input-embedding matrix E, float32 (V_s, D)."""
    return model.get_input_embeddings().weight.detach().float().cpu().numpy()


def assemble(
    source: PreTrainedModel,
    rows: np.ndarray,
    primitives: np.ndarray | None,
    bias: np.ndarray,
) -> AssembledForMaskedLM:
    """Encoder, position/type embeddings, LayerNorms and head transform come from `source`.

    Args:
        rows: target coordinates (V_t, D') when `primitives` (D', D) is given, else embeddings (V_t, D).
        bias: the output bias of the new vocabulary (V_t,).
    """
    hidden = source.config.hidden_size
    dim = primitives.shape[0] if primitives is not None else hidden
    if rows.shape[1] != dim or (primitives is not None and primitives.shape[1] != hidden):
        raise IncompatibleInputsError(
            f"rows {rows.shape} / primitives {None if primitives is None else primitives.shape} "
            f"do not fit hidden size {hidden}"
        )
    head = source_head(source)
    config = assembled_config(
        source.config, len(rows), None if primitives is None else dim, head.activation
    )
    model = AssembledForMaskedLM(config)
    base_state = {
        k: v
        for k, v in source.base_model.state_dict().items()
        if "word_embeddings" not in k and "pooler" not in k
    }
    missing, unexpected = model.encoder.load_state_dict(base_state, strict=False)
    missing = [k for k in missing if "word_embeddings" not in k]
    if missing or unexpected:
        raise IncompatibleInputsError(
            f"encoder weights do not fit: missing {missing}, unexpected {unexpected}"
        )
    with torch.no_grad():
        emb = model.word_embeddings
        if primitives is not None:
            emb.coordinates.weight.copy_(torch.from_numpy(rows))
            emb.primitives.weight.copy_(torch.from_numpy(primitives).T)
        else:
            emb.weight.copy_(torch.from_numpy(rows))
        model.head.dense.weight.copy_(head.dense_weight)
        model.head.dense.bias.copy_(head.dense_bias)
        model.head.layer_norm.weight.copy_(head.norm_weight)
        model.head.layer_norm.bias.copy_(head.norm_bias)
        model.bias.copy_(torch.from_numpy(bias))
    return model.eval()


def target_bias(source_bias: np.ndarray, copied_from: np.ndarray) -> np.ndarray:
    """Output bias of the new vocabulary: the source bias for copied tokens, its mean elsewhere.

    OFA starts the bias of new tokens afresh; a copied token keeps what the source learned.
    """
    bias = np.full(len(copied_from), float(source_bias.mean()), dtype=np.float32)
    copied = copied_from >= 0
    bias[copied] = source_bias[copied_from[copied]]
    return bias
