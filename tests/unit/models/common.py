"""Tiny masked LMs and batches shared by the model tests."""

from __future__ import annotations

import numpy as np
import torch
from transformers import PreTrainedModel, RobertaConfig, RobertaForMaskedLM

from hyperofa.factorize import factorize
from hyperofa.models import MASKED_ENCODER, FactorizedForMaskedLM
from tests.tiny import tiny_bert, tiny_xlmr

EXTRA = 7  # target tokens beyond the source vocabulary


def tiny_roberta(vocab_size: int, hidden: int = 16, seed: int = 0) -> RobertaForMaskedLM:
    torch.manual_seed(seed)
    cfg = RobertaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        pad_token_id=1,
    )
    return RobertaForMaskedLM(cfg).eval()


SOURCES = {"bert": tiny_bert, "xlmr": tiny_xlmr, "roberta": tiny_roberta}


def batch(vocab: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(ids, attention mask with padding in the last row, labels at 4 positions)."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, vocab, (3, 10), generator=g)
    mask = torch.ones_like(ids)
    mask[2, 7:] = 0
    labels = torch.full_like(ids, -100)
    labels[:, 2], labels[0, 5] = ids[:, 2], ids[0, 5]
    return ids, mask, labels


def logits(model: PreTrainedModel, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask).logits


def target_rows(source: PreTrainedModel, dim: int | None) -> tuple:
    """(rows, primitives, bias) of a target vocabulary EXTRA tokens larger than the source's."""
    E = MASKED_ENCODER.source_embeddings(source)
    bias = MASKED_ENCODER.output_bias(source)
    rows, primitives = (E, None) if dim is None else factorize(E, dim)
    rows = np.concatenate([rows, rows[:EXTRA] * 0.5])
    return rows, primitives, np.concatenate([bias, bias[:EXTRA] + 1.0])


def factorized(source: PreTrainedModel, dim: int = 4) -> FactorizedForMaskedLM:
    rows, primitives, bias = target_rows(source, dim)
    return MASKED_ENCODER.assemble(source, rows, primitives, bias)
