"""Held-out masked-language-model loss: the step-0 comparison of initializers."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from hyperofa.masking import mask_tokens
from hyperofa.models import masked_lm_loss
from hyperofa.training import IGNORE_INDEX


def length_sorted_batches(tokenizer, texts: Sequence[str], max_length: int, batch_size: int):
    """Yield (positions in `texts`, padded encoding) in batches of similar length (less padding)."""
    order = np.argsort([len(t) for t in texts], kind="stable")
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        encoding = tokenizer(
            [texts[i] for i in idx],
            truncation=True,
            max_length=max_length,
            padding=True,
            return_tensors="pt",
            return_special_tokens_mask=True,
        )
        yield idx, encoding


@torch.no_grad()
def mlm_loss(
    model,
    tokenizer,
    texts: Sequence[str],
    *,
    max_length: int = 128,
    batch_size: int = 16,
    mlm_probability: float = 0.15,
    seed: int = 0,
) -> tuple[float, int]:
    """Mean cross-entropy over masked tokens of `texts` (token-weighted), and the token count.

    Masks are drawn from a generator seeded by `seed`, so two models with the same tokenizer are
    scored on exactly the same masked positions.
    """
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    total, count = 0.0, 0
    for _, batch in length_sorted_batches(tokenizer, texts, max_length, batch_size):
        special = batch["special_tokens_mask"].bool() | (batch["attention_mask"] == 0)
        inputs, labels = mask_tokens(
            batch["input_ids"],
            special,
            tokenizer.mask_token_id,
            len(tokenizer),
            mlm_probability,
            generator,
        )
        loss, _ = masked_lm_loss(model, inputs, batch["attention_mask"], labels)
        n = int((labels != IGNORE_INDEX).sum())
        total += float(loss) * n
        count += n
    return (total / count if count else float("nan")), count


def heldout_mlm_loss(
    model, tokenizer, texts_by_language: dict[str, Sequence[str]], seed: int = 0, **kwargs
) -> dict[str, float]:
    """Per-language held-out MLM loss plus their unweighted mean under `average`."""
    scores = {}
    for lang in tqdm(sorted(texts_by_language), desc="mlm loss", unit="lang", leave=False):
        lang_seed = seed + zlib.crc32(lang.encode())  # independent of which languages are evaluated
        scores[lang], _ = mlm_loss(
            model, tokenizer, texts_by_language[lang], seed=lang_seed, **kwargs
        )
    finite = [v for v in scores.values() if np.isfinite(v)]
    scores["average"] = float(np.mean(finite)) if finite else float("nan")
    return scores
