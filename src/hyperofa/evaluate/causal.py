"""Byte-normalized evaluation of causal decoders (DESIGN §3.6): bits per byte, fertility and
greedy continuations.

Per-token losses are not comparable across tokenizers; bits per byte are. A text is scored as
[start] + its tokens, no special token added by the tokenizer: start is the tokenizer's BOS (its
EOS when it has none, as Qwen's), never scored itself, so every token of the text — the first
included — is predicted from the ones before it, and the bits cover every byte of the text however
the tokenizer cut it. bits = Σ −ln p / ln 2 over those tokens; bits per byte of a set of texts =
Σ bits / Σ UTF-8 bytes. A text longer than `max_length` − 1 tokens is cut there and only the bytes
of the characters its kept tokens cover count (from the tokenizer's offsets).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from hyperofa.errors import EmptyInputError, IncompatibleInputsError
from hyperofa.models import CausalDecoderFamily
from hyperofa.models.chunked_loss import LOGITS_BUDGET
from hyperofa.training import IGNORE_INDEX


def start_token(tokenizer: Any) -> int:
    """The id every scored text starts from: BOS, else EOS; IncompatibleInputsError if neither."""
    for token_id in (tokenizer.bos_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return int(token_id)
    raise IncompatibleInputsError(
        f"{type(tokenizer).__name__}: no BOS or EOS token to start a scored text from"
    )


def encode_for_scoring(
    tokenizer: Any, texts: Sequence[str], max_length: int
) -> list[tuple[list[int], int, bool]]:
    """Per text: ([start] + its tokens, cut to `max_length`), the UTF-8 bytes those tokens cover,
    whether it was cut."""
    if max_length < 2:
        raise IncompatibleInputsError(f"max_length {max_length}: expected ≥ 2 (start + a token)")
    start = start_token(tokenizer)
    enc = tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True)
    out = []
    for text, ids, offsets in zip(texts, enc["input_ids"], enc["offset_mapping"], strict=True):
        cut = len(ids) > max_length - 1
        ids = ids[: max_length - 1]
        covered = text[: offsets[len(ids) - 1][1]] if cut else text
        out.append(([start, *ids], len(covered.encode("utf-8")), cut))
    return out


def _batch(sequences: list[list[int]]) -> dict[str, torch.Tensor]:
    """Right-padded ids, attention mask and labels (the start and padding are not scored)."""
    width = max(len(s) for s in sequences)
    ids = torch.zeros(len(sequences), width, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)], mask[row, : len(seq)] = torch.tensor(seq), 1
    labels = ids.masked_fill(mask == 0, IGNORE_INDEX)
    labels[:, 0] = IGNORE_INDEX
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


@torch.no_grad()
def text_nats(
    model: Any, sequences: list[list[int]], batch_size: int, logits_budget: int = LOGITS_BUDGET
) -> np.ndarray:
    """Σ −ln p over each sequence's tokens after the first (N,) float64, batched by length."""
    model.eval()
    family = CausalDecoderFamily(logits_budget)
    order = np.argsort([len(s) for s in sequences], kind="stable")
    nats = np.zeros(len(sequences))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        batch = _batch([sequences[i] for i in idx])
        batch = {k: v.to(model.device) for k, v in batch.items()}
        out = family.training_loss(model, batch)
        rows = out.positions.nonzero()[:, 0]
        per_row = torch.zeros(len(idx), dtype=torch.float64, device=rows.device)
        per_row.index_add_(0, rows, out.token_losses.double())
        nats[idx] = per_row.cpu().numpy()
    return nats


def bits_per_byte(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    batch_size: int = 8,
    max_length: int = 512,
    logits_budget: int = LOGITS_BUDGET,
) -> tuple[float, dict[str, int]]:
    """Σ bits over the texts' tokens / Σ their UTF-8 bytes (NaN without bytes), and counts:
    texts, scored tokens, bytes, cut texts. `logits_budget`: bytes of logits held at once."""
    encoded = encode_for_scoring(tokenizer, texts, max_length)
    sequences = [ids for ids, _, _ in encoded]
    top = max((max(s) for s in sequences), default=-1)
    if top >= model.config.vocab_size:
        raise IncompatibleInputsError(
            f"token id {top} ≥ the model's vocabulary size {model.config.vocab_size}: "
            "the tokenizer is not the model's"
        )
    n_bytes = sum(b for _, b, _ in encoded)
    nats = text_nats(model, sequences, batch_size, logits_budget) if sequences else np.zeros(0)
    counts = {
        "texts": len(encoded),
        "tokens": sum(len(s) - 1 for s in sequences),
        "bytes": n_bytes,
        "truncated": sum(cut for _, _, cut in encoded),
    }
    bpb = float(nats.sum() / math.log(2) / n_bytes) if n_bytes else float("nan")
    return bpb, counts


def heldout_bpb(
    model: Any, tokenizer: Any, texts_by_language: dict[str, Sequence[str]], **kwargs: Any
) -> dict[str, float]:
    """Bits per byte per language plus their unweighted mean under `average`."""
    scores = {}
    for lang in tqdm(sorted(texts_by_language), desc="bits per byte", unit="lang", leave=False):
        scores[lang], _ = bits_per_byte(model, tokenizer, texts_by_language[lang], **kwargs)
    finite = [v for v in scores.values() if np.isfinite(v)]
    scores["average"] = float(np.mean(finite)) if finite else float("nan")
    return scores


def fertility(tokenizer: Any, texts: Sequence[str]) -> dict[str, float]:
    """Tokens (no special tokens) per whitespace-separated word and per UTF-8 byte, over all
    texts. EmptyInputError when the texts hold no word."""
    words = sum(len(t.split()) for t in texts)
    if words == 0:
        raise EmptyInputError("fertility: the texts hold no word")
    ids = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    tokens = sum(len(i) for i in ids)
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    return {"tokens_per_word": tokens / words, "tokens_per_byte": tokens / n_bytes}


@torch.no_grad()
def greedy_continuations(
    model: Any, tokenizer: Any, prompts: Sequence[str], max_new_tokens: int = 16
) -> list[str]:
    """Each prompt's greedy continuation (prompt excluded, special tokens dropped). A prompt is
    scored like a text ([start] + its tokens) and generated alone: no padding to get wrong."""
    model.eval()
    start, out = start_token(tokenizer), []
    for prompt in prompts:
        ids = [start, *tokenizer(prompt, add_special_tokens=False)["input_ids"]]
        inputs = torch.tensor([ids], device=model.device)
        generated = model.generate(
            input_ids=inputs,
            attention_mask=torch.ones_like(inputs),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else start,
        )
        out.append(tokenizer.decode(generated[0, len(ids) :], skip_special_tokens=True))
    return out
