"""Zero-shot token classification (NER, POS): fine-tune on the source language, tag the others.

Plain functions and modules: first-sub-token label alignment, a linear head on the encoder,
prediction back onto words. The training shell is `hyperofa.evaluate.finetune` (shared with
sequence classification).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hyperofa.config.evaluate import FineTuneConfig
from hyperofa.config.training import TrainerConfig
from hyperofa.errors import IncompatibleInputsError
from hyperofa.evaluate.datasets import TaggedSentence
from hyperofa.evaluate.finetune import fine_tune_head, pad_batch
from hyperofa.evaluate.metrics import average_over_languages, entity_scores, pos_scores
from hyperofa.training import IGNORE_INDEX


@dataclass
class EncodedTagging:
    """Model inputs per sentence, and which word each labelled position belongs to."""

    features: list[dict[str, list[int]]]
    label_words: list[list[int]]
    word_counts: list[int]


def first_subtoken_labels(word_ids: Sequence[int | None], word_labels: Sequence[int]) -> list[int]:
    """Per sub-token: the word's label at its first sub-token, IGNORE_INDEX at later ones and at
    special tokens (word id None). len(result) = len(word_ids)."""
    out, previous = [], None
    for w in word_ids:
        out.append(word_labels[w] if w is not None and w != previous else IGNORE_INDEX)
        previous = w
    return out


def encode_tagged(
    tokenizer, sentences: Sequence[TaggedSentence], label_ids: Mapping[str, int], max_length: int
) -> EncodedTagging:
    """Tokenize pre-split words (fast tokenizer) and align one label per word."""
    enc = tokenizer(
        [list(s.words) for s in sentences],
        is_split_into_words=True,
        truncation=True,
        max_length=max_length,
    )
    features, label_words = [], []
    for i, sentence in enumerate(sentences):
        unknown = set(sentence.tags) - set(label_ids)
        if unknown:
            raise IncompatibleInputsError(
                f"tags {sorted(unknown)} are not in the label set {list(label_ids)}"
            )
        word_ids = enc.word_ids(i)
        labels = first_subtoken_labels(word_ids, [label_ids[t] for t in sentence.tags])
        features.append({"input_ids": enc["input_ids"][i], "labels": labels})
        label_words.append(
            [w for w, lab in zip(word_ids, labels, strict=True) if lab != IGNORE_INDEX]
        )
    return EncodedTagging(features, label_words, [len(s.words) for s in sentences])


class TokenClassifier(nn.Module):
    """encoder → dropout → Linear(D, C) at every position; logits (B, L, C)."""

    def __init__(self, encoder: nn.Module, num_labels: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(encoder.config.hidden_size, num_labels)

    def forward(self, input_ids, attention_mask, labels=None) -> dict[str, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        logits = self.classifier(self.dropout(hidden))
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = _masked_cross_entropy(logits.flatten(0, 1), labels.flatten())
        return out


def _masked_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    if not (labels != IGNORE_INDEX).any():  # all words cut off: no loss, but keep the graph
        return logits.sum() * 0.0
    return F.cross_entropy(logits, labels, ignore_index=IGNORE_INDEX)


def decode_tags(logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> tuple[list, list]:
    """(predicted, gold) label ids per sentence at its labelled positions."""
    keep = batch["labels"] != IGNORE_INDEX
    pred = logits.argmax(-1)
    return (
        [p[k].tolist() for p, k in zip(pred, keep, strict=True)],
        [g[k].tolist() for g, k in zip(batch["labels"], keep, strict=True)],
    )


def tag_scores(
    metric: str, labels: Sequence[str], gold: list[list[int]], pred: list[list[int]]
) -> dict[str, float]:
    """`ner`: seqeval entity P/R/F1; `pos`: accuracy + XTREME-style F1. Ids → tag strings first."""
    gold_tags = [[labels[i] for i in s] for s in gold]
    pred_tags = [[labels[i] for i in s] for s in pred]
    return (
        entity_scores(gold_tags, pred_tags) if metric == "ner" else pos_scores(gold_tags, pred_tags)
    )


@torch.no_grad()
def predict_tags(
    model: nn.Module, encoded: EncodedTagging, pad_id: int, batch_size: int = 32
) -> list[list[int]]:
    """Predicted label id per word of every sentence. Words without a labelled position (cut off
    by max_length, or tokenized to nothing) get label 0 — put `O` first so that counts as a miss."""
    model.eval()
    device = next(model.parameters()).device
    order = np.argsort([len(f["input_ids"]) for f in encoded.features], kind="stable")
    at_positions: list[list[int]] = [[] for _ in order]
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        batch = {
            k: v.to(device)
            for k, v in pad_batch([encoded.features[i] for i in chunk], pad_id).items()
        }
        logits = model(batch["input_ids"], batch["attention_mask"])["logits"]
        for i, pred in zip(chunk, decode_tags(logits, batch)[0], strict=True):
            at_positions[i] = pred
    out = []
    for words, preds, n in zip(encoded.label_words, at_positions, encoded.word_counts, strict=True):
        tags = [0] * n
        for w, p in zip(words, preds, strict=True):
            tags[w] = p
        out.append(tags)
    return out


def test_scores(
    model: nn.Module,
    tokenizer,
    sentences: Sequence[TaggedSentence],
    labels: Sequence[str],
    metric: str,
    cfg: FineTuneConfig,
) -> dict[str, float]:
    """`tag_scores` of the fine-tuned `model` on one test language's sentences."""
    label_ids = {tag: i for i, tag in enumerate(labels)}
    encoded = encode_tagged(tokenizer, sentences, label_ids, cfg.max_length)
    pred = predict_tags(model, encoded, tokenizer.pad_token_id, cfg.eval_batch_size)
    gold = [[label_ids[t] for t in s.tags] for s in sentences]
    return tag_scores(metric, labels, gold, pred)


def zero_shot_tagging(
    encoder: nn.Module,
    tokenizer,
    train: Sequence[TaggedSentence],
    dev: Sequence[TaggedSentence],
    tests: Mapping[str, Sequence[TaggedSentence]],
    labels: Sequence[str],
    metric: str,
    cfg: FineTuneConfig,
    seed: int,
    hw: TrainerConfig | None = None,
) -> dict[str, Any]:
    """Fine-tune encoder + head on train, keep the best epoch on dev, score every test language:
    {"average", "per_language", "fine_tune"}. `labels[0]` is the fallback for words without a
    prediction (use `O` for NER); `metric` is `ner` or `pos`."""
    label_ids = {tag: i for i, tag in enumerate(labels)}
    enc_train, enc_dev = (
        encode_tagged(tokenizer, s, label_ids, cfg.max_length) for s in (train, dev)
    )
    model, result = fine_tune_head(
        lambda: TokenClassifier(encoder, len(labels), cfg.dropout),
        enc_train.features,
        enc_dev.features,
        tokenizer.pad_token_id,
        decode_tags,
        lambda p, g: tag_scores(metric, labels, g, p)["f1"],
        cfg,
        seed,
        hw,
    )
    per_language = {
        lang: test_scores(model, tokenizer, sentences, labels, metric, cfg)
        for lang, sentences in tests.items()
    }
    return {
        "average": average_over_languages(per_language),
        "per_language": per_language,
        "fine_tune": vars(result),
    }
