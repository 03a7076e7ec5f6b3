"""HyperOFA's training loss: λ·InfoNCE + (1−λ)·normalized L1 (DESIGN.md §3.3)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from hyperofa.errors import HyperofaError


class NonFiniteLossError(HyperofaError, FloatingPointError):
    """The training loss became NaN or inf; training stops before the weights are updated."""

    def __init__(self, step: int, epoch: int, parts: dict[str, float], token_ids: list[int]):
        self.step, self.epoch, self.parts, self.token_ids = step, epoch, parts, token_ids
        shown = ", ".join(f"{k}={v:.4g}" for k, v in parts.items())
        super().__init__(
            f"non-finite hypernet loss at step {step} (epoch {epoch}): {shown}; batch source tokens"
            f" {token_ids[:8]}{' …' if len(token_ids) > 8 else ''}. Check these tokens' targets and"
            " word vectors for NaN/inf, or lower the learning rate; the last checkpoint is intact."
        )


def info_nce(pred: Tensor, target: Tensor, temperature: float) -> Tensor:
    """Cross-entropy over the [B, B] cosine matrix / T; positives on the diagonal, the other
    targets of the batch are the negatives. pred, target: [B, D] → scalar."""
    cosine = F.normalize(pred, dim=-1) @ F.normalize(target, dim=-1).T
    labels = torch.arange(pred.shape[0], device=pred.device)
    return F.cross_entropy(cosine / temperature, labels)


def normalized_l1(pred: Tensor, target: Tensor) -> Tensor:
    """mean|pred − target| / mean|target| over all entries of the batch. [B, D] → scalar."""
    return (pred - target).abs().mean() / target.abs().mean()


def hypernet_loss(
    pred: Tensor, target: Tensor, lam: float, temperature: float
) -> tuple[Tensor, dict[str, Tensor]]:
    """λ·InfoNCE + (1−λ)·L1norm and its two terms. pred, target: [B, D_out].

    A term with weight 0 is left out of the total (not multiplied by 0), so λ = 0 gives exactly
    the L1 term and λ = 1 exactly the contrastive term, even if the other is not finite.
    """
    parts = {"contrastive": info_nce(pred, target, temperature), "l1": normalized_l1(pred, target)}
    weighted = [(lam, parts["contrastive"]), (1.0 - lam, parts["l1"])]
    total = sum(w * term for w, term in weighted if w != 0.0)
    return total, parts
