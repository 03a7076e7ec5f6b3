"""Assemble a causal LM for a new vocabulary from a source `*ForCausalLM` (DESIGN §3.4, §3.6).

Plain rows give the source's own class (Gemma3ForCausalLM, LlamaForCausalLM, …) with the
vocabulary resized: tied (one matrix, `rows`) or untied (`rows` in, `output_rows` out);
coordinates + primitives give a `FactorizedForCausalLM`. The decoder layers, norms and rotary
settings come from the source either way; so does the generation config (its special token ids).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from transformers import PretrainedConfig, PreTrainedModel

import hyperofa.models.decoder as parts
from hyperofa.errors import IncompatibleInputsError
from hyperofa.models.modeling_factorized_causal import (
    FactorizedCausalConfig,
    FactorizedForCausalLM,
)


def embedding_prefix(base: PreTrainedModel) -> str:
    """The state-dict prefix of the base decoder's input embedding module, e.g. `embed_tokens.`."""
    emb = base.get_input_embeddings()
    return next(name for name, module in base.named_modules() if module is emb) + "."


def base_state(model: PreTrainedModel) -> dict[str, torch.Tensor]:
    """The base decoder's weights except the input embeddings."""
    base = parts.decoder(model)
    prefix = embedding_prefix(base)
    return {k: v for k, v in base.state_dict().items() if not k.startswith(prefix)}


def _no_rng_build(model_class: type[PreTrainedModel], config: PretrainedConfig) -> PreTrainedModel:
    with torch.random.fork_rng(devices=[]):  # the weights are all overwritten: leave the RNG be
        return model_class(config)


def _load_base(model: PreTrainedModel, state: dict[str, torch.Tensor], name: str) -> None:
    """Load the base decoder's weights; only the input embeddings may be missing."""
    base = parts.decoder(model)
    missing, unexpected = base.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith(embedding_prefix(base))]
    if missing or unexpected:
        raise IncompatibleInputsError(
            f"{name}: decoder weights do not fit: missing {sorted(missing)}, "
            f"unexpected {sorted(unexpected)}"
        )


def build_native(
    model_class: type[PreTrainedModel],
    config: PretrainedConfig,
    decoder_state: dict[str, torch.Tensor],
    rows: torch.Tensor,
    output_rows: torch.Tensor | None,
    bias: torch.Tensor | None,
) -> PreTrainedModel:
    """A native causal LM of `model_class` with `config` (vocab_size = len(rows)) from its parts:
    the base decoder's weights without input embeddings, rows (V, D), the head's own rows (V, D)
    or None for a head tied to `rows`, the head's bias (V,) if it has one."""
    config = copy.deepcopy(config)
    config.vocab_size, config.tie_word_embeddings = len(rows), output_rows is None
    model = _no_rng_build(model_class, config)
    _load_base(model, decoder_state, model_class.__name__)
    head = model.get_output_embeddings()
    if (head.bias is None) != (bias is None):
        raise IncompatibleInputsError(
            f"{model_class.__name__}: head bias {'absent' if head.bias is None else 'present'}, "
            f"bias {'not ' if bias is None else ''}given"
        )
    with torch.no_grad():
        model.get_input_embeddings().weight.copy_(rows)
        if output_rows is not None:
            head.weight.copy_(output_rows)
        if bias is not None:
            head.bias.copy_(bias)
    if parts.is_tied(model) != (output_rows is None):
        raise IncompatibleInputsError(
            f"{model_class.__name__}: the head is {'' if parts.is_tied(model) else 'not '}tied to "
            f"the input matrix, the assembly asked otherwise"
        )
    return model.eval()


def _tensor(array: np.ndarray | None) -> torch.Tensor | None:
    return None if array is None else torch.from_numpy(np.ascontiguousarray(array))


def assemble_plain(
    source: PreTrainedModel,
    rows: np.ndarray,
    bias: np.ndarray | None,
    output_rows: np.ndarray | None,
) -> PreTrainedModel:
    """The source's own class with rows (V_t, D) as input (and, when `output_rows` is None, tied
    output) matrix; the head's own rows (V_t, D) when untied; the head bias (V_t,) if any."""
    model = build_native(
        type(source),
        source.config,
        base_state(source),
        _tensor(rows),
        _tensor(output_rows),
        _tensor(bias),
    )
    model.generation_config = copy.deepcopy(source.generation_config)
    return model.to(source.dtype)


def factorized_config(
    source: PreTrainedModel, vocab_size: int, num_primitives: int, output_num_primitives: int
) -> FactorizedCausalConfig:
    """The source's decoder config with the new vocabulary size, under a
    `FactorizedCausalConfig`, with the source's input scale and head bias."""
    decoder_config = copy.deepcopy(parts.decoder(source).config)
    decoder_config.vocab_size = vocab_size
    decoder_config.architectures = None  # it configures the base decoder, not the causal LM
    return FactorizedCausalConfig(
        decoder=decoder_config,
        num_primitives=num_primitives,
        output_num_primitives=output_num_primitives,
        embed_scale=parts.embed_scale(source),
        head_bias=parts.head_bias(source) is not None,
    )


def assemble_factorized(
    source: PreTrainedModel,
    coordinates: np.ndarray,
    primitives: np.ndarray,
    bias: np.ndarray | None,
    output_factors: tuple[np.ndarray, np.ndarray] | None,
) -> FactorizedForCausalLM:
    """A `FactorizedForCausalLM`: coordinates (V_t, D'), primitives P (D', D), the head's own
    (coordinates (V_t, D'_out), primitives (D'_out, D)) when untied, head bias (V_t,) if any."""
    dim_out = 0 if output_factors is None else output_factors[1].shape[0]
    config = factorized_config(source, len(coordinates), primitives.shape[0], dim_out)
    model = _no_rng_build(FactorizedForCausalLM, config)
    _load_base(model, base_state(source), type(source).__name__)
    pairs = [(model.get_input_embeddings(), coordinates, primitives)]
    if output_factors is not None:
        pairs.append((model.head, *output_factors))
    with torch.no_grad():
        for factors, coords, prims in pairs:
            factors.coordinates.weight.copy_(torch.from_numpy(coords))
            factors.primitives.weight.copy_(torch.from_numpy(prims).T)
        if bias is not None:
            model.bias.copy_(torch.from_numpy(bias))
    model.generation_config = copy.deepcopy(source.generation_config)
    return model.to(source.dtype).eval()
