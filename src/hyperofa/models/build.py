"""Assemble a masked LM for a new vocabulary from a source `*ForMaskedLM` (OFA §3.4).

Plain rows give the source's own class (BertForMaskedLM, XLMRobertaForMaskedLM, …) with the
vocabulary resized and the decoder tied to the new rows; coordinates + primitives give a
`FactorizedForMaskedLM`. Encoder, position/type embeddings, LayerNorms and the head transform come
from the source either way.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np
import torch
from transformers import AutoConfig, PretrainedConfig, PreTrainedModel

from hyperofa.errors import IncompatibleInputsError
from hyperofa.models.heads import encoder, head_activation, head_layout, head_transform_state
from hyperofa.models.modeling_factorized import FactorizedConfig, FactorizedForMaskedLM

WORD_EMBEDDINGS = "embeddings.word_embeddings."


def check_shapes(
    hidden_size: int, rows: np.ndarray, primitives: np.ndarray | None, bias: np.ndarray
) -> None:
    """Rows (V, D) without primitives, or coordinates (V, D') with primitives (D', D), 0 < D' ≤ D;
    bias (V,). Raises IncompatibleInputsError naming the shapes."""
    width = hidden_size if primitives is None else primitives.shape[0]
    problems = []
    if rows.ndim != 2 or rows.shape[1] != width:
        what = "hidden size" if primitives is None else "primitives' rows D'"
        problems.append(f"rows {rows.shape}: expected (V, {width}), the {what}")
    if primitives is not None and (
        primitives.ndim != 2 or primitives.shape[1] != hidden_size or not 0 < width <= hidden_size
    ):
        problems.append(f"primitives {primitives.shape}: expected (D', {hidden_size}), 0 < D' ≤ D")
    if bias.shape != (len(rows),):
        problems.append(f"bias {bias.shape}: expected ({len(rows)},), one per row")
    if problems:
        raise IncompatibleInputsError(
            f"assembly inputs do not fit the source (hidden size {hidden_size}): "
            + "; ".join(problems)
        )


def base_state(model: PreTrainedModel) -> dict[str, torch.Tensor]:
    """The base encoder's weights except word embeddings and pooler."""
    return {
        k: v
        for k, v in encoder(model).state_dict().items()
        if not k.startswith(WORD_EMBEDDINGS) and not k.startswith("pooler.")
    }


def build_native(
    model_class: type[PreTrainedModel],
    config: PretrainedConfig,
    encoder_state: Mapping[str, torch.Tensor],
    head_state: Mapping[str, torch.Tensor],
    rows: torch.Tensor,
    bias: torch.Tensor,
) -> PreTrainedModel:
    """A native masked LM of `model_class` with `config` (vocab_size = len(rows)) from its parts:
    encoder weights without word embeddings, head transform (`dense.*`, `layer_norm.*`), rows
    (V, D) as tied input/output embeddings, output bias (V,)."""
    config = copy.deepcopy(config)
    config.vocab_size, config.tie_word_embeddings = len(rows), True
    with torch.random.fork_rng(devices=[]):  # the weights are all overwritten: leave the RNG be
        model = model_class(config)
    layout = head_layout(model)
    state = {f"{layout.base}.{k}": v for k, v in encoder_state.items()}
    for name, prefix in (("dense", layout.dense), ("layer_norm", layout.norm)):
        state.update({f"{prefix}.{p}": head_state[f"{name}.{p}"] for p in ("weight", "bias")})
    missing, unexpected = model.load_state_dict(state, strict=False)
    vocab = {model.get_input_embeddings().weight, model.get_parameter(layout.bias)}
    vocab_ptrs = {p.data_ptr() for p in vocab}  # with the names tied to them (decoder)
    vocab_keys = {k for k, v in model.state_dict().items() if v.data_ptr() in vocab_ptrs}
    if set(missing) - vocab_keys or unexpected:
        raise IncompatibleInputsError(
            f"{model_class.__name__}: weights do not fit: missing {sorted(set(missing) - vocab_keys)}, "
            f"unexpected {sorted(unexpected)}"
        )
    with torch.no_grad():
        model.get_input_embeddings().weight.copy_(rows)
        model.get_parameter(layout.bias).copy_(bias)
    if model.get_output_embeddings().weight is not model.get_input_embeddings().weight:
        raise IncompatibleInputsError(
            f"{model_class.__name__}: the decoder is not tied to the rows"
        )
    return model.eval()


