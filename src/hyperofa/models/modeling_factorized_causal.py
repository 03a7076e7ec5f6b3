"""A source decoder under factorized token embeddings, as a transformers causal LM (OFA §3.4).

The input embedding of token t is coordinates[t] (D') mapped by the primitives P (D' → D), times
the source embedding module's own scale (Gemma 3 multiplies by √hidden inside its embedding; 1
elsewhere). The output logits are the last hidden states projected down by Pᵀ and up by the
coordinate table: tied to the input factors, or, for an untied head, to a second pair of factors
of its own (an untied source's input and output matrices are different spaces, so they share no
primitives). Final-logit softcapping follows the decoder config, as in Gemma's own forward.

This file imports torch and transformers only: `save_pretrained` copies it beside the weights, so
`AutoModelForCausalLM.from_pretrained(dir, trust_remote_code=True)` loads the model where hyperofa
is not installed.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoConfig, AutoModel, GenerationMixin, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutputWithPast

MODEL_TYPE = "hyperofa_factorized_causal"


class FactorizedCausalConfig(PretrainedConfig):
    """`decoder`: the base decoder's config (its `vocab_size` is the new vocabulary's);
    `num_primitives`: D' of the input factors; `output_num_primitives`: D' of the head's own
    factors, 0 = the head is tied to the input factors; `embed_scale`: the factor the source's
    embedding module multiplies rows by (Gemma 3: √hidden), 1.0 for none; `head_bias`: whether
    the head adds a per-token bias (as Phi's does)."""

    model_type = MODEL_TYPE

    def __init__(
        self,
        decoder: dict[str, Any] | PretrainedConfig | None = None,
        num_primitives: int = 0,
        output_num_primitives: int = 0,
        embed_scale: float = 1.0,
        head_bias: bool = False,
        **kwargs: Any,
    ):
        if isinstance(decoder, dict):
            decoder = AutoConfig.for_model(**decoder)
        self.decoder = decoder
        self.num_primitives = num_primitives
        self.output_num_primitives = output_num_primitives
        self.embed_scale = embed_scale
        self.head_bias = head_bias
        super().__init__(**kwargs)

    @property
    def vocab_size(self) -> int:
        return self.decoder.vocab_size

    @property
    def hidden_size(self) -> int:
        return self.decoder.hidden_size

    @property
    def tied(self) -> bool:
        return self.output_num_primitives == 0


class Factors(nn.Module):
    """`coordinates` (V, D') and `primitives.weight` = Pᵀ (D, D'); rows = coordinates @ P."""

    def __init__(self, num_embeddings: int, num_primitives: int, hidden_size: int):
        super().__init__()
        self.coordinates = nn.Embedding(num_embeddings, num_primitives)
        self.primitives = nn.Linear(num_primitives, hidden_size, bias=False)

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Rows of `input_ids` (..., D)."""
        return self.primitives(self.coordinates(input_ids))

    def project(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores against every row (..., V): hidden @ Pᵀ @ coordinatesᵀ."""
        return F.linear(hidden @ self.primitives.weight, self.coordinates.weight)


class FactorizedCausalEmbedding(Factors):
    """ids → coordinates[ids] @ P × `embed_scale`, the scale rounded to the weights' dtype first
    as Gemma 3's own embedding does, so a bf16 model scales alike."""

    def __init__(
        self, num_embeddings: int, num_primitives: int, hidden_size: int, embed_scale: float
    ):
        super().__init__(num_embeddings, num_primitives, hidden_size)
        self.embed_scale = embed_scale

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        rows = self.embed(input_ids)
        if self.embed_scale == 1.0:
            return rows
        scale = torch.tensor(self.embed_scale, dtype=torch.float32, device=rows.device)
        return rows * scale.to(rows.dtype)


class FactorizedForCausalLM(PreTrainedModel, GenerationMixin):
    """Base decoder (`model`) with a `FactorizedCausalEmbedding`; an untied head (`head`) has
    its own `Factors`; `bias` (V,) when the config asks for one. `lm_logits` maps hidden states
    to logits (the chunked loss calls it)."""

    config_class = FactorizedCausalConfig
    base_model_prefix = "model"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_attention_backend = True

    def __init__(self, config: FactorizedCausalConfig):
        super().__init__(config)
        decoder = config.decoder
        # the attention implementation asked of the whole model (from_pretrained) is the decoder's
        decoder._attn_implementation = config._attn_implementation
        self.model = AutoModel.from_config(decoder)
        self.model.embed_tokens = FactorizedCausalEmbedding(
            decoder.vocab_size, config.num_primitives, decoder.hidden_size, config.embed_scale
        )
        self.head = None
        if not config.tied:
            self.head = Factors(
                decoder.vocab_size, config.output_num_primitives, decoder.hidden_size
            )
        self.bias = nn.Parameter(torch.zeros(decoder.vocab_size)) if config.head_bias else None
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if module is self and self.bias is not None:
            nn.init.zeros_(self.bias)

    def get_input_embeddings(self) -> FactorizedCausalEmbedding:
        return self.model.embed_tokens

    def set_input_embeddings(self, value: FactorizedCausalEmbedding) -> None:
        self.model.embed_tokens = value

    def get_output_embeddings(self) -> None:
        return None  # the head is factors, not a Linear that transformers could resize or tie

    def output_factors(self) -> Factors:
        """The factors the logits project onto: the head's own, or the input's when tied."""
        return self.get_input_embeddings() if self.head is None else self.head

    def lm_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Logits of last-layer hidden states (..., D) → (..., V), softcapped if configured."""
        logits = self.output_factors().project(hidden)
        if self.bias is not None:
            logits = logits + self.bias
        cap = getattr(self.config.decoder, "final_logit_softcapping", None)
        if cap is not None:
            logits = torch.tanh(logits / cap) * cap
        return logits

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        **kwargs: Any,
    ) -> CausalLMOutputWithPast:
        """Logits (B, T, V) (the last `logits_to_keep` positions only when > 0); with `labels`
        (B, T), the mean next-token cross-entropy where the shifted labels are ≠ −100."""
        kwargs.pop("return_dict", None)
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        hidden = out.last_hidden_state
        keep = slice(-logits_to_keep, None) if isinstance(logits_to_keep, int) else logits_to_keep
        logits = self.lm_logits(hidden[:, keep, :])
        loss = None
        if labels is not None:
            shifted = labels[:, 1:].to(logits.device)
            loss = F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), shifted.flatten())
        rest = {k: v for k, v in out.items() if k != "last_hidden_state"}
        return CausalLMOutputWithPast(loss=loss, logits=logits, **rest)
