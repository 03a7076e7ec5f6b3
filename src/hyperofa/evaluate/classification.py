"""Zero-shot sequence classification (Taxi1500): fine-tune on the source language, best epoch by
dev macro-F1, then macro-F1 on each language's test set."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from hyperofa.config.evaluate import FineTuneConfig
from hyperofa.config.training import TrainerConfig
from hyperofa.errors import IncompatibleInputsError
from hyperofa.evaluate.datasets import LabelledText
from hyperofa.evaluate.finetune import fine_tune_head, pad_batch
from hyperofa.evaluate.metrics import accuracy, average_over_languages, macro_f1


class SequenceClassifier(nn.Module):
    """First token (<s> / [CLS]) → dropout → dense → tanh → dropout → Linear(D, C); logits (B, C).

    RoBERTa's classification head: the assembled encoder has no pooler.
    """

    def __init__(self, encoder: nn.Module, num_labels: int, dropout: float = 0.1):
        super().__init__()
        hidden = encoder.config.hidden_size
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, num_labels)

    def forward(self, input_ids, attention_mask, labels=None) -> dict[str, torch.Tensor]:
        first = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state[
            :, 0
        ]
        logits = self.out(self.dropout(torch.tanh(self.dense(self.dropout(first)))))
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = nn.functional.cross_entropy(logits, labels)
        return out


def encode_texts(
    tokenizer, rows: Sequence[LabelledText], class_ids: Mapping[str, int], max_length: int
) -> list[dict[str, Any]]:
    """One feature per row: truncated input ids and the class id."""
    unknown = {r.label for r in rows} - set(class_ids)
    if unknown:
        raise IncompatibleInputsError(
            f"labels {sorted(unknown)} are not in the class set {list(class_ids)}"
        )
    enc = tokenizer([r.text for r in rows], truncation=True, max_length=max_length)
    return [
        {"input_ids": ids, "labels": class_ids[r.label]}
        for ids, r in zip(enc["input_ids"], rows, strict=True)
    ]


def decode_classes(logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> tuple[list, list]:
    """(predicted, gold) class ids of the batch."""
    return logits.argmax(-1).tolist(), batch["labels"].tolist()


@torch.no_grad()
def predict_classes(
    model: nn.Module, features: list[dict[str, Any]], pad_id: int, batch_size: int = 32
) -> list[int]:
    """Predicted class id per feature, in input order."""
    model.eval()
    device = next(model.parameters()).device
    order = np.argsort([len(f["input_ids"]) for f in features], kind="stable")
    out = [0] * len(features)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        batch = pad_batch([features[i] for i in chunk], pad_id)
        logits = model(batch["input_ids"].to(device), batch["attention_mask"].to(device))["logits"]
        for i, p in zip(chunk, logits.argmax(-1).tolist(), strict=True):
            out[i] = p
    return out


def zero_shot_classification(
    encoder: nn.Module,
    tokenizer,
    train: Sequence[LabelledText],
    dev: Sequence[LabelledText],
    tests: Mapping[str, Sequence[LabelledText]],
    classes: Sequence[str],
    cfg: FineTuneConfig,
    seed: int,
    hw: TrainerConfig | None = None,
) -> dict[str, Any]:
    """Fine-tune encoder + head on train, keep the epoch with the best dev macro-F1, score every
    test language (macro-F1, accuracy). Returns {"average", "per_language", "fine_tune"}."""
    class_ids = {c: i for i, c in enumerate(classes)}
    pad_id = tokenizer.pad_token_id
    train_f, dev_f = (
        encode_texts(tokenizer, rows, class_ids, cfg.max_length) for rows in (train, dev)
    )
    model, result = fine_tune_head(
        lambda: SequenceClassifier(encoder, len(classes), cfg.dropout),
        train_f,
        dev_f,
        pad_id,
        decode_classes,
        lambda p, g: macro_f1(g, p),
        cfg,
        seed,
        hw,
    )
    per_language = {}
    for lang, rows in tests.items():
        features = encode_texts(tokenizer, rows, class_ids, cfg.max_length)
        pred = predict_classes(model, features, pad_id, cfg.eval_batch_size)
        gold = [f["labels"] for f in features]
        per_language[lang] = {"macro_f1": macro_f1(gold, pred), "accuracy": accuracy(gold, pred)}
    return {
        "average": average_over_languages(per_language),
        "per_language": per_language,
        "fine_tune": vars(result),
    }
