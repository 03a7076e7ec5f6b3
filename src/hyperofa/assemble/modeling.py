"""The assembled model: a source encoder under new (plain or factorized) token embeddings.

Factorized (OFA §3.4): embedding = coordinates (V_t × D') followed by primitives (D' → D). The LM
head projects hidden states down with Pᵀ and up with the coordinate table — both tied to the input
factors — plus a per-token bias. Logits are computed only at masked positions when labels are given
(2.6× faster per CPU step here). Works for any encoder whose embeddings module has
`word_embeddings` (BERT, RoBERTa, XLM-R).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig
from transformers.activations import ACT2FN

from hyperofa.errors import BadFileError, MissingPathError

CONFIG_KEY = "hyperofa"
WEIGHTS = "model.safetensors"


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


def _base_model(config: PretrainedConfig) -> nn.Module:
    try:
        return AutoModel.from_config(config, add_pooling_layer=False)
    except TypeError:
        return AutoModel.from_config(config)


class AssembledForMaskedLM(nn.Module):
    """Encoder + (plain | factorized) embeddings + tied MLM head with its own bias."""

    def __init__(self, config: PretrainedConfig):
        super().__init__()
        extra = getattr(config, CONFIG_KEY)
        self.config = config
        self.num_primitives: int | None = extra.get("num_primitives")
        self.encoder = _base_model(config)
        hidden = config.hidden_size
        if self.num_primitives:
            self.encoder.embeddings.word_embeddings = FactorizedEmbedding(
                config.vocab_size, self.num_primitives, hidden
            )
        else:
            self.encoder.embeddings.word_embeddings = nn.Embedding(config.vocab_size, hidden)
        eps = getattr(config, "layer_norm_eps", 1e-12)
        self.head = MLMHeadTransform(hidden, extra.get("head_activation", "gelu"), eps)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))

    @property
    def word_embeddings(self) -> nn.Module:
        return self.encoder.embeddings.word_embeddings

    def decode(self, hidden: torch.Tensor) -> torch.Tensor:
        """Vocabulary logits from head-transformed states (..., D) → (..., V)."""
        emb = self.word_embeddings
        if isinstance(emb, FactorizedEmbedding):
            down = hidden @ emb.primitives.weight  # (..., D'): projection by Pᵀ
            return F.linear(down, emb.coordinates.weight, self.bias)
        return F.linear(hidden, emb.weight, self.bias)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool = False,
    ) -> dict[str, Any]:
        """With labels: loss and logits at the positions where labels ≠ −100 only (M, V)."""
        out = self.encoder(
            input_ids=input_ids,
            attention_mask=attention_mask,
            output_hidden_states=output_hidden_states,
        )
        hidden = out.last_hidden_state
        result: dict[str, Any] = {}
        if output_hidden_states:
            result["hidden_states"] = out.hidden_states
        if labels is None:
            result["logits"] = self.decode(self.head(hidden))
            return result
        selected = labels != -100
        logits = self.decode(self.head(hidden[selected]))
        result["logits"] = logits
        result["loss"] = (
            F.cross_entropy(logits, labels[selected]) if len(logits) else hidden.sum() * 0
        )
        return result

    def save_pretrained(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.config.save_pretrained(directory)
        state = {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        save_file(state, str(directory / WEIGHTS), metadata={"format": "pt"})

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> AssembledForMaskedLM:
        directory = Path(directory)
        if not (directory / "config.json").exists():
            raise MissingPathError("assembled model", directory / "config.json")
        config = AutoConfig.from_pretrained(directory)
        if not isinstance(getattr(config, CONFIG_KEY, None), dict):
            raise BadFileError(
                directory / "config.json", f"no `{CONFIG_KEY}` section: not an assembled model"
            )
        model = cls(config)
        model.load_state_dict(load_file(str(directory / WEIGHTS)), strict=True)
        return model.eval()


def assembled_config(
    source_config: PretrainedConfig,
    vocab_size: int,
    num_primitives: int | None,
    head_activation: str,
) -> PretrainedConfig:
    """The source's config with the new vocabulary size and the assembly's own section."""
    config = AutoConfig.for_model(**{**source_config.to_dict(), "vocab_size": vocab_size})
    setattr(
        config,
        CONFIG_KEY,
        {"num_primitives": num_primitives, "head_activation": head_activation, "format": 1},
    )
    config.tie_word_embeddings = False  # tying is by computation in `decode`, not shared tensors
    return config


def describe(model: AssembledForMaskedLM) -> dict[str, Any]:
    return {
        "vocab_size": model.config.vocab_size,
        "num_primitives": model.num_primitives,
        "parameters": sum(p.numel() for p in model.parameters()),
    }


def read_config(directory: str | Path) -> dict[str, Any]:
    return json.loads((Path(directory) / "config.json").read_text())
