"""The model-family seam: how assembly, the pre-training objective and evaluation reach a model.

A family says how to load and save its models, read the source's token embeddings and output
bias, assemble a model for a new vocabulary, compute the training loss of a batch and reach the
base model whose hidden states retrieval and fine-tuning use. Callers hold a `ModelFamily` and
never look inside a model.

Implemented: `MaskedEncoderFamily` (BERT, RoBERTa, XLM-R; plain or factorized embeddings; MLM
logits at masked positions only) and `CausalDecoderFamily` (`causal.py`: Gemma 3, Llama, Qwen2;
tied or untied heads, the untied output matrix initialized separately — DESIGN.md §3.6;
next-token loss over chunks of positions, per-token losses instead of logits).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np
from torch import Tensor
from transformers import AutoModelForMaskedLM, PreTrainedModel

import hyperofa.models.build as build
import hyperofa.models.heads as heads
from hyperofa.errors import BadFileError, IncompatibleInputsError
from hyperofa.models.causal import CAUSAL_DECODER, CausalDecoderFamily
from hyperofa.models.common import LossOutput, SavedModels, read_config
from hyperofa.models.modeling_factorized import MODEL_TYPE, FactorizedForMaskedLM
from hyperofa.models.modeling_factorized_causal import MODEL_TYPE as CAUSAL_MODEL_TYPE
from hyperofa.training import IGNORE_INDEX

__all__ = ["CausalDecoderFamily", "LossOutput", "read_config"]  # re-exported for callers


class ModelFamily(Protocol):
    """What callers may do with a model of one family."""

    name: str
    masked: bool  # the training objective: masked LM (True) or next-token prediction (False)

    def load(self, directory: str | Path, strict: bool = True) -> PreTrainedModel: ...

    def save(self, model: PreTrainedModel, tokenizer: Any, directory: str | Path) -> None: ...

    def source_embeddings(self, model: PreTrainedModel) -> np.ndarray: ...

    def output_embeddings(self, model: PreTrainedModel) -> np.ndarray | None:
        """The output matrix (V, D) when it is not the input matrix; None when tied."""
        ...

    def output_bias(self, model: PreTrainedModel) -> np.ndarray | None: ...

    def assemble(
        self,
        source: PreTrainedModel,
        rows: np.ndarray,
        primitives: np.ndarray | None,
        bias: np.ndarray | None,
        output_rows: np.ndarray | None = None,
        output_primitives: np.ndarray | None = None,
        untie: bool = False,
    ) -> PreTrainedModel:
        """Rows (or coordinates + primitives) of the new vocabulary, the head's bias (None when
        the source head has none), and for an untied head its own rows (+ primitives)."""
        ...

    def training_loss(self, model: PreTrainedModel, batch: dict[str, Tensor]) -> LossOutput: ...

    def encoder(self, model: PreTrainedModel) -> PreTrainedModel: ...


class MaskedEncoderFamily(SavedModels):
    """Masked-LM encoders. Plain models are their source's own class; factorized ones are
    `FactorizedForMaskedLM`, saved with their code so the Auto classes load them anywhere."""

    name = "masked_encoder"
    masked = True
    factorized_type, factorized, auto = MODEL_TYPE, FactorizedForMaskedLM, AutoModelForMaskedLM

    def source_embeddings(self, model: PreTrainedModel) -> np.ndarray:
        """The token embeddings E, float32 (V, D)."""
        return heads.embedding_rows(model).detach().float().cpu().numpy()

    def output_embeddings(self, model: PreTrainedModel) -> None:
        """None: the decoder is tied to the token embeddings (one matrix, initialized once)."""
        return None

    def output_bias(self, model: PreTrainedModel) -> np.ndarray:
        """The MLM head's per-token bias, float32 (V,)."""
        return heads.output_bias(model).detach().float().cpu().numpy()

    def assemble(
        self,
        source: PreTrainedModel,
        rows: np.ndarray,
        primitives: np.ndarray | None,
        bias: np.ndarray | None,
        output_rows: np.ndarray | None = None,
        output_primitives: np.ndarray | None = None,
        untie: bool = False,
    ) -> PreTrainedModel:
        """See `build.assemble`. The head is always tied: output rows or `untie` are refused."""
        if output_rows is not None or output_primitives is not None or untie:
            raise IncompatibleInputsError(
                f"{type(source).__name__}: a masked LM's decoder is tied to its embeddings; "
                "output_rows / output_primitives / untie do not apply"
            )
        if bias is None:
            raise IncompatibleInputsError(f"{type(source).__name__}: the MLM head needs a bias")
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
FAMILIES: dict[str, ModelFamily] = {
    MASKED_ENCODER.name: MASKED_ENCODER,
    CAUSAL_DECODER.name: CAUSAL_DECODER,
}


def family_of(directory: str | Path) -> ModelFamily:
    """The family of a saved model, from its config.json (`architectures`, `model_type`)."""
    config = read_config(directory)
    names, model_type = config.get("architectures") or [], config.get("model_type")
    if model_type == MODEL_TYPE or any(n.endswith("ForMaskedLM") for n in names):
        return MASKED_ENCODER
    if model_type == CAUSAL_MODEL_TYPE or any(n.endswith("ForCausalLM") for n in names):
        return CAUSAL_DECODER
    raise BadFileError(
        Path(directory) / "config.json",
        f"architectures {names}: no model family for them (known: {list(FAMILIES)})",
    )


def load(directory: str | Path) -> PreTrainedModel:
    """Any saved model of a known family, in eval mode."""
    return family_of(directory).load(directory)
