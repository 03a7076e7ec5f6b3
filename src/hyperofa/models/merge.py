"""Merge a factorized model into a plain one in its source architecture's own format.

Embeddings = coordinates × primitives (V, D), the decoder tied to them, the same output bias:
the logits are the factorized model's up to float rounding, and any transformers install loads
the result without remote code.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoTokenizer, PreTrainedModel
from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING

import hyperofa.models.heads as heads
from hyperofa.artifacts import atomic_dir
from hyperofa.errors import BadFileError, ConfigError, IncompatibleInputsError, MissingPathError
from hyperofa.models.build import base_state, build_native
from hyperofa.models.family import MASKED_ENCODER, read_config
from hyperofa.models.modeling_factorized import MODEL_TYPE

TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json")


def merge(model: PreTrainedModel) -> PreTrainedModel:
    """The native `*ForMaskedLM` of the factorized model's encoder config, with the same logits."""
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
    if config.get("model_type") != MODEL_TYPE:
        raise BadFileError(
            source / "config.json",
            f"model_type {config.get('model_type')!r}: expected {MODEL_TYPE!r}, a factorized model",
        )
    if out.exists():
        raise ConfigError("out_dir", str(out), "a path that does not exist yet")
    if not any((source / name).is_file() for name in TOKENIZER_FILES):
        raise MissingPathError("tokenizer", source / TOKENIZER_FILES[0], "the model's tokenizer")
    tokenizer = AutoTokenizer.from_pretrained(source)
    merged = merge(MASKED_ENCODER.load(source))
    with atomic_dir(out) as tmp:
        MASKED_ENCODER.save(merged, tokenizer, tmp)
    return merged
