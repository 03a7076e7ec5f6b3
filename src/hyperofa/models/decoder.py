"""Where a causal LM keeps its parts: base decoder, input and output matrices, head bias, the
input scale, and the map from last hidden states to logits.

Native layout (Gemma 3, Llama, Qwen2, Phi, …): `model` (the base decoder, whose `embed_tokens`
is the input matrix) + `lm_head` (a Linear, tied to the input matrix or not, with or without a
bias). The factorized model (`modeling_factorized_causal`) keeps its own: `model` + `head`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from transformers import PreTrainedModel

from hyperofa.errors import IncompatibleInputsError
from hyperofa.models.modeling_factorized_causal import MODEL_TYPE

# config keys of logit transforms after the head that `logits_fn` does not apply: a model that
# sets one (Cohere's multiplier, Granite's divisor) is refused rather than trained on wrong logits
UNSUPPORTED_LOGIT_KEYS = ("logit_scale", "logits_scaling")


def is_factorized_causal(model: PreTrainedModel) -> bool:
    """True for `FactorizedForCausalLM`, whether imported from hyperofa or loaded as remote code."""
    return getattr(model.config, "model_type", None) == MODEL_TYPE


def check_layout(model: PreTrainedModel) -> None:
    """IncompatibleInputsError unless `model` is a causal LM whose input embeddings are an
    Embedding and whose head is a Linear over the same vocabulary, with no unsupported logit
    transform in its config."""
    if is_factorized_causal(model):
        return
    inputs, head = model.get_input_embeddings(), model.get_output_embeddings()
    if not isinstance(inputs, nn.Embedding) or not isinstance(head, nn.Linear):
        raise IncompatibleInputsError(
            f"{type(model).__name__}: not a causal LM with an Embedding input and a Linear head "
            f"(got {type(inputs).__name__} and {type(head).__name__})"
        )
    if head.out_features != inputs.num_embeddings:
        raise IncompatibleInputsError(
            f"{type(model).__name__}: head of {head.out_features} rows, input embeddings of "
            f"{inputs.num_embeddings}: expected one vocabulary"
        )
    head_names = {n for n, m in model.named_modules() if m is head}
    others = sorted(
        name
        for name, _ in model.named_parameters()
        if not name.startswith(f"{model.base_model_prefix}.")
        and name.rpartition(".")[0] not in head_names
    )
    if others:  # e.g. a masked LM's head transform: assembly would leave it behind
        raise IncompatibleInputsError(
            f"{type(model).__name__}: weights outside the base decoder and the head: {others}"
        )
    found = [k for k in UNSUPPORTED_LOGIT_KEYS if getattr(model.config, k, None) not in (None, 1)]
    if found:
        raise IncompatibleInputsError(
            f"{type(model).__name__}: config sets {found}, a logit transform this family does not "
            f"apply (it applies `final_logit_softcapping` only)"
        )


def decoder(model: PreTrainedModel) -> PreTrainedModel:
    """The base decoder (Gemma3TextModel, LlamaModel, …) whose hidden states evaluation uses."""
    return model.base_model


def is_tied(model: PreTrainedModel) -> bool:
    """True when the head scores hidden states against the input matrix itself."""
    if is_factorized_causal(model):
        return model.config.tied
    return model.get_output_embeddings().weight is model.get_input_embeddings().weight


def input_rows(model: PreTrainedModel) -> Tensor:
    """The stored input matrix (V, D), before any scale the model applies (Gemma's √hidden);
    for a factorized model coordinates × primitives."""
    emb = model.get_input_embeddings()
    if is_factorized_causal(model):
        return emb.coordinates.weight @ emb.primitives.weight.T
    return emb.weight


def output_rows(model: PreTrainedModel) -> Tensor | None:
    """The head's own matrix (V, D) when untied, None when tied to the input matrix."""
    if is_tied(model):
        return None
    if is_factorized_causal(model):
        return model.head.coordinates.weight @ model.head.primitives.weight.T
    return model.get_output_embeddings().weight


def head_bias(model: PreTrainedModel) -> Tensor | None:
    """The head's per-token bias (V,), or None when it has none (Gemma, Llama, Qwen2)."""
    if is_factorized_causal(model):
        return getattr(model, "bias", None)
    return model.get_output_embeddings().bias


def embed_scale(model: PreTrainedModel) -> float:
    """The factor the input embedding module multiplies rows by: Gemma 3's √hidden, else 1.
    IncompatibleInputsError for an Embedding subclass whose scale is not known."""
    emb = model.get_input_embeddings()
    if is_factorized_causal(model):
        return float(emb.embed_scale)
    if hasattr(emb, "scalar_embed_scale"):  # Gemma3TextScaledWordEmbedding
        return float(emb.scalar_embed_scale)
    if type(emb) is not nn.Embedding:
        raise IncompatibleInputsError(
            f"{type(model).__name__}: input embedding {type(emb).__name__} may transform rows in "
            "a way factorized embeddings would not reproduce"
        )
    return 1.0


def softcap(logits: Tensor, cap: float | None) -> Tensor:
    """tanh(logits / cap) × cap, as Gemma's forward does; unchanged when `cap` is None."""
    return logits if cap is None else torch.tanh(logits / cap) * cap


def logits_fn(model: PreTrainedModel) -> Callable[[Tensor], Tensor]:
    """The map from last-layer hidden states (..., D) to logits (..., V) the model's own forward
    applies: the head, then final-logit softcapping when the config sets it."""
    if is_factorized_causal(model):
        return model.lm_logits
    check_layout(model)
    head, cap = (
        model.get_output_embeddings(),
        getattr(model.config, "final_logit_softcapping", None),
    )
    return lambda hidden: softcap(head(hidden), cap)
