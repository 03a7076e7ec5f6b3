"""Warm up the fresh MLM head of the converted e5 model (DESIGN.md §4, §4.1).

Only the head transform (dense + LayerNorm) and the output bias train; the encoder and the word
embeddings (which the decoder is tied to) stay frozen, so the source embeddings stay as shipped.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial

import torch
from torch import nn
from tqdm.auto import tqdm

from hyperofa.errors import ConfigError, EmptyInputError
from hyperofa.masking import mask_tokens
from hyperofa.training import IGNORE_INDEX

Batch = dict[str, torch.Tensor]  # input_ids, attention_mask, special_tokens_mask: [B, L]


def head_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The head transform's and the output bias's parameters of a BertForMaskedLM (tied excluded)."""
    predictions = model.cls.predictions
    frozen = {id(model.get_input_embeddings().weight)}
    params = [*predictions.transform.parameters(), predictions.bias]
    return [p for p in dict.fromkeys(params) if id(p) not in frozen]


def masked_lm_loss(
    model: nn.Module, inputs: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor
) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy over the masked positions and their count; inputs/labels [B, L].

    The frozen encoder runs without autograd; logits are computed at masked positions only.
    """
    with torch.no_grad():
        hidden = model.bert(input_ids=inputs, attention_mask=attention_mask).last_hidden_state
    selected = labels != IGNORE_INDEX
    n = int(selected.sum())
    if n == 0:
        return hidden.new_zeros(()), 0
    logits = model.cls(hidden[selected])  # [n, V]
    return nn.functional.cross_entropy(logits, labels[selected]), n


def _corrupt(
    batch: Batch, mask_token_id: int, vocab_size: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(inputs, attention_mask, labels) [B, L'], L' dropping trailing all-padding columns."""
    attention_mask = batch["attention_mask"]
    length = int(attention_mask.any(0).nonzero().max()) + 1 if attention_mask.any() else 1
    ids, attention_mask = batch["input_ids"][:, :length], attention_mask[:, :length]
    special = batch["special_tokens_mask"][:, :length].bool() | (attention_mask == 0)
    inputs, labels = mask_tokens(ids, special, mask_token_id, vocab_size, generator=generator)
    return inputs, attention_mask, labels


def _eval_loss(model: nn.Module, fixed: list[tuple[torch.Tensor, ...]]) -> float:
    total, count = 0.0, 0
    with torch.no_grad():
        for inputs, attention_mask, labels in fixed:
            loss, n = masked_lm_loss(model, inputs, attention_mask, labels)
            total, count = total + float(loss) * n, count + n
    if count == 0:
        raise EmptyInputError("MLM head warm-up: the eval batches hold no maskable token")
    return total / count


def _cycle(batches: Iterable[Batch]) -> Iterator[Batch]:
    iterator = itertools.cycle(batches)
    first = next(iterator, None)
    if first is None:
        raise EmptyInputError("MLM head warm-up: no training batches")
    return itertools.chain([first], iterator)


def warm_up_mlm_head(
    model: nn.Module,
    batches: Iterable[Batch],
    steps: int,
    lr: float,
    mask_token_id: int,
    seed: int,
    eval_batches: Iterable[Batch],
    vocab_size: int | None = None,
    weight_decay: float = 0.01,
    max_grad_norm: float = 1.0,
) -> dict[str, float | int]:
    """Train only the MLM head of a HF BertForMaskedLM with AdamW for `steps` batches (cycled).

    Batches hold input_ids, attention_mask, special_tokens_mask [B, L]. Training masks come from
    a generator seeded with `seed`, eval masks from `seed + 1`, fixed before and after. Random
    replacement ids are drawn from [0, vocab_size) (default: the model's embedding rows; pass the
    tokenizer's size). The encoder runs in eval mode (no dropout). Returns steps, loss_before,
    loss_after (mean eval MLM loss per masked token), trainable_params, seconds.
    """
    if steps < 0 or lr <= 0:
        raise ConfigError("steps/lr", (steps, lr), "steps ≥ 0 and lr > 0")
    started = time.perf_counter()
    fixed, corrupt = _maskings(
        eval_batches, mask_token_id, vocab_size or model.config.vocab_size, seed
    )
    trainable = head_parameters(model)
    with _only_trainable(model, trainable):
        loss_before = _eval_loss(model, fixed)
        optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=weight_decay)
        _train(model, _cycle(batches), steps, optimizer, corrupt, max_grad_norm)
        loss_after = _eval_loss(model, fixed)
    return {
        "steps": steps,
        "loss_before": loss_before,
        "loss_after": loss_after,
        "trainable_params": sum(p.numel() for p in trainable),
        "seconds": round(time.perf_counter() - started, 3),
    }


def _maskings(
    eval_batches: Iterable[Batch], mask_token_id: int, vocab_size: int, seed: int
) -> tuple[list[tuple[torch.Tensor, ...]], Callable[[Batch], tuple[torch.Tensor, ...]]]:
    """The eval batches corrupted once (generator `seed + 1`) and the training corruption
    (generator `seed`), in that order."""
    eval_gen = torch.Generator().manual_seed(seed + 1)
    fixed = [_corrupt(b, mask_token_id, vocab_size, eval_gen) for b in eval_batches]
    corrupt = partial(
        _corrupt,
        mask_token_id=mask_token_id,
        vocab_size=vocab_size,
        generator=torch.Generator().manual_seed(seed),
    )
    return fixed, corrupt


@contextlib.contextmanager
def _only_trainable(model: nn.Module, trainable: list[nn.Parameter]) -> Iterator[None]:
    """Eval mode with gradients for `trainable` only; mode and `requires_grad` flags restored."""
    was_training, flags = model.training, {p: p.requires_grad for p in model.parameters()}
    model.eval().requires_grad_(False)
    for p in trainable:
        p.requires_grad_(True)
    try:
        yield
    finally:
        for p, flag in flags.items():
            p.requires_grad_(flag)
        model.train(was_training)


def _train(
    model: nn.Module,
    batches: Iterator[Batch],
    steps: int,
    optimizer: torch.optim.Optimizer,
    corrupt: Callable[[Batch], tuple[torch.Tensor, ...]],
    max_grad_norm: float,
) -> None:
    params = [p for group in optimizer.param_groups for p in group["params"]]
    bar = tqdm(range(steps), desc="mlm head warm-up", unit="step", disable=None)
    for _ in bar:
        loss, n = masked_lm_loss(model, *corrupt(next(batches)))
        if n == 0:
            continue
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
        optimizer.step()
        bar.set_postfix(loss=f"{loss.item():.3f}")