def assemble_plain(source: PreTrainedModel, rows: np.ndarray, bias: np.ndarray) -> PreTrainedModel:
    """The source's own class with rows (V_t, D) as tied embeddings and bias (V_t,)."""
    check_shapes(source.config.hidden_size, rows, None, bias)
    model = build_native(
        type(source),
        source.config,
        base_state(source),
        head_transform_state(source),
        torch.from_numpy(rows),
        torch.from_numpy(bias),
    )
    return model.to(source.dtype)


def factorized_config(
    source: PreTrainedModel, vocab_size: int, num_primitives: int
) -> FactorizedConfig:
    """The source's encoder config with the new vocabulary size, under a `FactorizedConfig`."""
    encoder_config = AutoConfig.for_model(**{**source.config.to_dict(), "vocab_size": vocab_size})
    encoder_config.architectures = None  # it configures the base encoder, not the masked LM
    return FactorizedConfig(
        encoder=encoder_config,
        num_primitives=num_primitives,
        head_activation=head_activation(source),
    )


def assemble_factorized(
    source: PreTrainedModel, coordinates: np.ndarray, primitives: np.ndarray, bias: np.ndarray
) -> FactorizedForMaskedLM:
    """A `FactorizedForMaskedLM`: coordinates (V_t, D'), primitives P (D', D), bias (V_t,)."""
    check_shapes(source.config.hidden_size, coordinates, primitives, bias)
    config = factorized_config(source, len(coordinates), primitives.shape[0])
    with torch.random.fork_rng(devices=[]):
        model = FactorizedForMaskedLM(config)
    missing, unexpected = model.encoder.load_state_dict(base_state(source), strict=False)
    missing = [k for k in missing if not k.startswith(WORD_EMBEDDINGS)]
    if missing or unexpected:
        raise IncompatibleInputsError(
            f"{type(source).__name__}: encoder weights do not fit: missing {missing}, "
            f"unexpected {unexpected}"
        )
    model.head.load_state_dict(head_transform_state(source))
    emb = model.get_input_embeddings()
    with torch.no_grad():
        emb.coordinates.weight.copy_(torch.from_numpy(coordinates))
        emb.primitives.weight.copy_(torch.from_numpy(primitives).T)
        model.bias.copy_(torch.from_numpy(bias))
    return model.to(source.dtype).eval()


def assemble(
    source: PreTrainedModel,
    rows: np.ndarray,
    primitives: np.ndarray | None,
    bias: np.ndarray,
) -> PreTrainedModel:
    """`assemble_plain` when `primitives` is None, else `assemble_factorized`.

    Args:
        rows: embeddings (V_t, D), or coordinates (V_t, D') when primitives (D', D) are given.
        bias: the output bias of the new vocabulary (V_t,).
    """
    if primitives is None:
        return assemble_plain(source, rows, bias)
    return assemble_factorized(source, rows, primitives, bias)


def target_bias(source_bias: np.ndarray, copied_from: np.ndarray) -> np.ndarray:
    """Output bias of the new vocabulary: the source bias for copied tokens, its mean elsewhere.

    OFA starts the bias of new tokens afresh; a copied token keeps what the source learned.
    """
    bias = np.full(len(copied_from), float(source_bias.mean()), dtype=np.float32)
    copied = copied_from >= 0
    bias[copied] = source_bias[copied_from[copied]]
    return bias
