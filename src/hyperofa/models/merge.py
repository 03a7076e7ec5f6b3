"""Merge a factorized model into a plain one in its source architecture's own format.

Embeddings = coordinates × primitives (V, D); a masked LM's decoder tied to them with the same
output bias; a causal LM's head tied to them, or (untied) its own coordinates × primitives, and
the same input scale (Gemma's √hidden, applied by the native class itself): the logits are the
factorized model's up to float rounding, and any transformers install loads the result without
remote code.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from transformers import AutoTokenizer, PreTrainedModel
from transformers.models.auto.modeling_auto import (
    MODEL_FOR_CAUSAL_LM_MAPPING,
    MODEL_FOR_MASKED_LM_MAPPING,
)

import hyperofa.models.build_causal as build_causal
import hyperofa.models.decoder as parts
import hyperofa.models.heads as heads
from hyperofa.artifacts import atomic_dir
from hyperofa.errors import BadFileError, ConfigError, IncompatibleInputsError, MissingPathError
from hyperofa.models.build import base_state, build_native
from hyperofa.models.causal import CAUSAL_DECODER
from hyperofa.models.common import read_config
from hyperofa.models.family import MASKED_ENCODER
from hyperofa.models.modeling_factorized import MODEL_TYPE
from hyperofa.models.modeling_factorized_causal import MODEL_TYPE as CAUSAL_MODEL_TYPE

TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json")


def merge_causal(model: PreTrainedModel) -> PreTrainedModel:
    """The native `*ForCausalLM` of a `FactorizedForCausalLM`'s decoder config, same logits."""
    config = model.config.decoder
    if type(config) not in MODEL_FOR_CAUSAL_LM_MAPPING:
        raise IncompatibleInputsError(f"{config.model_type}: transformers has no causal LM for it")
    native = MODEL_FOR_CAUSAL_LM_MAPPING[type(config)]
    with torch.no_grad():
        merged = build_causal.build_native(
            native,
            config,
            build_causal.base_state(model),
            parts.input_rows(model),
            parts.output_rows(model),
            parts.head_bias(model),
        )
    if parts.embed_scale(merged) != model.config.embed_scale:
        raise IncompatibleInputsError(
            f"{native.__name__} scales input rows by {parts.embed_scale(merged)}, the factorized "
            f"model by {model.config.embed_scale}: merging would change the logits"
        )
    merged.generation_config = copy.deepcopy(model.generation_config)
    return merged.to(model.dtype)


def merge(model: PreTrainedModel) -> PreTrainedModel:
    """The native `*ForMaskedLM` / `*ForCausalLM` of a factorized model, with the same logits."""
    if parts.is_factorized_causal(model):
        return merge_causal(model)
    if not heads.is_factorized(model):
        raise IncompatibleInputsError(f"{type(model).__name__}: not a factorized model to merge")
    config = model.config.encoder
    if type(config) not in MODEL_FOR_MASKED_LM_MAPPING:
        raise IncompatibleInputsError(f"{config.model_type}: transformers has no masked LM for it")
    native = MODEL_FOR_MASKED_LM_MAPPING[type(config)]
    with torch.no_grad():
        merged = build_native(
            native,
            config,
            base_state(model),
            heads.head_transform_state(model),
            heads.embedding_rows(model),
            heads.output_bias(model),
        )
    if heads.head_activation(merged) != model.config.head_activation:
        raise IncompatibleInputsError(
            f"{native.__name__} applies {heads.head_activation(merged)!r} in its head, the "
            f"factorized model {model.config.head_activation!r}: merging would change the logits"
        )
    return merged.to(model.dtype)


def merge_dir(factorized_dir: str | Path, out_dir: str | Path) -> PreTrainedModel:
    """Write the merged model and the factorized dir's tokenizer to `out_dir` (atomically)."""
    source, out = Path(factorized_dir), Path(out_dir)
    config = read_config(source)
    families = {MODEL_TYPE: MASKED_ENCODER, CAUSAL_MODEL_TYPE: CAUSAL_DECODER}
    if config.get("model_type") not in families:
        raise BadFileError(
            source / "config.json",
            f"model_type {config.get('model_type')!r}: expected {MODEL_TYPE!r} or "
            f"{CAUSAL_MODEL_TYPE!r}, a factorized model",
        )
    family = families[config["model_type"]]
    if out.exists():
        raise ConfigError("out_dir", str(out), "a path that does not exist yet")
    if not any((source / name).is_file() for name in TOKENIZER_FILES):
        raise MissingPathError("tokenizer", source / TOKENIZER_FILES[0], "the model's tokenizer")
    tokenizer = AutoTokenizer.from_pretrained(source)
    merged = merge(family.load(source))
    with atomic_dir(out) as tmp:
        family.save(merged, tokenizer, tmp)
    return merged
