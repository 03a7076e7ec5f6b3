"""Sentence retrieval (SR-T / SR-B style): mean-pooled hidden layer, cosine top-k, target → English."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from hyperofa.evaluate.mlm import length_sorted_batches
from hyperofa.knn import CosineIndex


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean over the positions where attention_mask = 1 (special tokens included): (B, L, D) → (B, D)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


@contextlib.contextmanager
def first_layers(encoder, n: int):
    """Run only the first n transformer layers: hidden_states[n] is then the last one computed,
    identical to the full model's, at n/12 of the cost (BERT / RoBERTa / XLM-R layouts)."""
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    if layers is None or not 0 < n < len(layers):
        yield
        return
    full = encoder.encoder.layer
    encoder.encoder.layer = full[:n]
    try:
        yield
    finally:
        encoder.encoder.layer = full


@torch.no_grad()
def embed(
    encoder,
    tokenizer,
    texts: Sequence[str],
    *,
    layer: int = 8,
    max_length: int = 128,
    batch_size: int = 32,
) -> np.ndarray:
    """Sentence vectors (N, D): hidden_states[layer] (0 = embedding output, so 8 = the 8th layer),
    mean-pooled over the attention mask, L2-normalized."""
    out = np.zeros((len(texts), encoder.config.hidden_size), dtype=np.float32)
    for idx, batch in length_sorted_batches(tokenizer, texts, max_length, batch_size):
        with first_layers(encoder, layer):
            states = encoder(
                input_ids=batch["input_ids"],
                attention_mask=batch["attention_mask"],
                output_hidden_states=True,
            ).hidden_states
        if not 0 <= layer < len(states):
            raise ValueError(
                f"eval layer {layer}: the model has hidden states 0..{len(states) - 1}"
            )
        out[idx] = mean_pool(states[layer], batch["attention_mask"]).float().numpy()
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out


def top_k_accuracy(
    queries: np.ndarray, candidates: np.ndarray, gold: np.ndarray, ks: Sequence[int] = (1, 5, 10)
) -> dict[str, float]:
    """Share of queries whose gold candidate row is among the k most cosine-similar candidates."""
    k_max = min(max(ks), len(candidates))
    _, ranked = CosineIndex(candidates, use_gpu=False).search(queries, k_max)
    hits = ranked == gold[:, None]
    return {f"top{k}": float(hits[:, : min(k, k_max)].any(1).mean()) for k in ks}


def retrieval_scores(
    encoder,
    tokenizer,
    pairs: dict[str, tuple[Sequence[str], Sequence[str]]],
    *,
    ks: Sequence[int] = (1, 5, 10),
    **embed_kwargs,
) -> dict[str, dict[str, float]]:
    """pairs[lang] = (queries in lang, English candidates); query i translates candidate i
    (there may be more candidates than queries). Returns per-language scores
    and their unweighted mean under `average`.
    """
    scores: dict[str, dict[str, float]] = {}
    english_vectors: dict[tuple[str, ...], np.ndarray] = {}  # most languages share one English side
    for lang in tqdm(sorted(pairs), desc="retrieval", unit="lang", leave=False):
        queries, english = pairs[lang]
        q = embed(encoder, tokenizer, queries, **embed_kwargs)
        key = tuple(english)
        if key not in english_vectors:
            english_vectors[key] = embed(encoder, tokenizer, english, **embed_kwargs)
        c = english_vectors[key]
        scores[lang] = top_k_accuracy(q, c, np.arange(len(queries)), ks)
    if scores:
        per_language = list(scores.values())
        scores["average"] = {
            k: float(np.mean([s[k] for s in per_language])) for k in per_language[0]
        }
    return scores
