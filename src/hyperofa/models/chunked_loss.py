"""Next-token cross-entropy without B×T×V logits in memory at once.

Gemma's vocabulary is 262,144 rows: fp32 logits of a 4 × 256 batch alone are 1 GiB, and autograd
keeps them (and their log-softmax) for backward. Here the scored positions are cut into chunks;
each chunk's logits are computed and reduced to per-token losses under activation checkpointing,
so neither forward nor backward holds more than one chunk's logits (backward recomputes them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from hyperofa.training import IGNORE_INDEX

LOGITS_BUDGET = 2**27  # bytes of fp32 logits per chunk (128 MiB: 128 positions of Gemma's 262k)


def chunk_tokens(vocab_size: int, budget_bytes: int = LOGITS_BUDGET) -> int:
    """Positions per chunk so that one chunk's fp32 logits fit `budget_bytes` (at least 1)."""
    return max(1, budget_bytes // (4 * vocab_size))


def next_token_labels(
    input_ids: Tensor, attention_mask: Tensor | None, labels: Tensor | None = None
) -> Tensor:
    """Targets (B, T) aligned with the predicting position: position t predicts token t + 1.

    `labels` (B, T) follow the transformers convention (aligned with `input_ids`, −100 = not
    scored); without them every attended token is a label. The last position predicts nothing.
    """
    if labels is None:
        labels = input_ids.clone()
        if attention_mask is not None:
            labels[attention_mask == 0] = IGNORE_INDEX
    shifted = torch.full_like(labels, IGNORE_INDEX)
    shifted[:, :-1] = labels[:, 1:]
    return shifted


def _chunk_losses(logits_fn: Callable[[Tensor], Tensor], hidden: Tensor, targets: Tensor) -> Tensor:
    return F.cross_entropy(logits_fn(hidden).float(), targets, reduction="none")


def token_losses(
    hidden: Tensor, targets: Tensor, logits_fn: Callable[[Tensor], Tensor], chunk: int
) -> Tensor:
    """−log p(target) (M,) fp32 of hidden states (M, D) with targets (M,), `chunk` rows of logits
    at a time; under autograd each chunk is checkpointed (its logits are recomputed in backward)."""
    losses = []
    for start in range(0, len(hidden), chunk):
        h, t = hidden[start : start + chunk], targets[start : start + chunk]
        if torch.is_grad_enabled():
            # the head draws no random numbers: no RNG state to stash
            losses.append(
                checkpoint(
                    _chunk_losses, logits_fn, h, t, use_reentrant=False, preserve_rng_state=False
                )
            )
        else:
            losses.append(_chunk_losses(logits_fn, h, t))
    return torch.cat(losses) if losses else hidden.new_zeros(0, dtype=torch.float32)


@dataclass
class CausalLoss:
    """Mean next-token loss; per-token losses (M,) and targets (M,) of the M scored positions,
    found at `positions` (B, T) (the predicting positions, row-major order)."""

    loss: Tensor
    token_losses: Tensor
    targets: Tensor
    positions: Tensor


def causal_lm_loss(
    base: Callable[..., object],
    logits_fn: Callable[[Tensor], Tensor],
    input_ids: Tensor,
    attention_mask: Tensor | None,
    labels: Tensor | None,
    chunk: int,
) -> CausalLoss:
    """Next-token cross-entropy of a batch: `base` (the decoder) gives the last hidden states
    (B, T, D), `logits_fn` maps them to logits; see `next_token_labels` for `labels`. With no
    scored position the loss is a zero that still has a graph."""
    hidden = base(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
    hidden = hidden.last_hidden_state
    shifted = next_token_labels(input_ids, attention_mask, labels)
    positions = shifted != IGNORE_INDEX
    targets = shifted[positions]
    losses = token_losses(hidden[positions], targets, logits_fn, chunk)
    loss = losses.sum() / len(losses) if len(losses) else hidden.sum() * 0
    return CausalLoss(loss, losses, targets, positions)
