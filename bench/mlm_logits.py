"""CPU training-step time with MLM logits at masked positions only vs over every position.

An e5-small-shaped BertForMaskedLM (BERT, hidden 384, 12 layers, vocab 256k) with random weights,
batch 8 × 128, 15 % masking, the same batch and seed for both. A step is forward + backward (no
optimizer: the same in both). DESIGN §3.4 expects ≳ 2.5×. The saving is the 256k-way output
layer over the unmasked 85 % of positions; what both variants share (the encoder, much of it
memory-bound elementwise work on a small CPU, and the dense 256k × 384 embedding gradient) sets
how close to that the ratio gets on a given machine."""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from transformers import BertConfig, BertForMaskedLM

from hyperofa.masking import mask_tokens
from hyperofa.models import masked_lm_loss
from hyperofa.training import IGNORE_INDEX

VOCAB, HIDDEN, LAYERS, HEADS, FF = 256_000, 384, 12, 12, 1536
BATCH, LENGTH, STEPS, WARMUP = 8, 128, 3, 1


def e5_small_shaped(seed: int = 0) -> BertForMaskedLM:
    torch.manual_seed(seed)
    source = BertConfig(
        vocab_size=VOCAB,
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=FF,
        max_position_embeddings=512,
    )
    return BertForMaskedLM(source).train()  # BERT's init: N(0, 0.02)


def batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(inputs, attention_mask, labels), each [BATCH, LENGTH]."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, VOCAB, (BATCH, LENGTH), generator=g)
    special = torch.zeros_like(ids, dtype=torch.bool)
    special[:, [0, -1]] = True
    inputs, labels = mask_tokens(ids, special, 4, VOCAB, 0.15, g)
    return inputs, torch.ones_like(ids), labels


def masked_only_loss(model: BertForMaskedLM, inputs, mask, labels) -> torch.Tensor:
    return masked_lm_loss(model, inputs, mask, labels)[0]


def full_logits_loss(model: BertForMaskedLM, inputs, mask, labels) -> torch.Tensor:
    logits = model(input_ids=inputs, attention_mask=mask).logits  # [B, L, V]
    return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE_INDEX)


def seconds_per_step(model: BertForMaskedLM, loss_fn, data) -> tuple[float, float]:
    """(median seconds of a forward + backward, the loss)."""
    times, loss = [], torch.tensor(float("nan"))
    for i in range(WARMUP + STEPS):
        model.zero_grad(set_to_none=True)
        torch.manual_seed(1)  # same dropout in both variants
        started = time.perf_counter()
        loss = loss_fn(model, *data)
        loss.backward()
        loss = loss.detach()
        if i >= WARMUP:
            times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2], float(loss)


def main() -> None:
    model, data = e5_small_shaped(), batch()
    masked = int((data[2] != IGNORE_INDEX).sum())
    print(
        f"model: hidden {HIDDEN}, {LAYERS} layers, vocab {VOCAB:,}, "
        f"{sum(p.numel() for p in model.parameters()) / 1e6:.0f}M params; batch {BATCH}×{LENGTH}, "
        f"{masked} masked positions; {torch.get_num_threads()} threads; median of {STEPS} steps"
    )
    t_masked, loss_masked = seconds_per_step(model, masked_only_loss, data)
    t_full, loss_full = seconds_per_step(model, full_logits_loss, data)
    print(f"masked-only logits: {t_masked:.2f} s/step (loss {loss_masked:.4f})")
    print(f"full logits:        {t_full:.2f} s/step (loss {loss_full:.4f})")
    print(f"speed-up: {t_full / t_masked:.2f}× (target ≥ 2.5×)")


if __name__ == "__main__":
    main()
