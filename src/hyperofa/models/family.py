"""The model-family seam: how assembly, the pre-training objective and evaluation reach a model.

A family says how to load and save its models, read the source's token embeddings and output
bias, assemble a model for a new vocabulary, compute the training loss of a batch and reach the
base model whose hidden states retrieval and fine-tuning use. Callers hold a `ModelFamily` and
never look inside a model.

Implemented: `MaskedEncoderFamily` (BERT, RoBERTa, XLM-R; plain or factorized embeddings; MLM
logits at masked positions only). Next: a causal-decoder family (Gemma, Qwen2.5 with tied heads;
Llama with untied input/output matrices, each initialized separately — DESIGN.md §3.6) whose
`training_loss` is next-token prediction and whose `assemble` takes output rows too when untied.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from torch import Tensor
from transformers import AutoModelForMaskedLM, PreTrainedModel

import hyperofa.models.build as build
import hyperofa.models.heads as heads
from hyperofa.errors import BadFileError, MissingPathError, require_path
from hyperofa.models.modeling_factorized import MODEL_TYPE, FactorizedForMaskedLM
from hyperofa.training import IGNORE_INDEX

log = logging.getLogger(__name__)
LEGACY_KEY = "hyperofa"  # the config section of dirs written by the old AssembledForMaskedLM


@dataclass
class LossOutput:
    """A batch's training loss and what it was computed from.

    `logits` (M, V) and `targets` (M,) are the M scored tokens, found at `positions` (B, T) — so
    per-token losses can be grouped by sequence (e.g. per language) without knowing the family.
    """

    loss: Tensor
    logits: Tensor
    targets: Tensor
    positions: Tensor


class ModelFamily(Protocol):
    """What callers may do with a model of one family."""

    name: str

    def load(self, directory: str | Path, strict: bool = True) -> PreTrainedModel: ...

    def save(self, model: PreTrainedModel, tokenizer: Any, directory: str | Path) -> None: ...

    def source_embeddings(self, model: PreTrainedModel) -> np.ndarray: ...

    def output_bias(self, model: PreTrainedModel) -> np.ndarray | None: ...

    def assemble(
        self,
        source: PreTrainedModel,
        rows: np.ndarray,
        primitives: np.ndarray | None,
        bias: np.ndarray,
    ) -> PreTrainedModel: ...

    def training_loss(self, model: PreTrainedModel, batch: dict[str, Tensor]) -> LossOutput: ...

    def encoder(self, model: PreTrainedModel) -> PreTrainedModel: ...


def read_config(directory: str | Path) -> dict[str, Any]:
    """config.json of a model dir; MissingPathError, or BadFileError for the old format."""
    path = require_path(directory, "model dir", "a dir written by save_pretrained")
    if not (path / "config.json").is_file():
        raise MissingPathError("model config", path / "config.json", "a dir with config.json")
    config = json.loads((path / "config.json").read_text())
    if LEGACY_KEY in config:
        raise BadFileError(
            path / "config.json",
            f"written by the old AssembledForMaskedLM (a `{LEGACY_KEY}` section): assemble it again",
        )
    return config


def _checked_load(loader: Any, path: Path, strict: bool) -> PreTrainedModel:
    """Load; weights that do not fit the model are a BadFileError when `strict` (our own outputs),
    else a warning (a user's source checkpoint may carry stale buffers such as position_ids)."""
    model, info = loader.from_pretrained(path, output_loading_info=True)
    bad = {k: sorted(v) for k, v in info.items() if k != "error_msgs" and v}
    if bad and strict:
        raise BadFileError(path / "config.json", f"weights do not fit the model: {bad}")
    if bad:
        log.warning("%s: weights that do not fit the model: %s", path, bad)
    return model.eval()


class MaskedEncoderFamily:
    """Masked-LM encoders. Plain models are their source's own class; factorized ones are
    `FactorizedForMaskedLM`, saved with their code so the Auto classes load them anywhere."""

    name = "masked_encoder"

    def load(self, directory: str | Path, strict: bool = True) -> PreTrainedModel:
        """A saved model in eval mode; with `strict`, BadFileError if any weight is missing or
        unexpected."""
        config, path = read_config(directory), Path(directory)
        if config.get("model_type") == MODEL_TYPE:
            return _checked_load(FactorizedForMaskedLM, path, strict)
        return _checked_load(AutoModelForMaskedLM, path, strict)

    def save(self, model: PreTrainedModel, tokenizer: Any, directory: str | Path) -> None:
        """Weights, config (+ the modeling file of a factorized model) and tokenizer."""
        model.save_pretrained(directory)
        if tokenizer is not None:
            tokenizer.save_pretrained(directory)

    def source_embeddings(self, model: PreTrainedModel) -> np.ndarray:
        """The token embeddings E, float32 (V, D)."""
        return heads.embedding_rows(model).detach().float().cpu().numpy()

    def output_bias(self, model: PreTrainedModel) -> np.ndarray:
        """The MLM head's per-token bias, float32 (V,)."""
        return heads.output_bias(model).detach().float().cpu().numpy()

    def assemble(
        self,
        source: PreTrainedModel,
        rows: np.ndarray,
        primitives: np.ndarray | None,
        bias: np.ndarray,
    ) -> PreTrainedModel:
        """See `build.assemble`."""
        return build.assemble(source, rows, primitives, bias)

    def training_loss(self, model: PreTrainedModel, batch: dict[str, Tensor]) -> LossOutput:
        """Masked-only MLM over `input_ids`, `attention_mask`, `labels` (−100 = not scored)."""
        labels = batch["labels"]
        loss, logits = heads.masked_lm_loss(
            model, batch["input_ids"], batch.get("attention_mask"), labels
        )
        positions = labels != IGNORE_INDEX
        return LossOutput(loss, logits, labels[positions], positions)

    def encoder(self, model: PreTrainedModel) -> PreTrainedModel:
        """The base encoder (hidden states for retrieval and fine-tuning)."""
        return heads.encoder(model)


MASKED_ENCODER = MaskedEncoderFamily()
FAMILIES: dict[str, ModelFamily] = {MASKED_ENCODER.name: MASKED_ENCODER}


def family_of(directory: str | Path) -> ModelFamily:
    """The family of a saved model, from its config.json (`architectures`, `model_type`)."""
    config = read_config(directory)
    names = config.get("architectures") or []
    if config.get("model_type") == MODEL_TYPE or any(n.endswith("ForMaskedLM") for n in names):
        return MASKED_ENCODER
    raise BadFileError(
        Path(directory) / "config.json",
        f"architectures {names}: no model family for them (known: {list(FAMILIES)})",
    )


def load(directory: str | Path) -> PreTrainedModel:
    """Any saved model of a known family, in eval mode."""
    return family_of(directory).load(directory)
