"""A source encoder under factorized token embeddings, as a transformers model (OFA §3.4).

The embedding of token t is coordinates[t] (D') mapped by the primitives P (D' → D). The MLM head
is the source head's transform (dense → activation → LayerNorm), then a projection down by Pᵀ and
up by the coordinate table — both tied to the input factors — plus a per-token bias.

This file imports torch and transformers only: `save_pretrained` copies it beside the weights, so
`AutoModelForMaskedLM.from_pretrained(dir, trust_remote_code=True)` loads the model where hyperofa
is not installed.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel
from transformers.activations import ACT2FN
from transformers.modeling_outputs import MaskedLMOutput

MODEL_TYPE = "hyperofa_factorized"


class FactorizedConfig(PretrainedConfig):
    """`encoder`: the base encoder's config (its `vocab_size` is the new vocabulary's);
    `num_primitives`: D'; `head_activation`: the activation of the source head's transform."""

    model_type = MODEL_TYPE

    def __init__(
        self,
        encoder: dict[str, Any] | PretrainedConfig | None = None,
        num_primitives: int = 0,
        head_activation: str = "gelu",
        **kwargs: Any,
    ):
        if isinstance(encoder, dict):
            encoder = AutoConfig.for_model(**encoder)
        self.encoder = encoder
        self.num_primitives = num_primitives
        self.head_activation = head_activation
        super().__init__(**kwargs)

    @property
    def vocab_size(self) -> int:
        return self.encoder.vocab_size

    @property
    def hidden_size(self) -> int:
        return self.encoder.hidden_size


class FactorizedEmbedding(nn.Module):
    """ids → coordinates[ids] @ P: `coordinates` (V, D'), `primitives.weight` = Pᵀ (D, D')."""

    def __init__(self, num_embeddings: int, num_primitives: int, hidden_size: int):
        super().__init__()
        self.coordinates = nn.Embedding(num_embeddings, num_primitives)
        self.primitives = nn.Linear(num_primitives, hidden_size, bias=False)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.primitives(self.coordinates(input_ids))


class MLMHeadTransform(nn.Module):
    """dense → activation → LayerNorm, as in BERT's and RoBERTa's LM heads."""

    def __init__(self, hidden_size: int, activation: str, eps: float):
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.activation = activation
        self.layer_norm = nn.LayerNorm(hidden_size, eps=eps)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.layer_norm(ACT2FN[self.activation](self.dense(hidden)))


def _base_model(config: PretrainedConfig) -> PreTrainedModel:
    try:
        return AutoModel.from_config(config, add_pooling_layer=False)
    except TypeError:  # an encoder without a pooler option
        return AutoModel.from_config(config)


class FactorizedForMaskedLM(PreTrainedModel):
    """Base encoder (`encoder`) with a `FactorizedEmbedding`, head transform (`head`), `bias` (V,).

    `forward` gives logits at every position; `lm_logits` maps selected hidden states only (masked-only MLM).
    """

    config_class = FactorizedConfig
    base_model_prefix = "encoder"
    supports_gradient_checkpointing = True
    _supports_sdpa = True

    def __init__(self, config: FactorizedConfig):
        super().__init__(config)
        encoder_config = config.encoder
        self.encoder = _base_model(encoder_config)
        self.encoder.embeddings.word_embeddings = FactorizedEmbedding(
            encoder_config.vocab_size, config.num_primitives, encoder_config.hidden_size
        )
        eps = getattr(encoder_config, "layer_norm_eps", 1e-12)
        self.head = MLMHeadTransform(encoder_config.hidden_size, config.head_activation, eps)
        self.bias = nn.Parameter(torch.zeros(encoder_config.vocab_size))
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if module is self:
            nn.init.zeros_(self.bias)

    def get_input_embeddings(self) -> FactorizedEmbedding:
        return self.encoder.embeddings.word_embeddings

    def set_input_embeddings(self, value: FactorizedEmbedding) -> None:
        self.encoder.embeddings.word_embeddings = value

    def get_output_embeddings(self) -> None:
        return None  # the head is tied to the input factors by computation, not by a shared module

    def decode(self, hidden: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits from head-transformed states (..., D) → (..., V)."""
        emb = self.get_input_embeddings()
        down = hidden @ emb.primitives.weight  # (..., D'): projection by Pᵀ
        return F.linear(down, emb.coordinates.weight, self.bias)

    def lm_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Logits of last-layer hidden states (..., D) → (..., V): head transform, then `decode`."""
        return self.decode(self.head(hidden))

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        **kwargs: Any,
    ) -> MaskedLMOutput:
        """Logits (B, T, V); with `labels` (B, T), the mean cross-entropy where labels ≠ −100."""
        kwargs.pop("return_dict", None)
        out = self.encoder(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
            return_dict=True,
            **kwargs,
        )
        logits = self.lm_logits(out.last_hidden_state)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1))
        return MaskedLMOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )
