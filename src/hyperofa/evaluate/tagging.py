"""Zero-shot token classification (NER, POS): fine-tune on the source language, tag the others.

Plain functions and modules: first-sub-token label alignment, padding, a linear head on the
encoder, prediction back onto words. The training shell (`fine_tune`, shared with sequence
classification) is a thin LightningModule that keeps the best state by a dev score.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from hyperofa.errors import IncompatibleInputsError
from hyperofa.evaluate.datasets import TaggedSentence
from hyperofa.evaluate.metrics import average_over_languages, entity_scores, pos_scores

IGNORE = -100  # label of positions that take no loss and no prediction
Decode = Callable[[torch.Tensor, dict[str, torch.Tensor]], tuple[list, list]]
Score = Callable[[list, list], float]


@dataclass
class FineTuneConfig:
    """Training knobs shared by tagging and classification (defaults: the NER/POS paper values)."""

    epochs: int = 10
    lr: float = 2e-5
    head_lr: float | None = None  # learning rate of the fresh head; None = lr (the papers)
    weight_decay: float = 0.0
    warmup_ratio: float = 0.0
    batch_size: int = 8
    accumulate_grad_batches: int = 4  # effective batch = batch_size × accumulate_grad_batches
    eval_batch_size: int = 32
    max_length: int = 256
    dropout: float = 0.1
    max_grad_norm: float = 1.0
    freeze_word_embeddings: bool = False
    freeze_layers: int = 0  # > 0: the embeddings module and the lowest N layers take no updates
    progress_bar: bool = True


@dataclass
class FineTuneResult:
    best_score: float
    best_epoch: int
    dev_scores: list[float] = field(default_factory=list)  # one per epoch
    train_losses: list[float] = field(default_factory=list)  # mean per epoch


@dataclass
class EncodedTagging:
    """Model inputs per sentence, and which word each labelled position belongs to."""

    features: list[dict[str, list[int]]]
    label_words: list[list[int]]
    word_counts: list[int]


def first_subtoken_labels(word_ids: Sequence[int | None], word_labels: Sequence[int]) -> list[int]:
    """Per sub-token: the word's label at its first sub-token, IGNORE at later ones and at
    special tokens (word id None). len(result) = len(word_ids)."""
    out, previous = [], None
    for w in word_ids:
        out.append(word_labels[w] if w is not None and w != previous else IGNORE)
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
        label_words.append([w for w, lab in zip(word_ids, labels, strict=True) if lab != IGNORE])
    return EncodedTagging(features, label_words, [len(s.words) for s in sentences])


def pad_batch(features: Sequence[Mapping[str, Any]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad `input_ids` (pad_id) and list-valued `labels` (IGNORE); add attention_mask.
    (B, L) tensors; an int label becomes a (B,) tensor."""
    width = max(len(f["input_ids"]) for f in features)
    ids = torch.full((len(features), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(features), width), dtype=torch.long)
    for i, f in enumerate(features):
        ids[i, : len(f["input_ids"])] = torch.tensor(f["input_ids"])
        mask[i, : len(f["input_ids"])] = 1
    batch = {"input_ids": ids, "attention_mask": mask}
    if "labels" in features[0]:
        if isinstance(features[0]["labels"], int):
            batch["labels"] = torch.tensor([f["labels"] for f in features])
        else:
            batch["labels"] = torch.full((len(features), width), IGNORE, dtype=torch.long)
            for i, f in enumerate(features):
                batch["labels"][i, : len(f["labels"])] = torch.tensor(f["labels"])
    return batch


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
    if not (labels != IGNORE).any():  # all words cut off: no loss, but keep the graph
        return logits.sum() * 0.0
    return F.cross_entropy(logits, labels, ignore_index=IGNORE)


def decode_tags(logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> tuple[list, list]:
    """(predicted, gold) label ids per sentence at its labelled positions."""
    keep = batch["labels"] != IGNORE
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


class FineTuneModule(pl.LightningModule):
    """Steps, logging and the optimizer around a model whose forward returns {loss, logits};
    keeps a CPU copy of the state with the best dev score."""

    def __init__(self, model: nn.Module, decode: Decode, score: Score, cfg: FineTuneConfig):
        super().__init__()
        self.model, self.decode, self.score, self.cfg = model, decode, score, cfg
        self.result = FineTuneResult(best_score=-float("inf"), best_epoch=-1)
        self.best_state: dict[str, torch.Tensor] | None = None
        self._epoch_losses: list[float] = []
        self._pred: list = []
        self._gold: list = []

    def training_step(self, batch, batch_idx):
        loss = self.model(**batch)["loss"]
        self._epoch_losses.append(float(loss.detach()))
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def on_train_epoch_end(self) -> None:
        self.result.train_losses.append(float(np.mean(self._epoch_losses)))
        self._epoch_losses = []

    def validation_step(self, batch, batch_idx):
        pred, gold = self.decode(self.model(**batch)["logits"], batch)
        self._pred += pred
        self._gold += gold

    def on_validation_epoch_end(self) -> None:
        score = float(self.score(self._pred, self._gold))
        self._pred, self._gold = [], []
        self.result.dev_scores.append(score)
        self.log("val/score", score, prog_bar=True)
        if score > self.result.best_score:
            self.result.best_score, self.result.best_epoch = score, self.current_epoch
            self.best_state = {
                k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()
            }

    def configure_optimizers(self):
        encoder = {id(p) for p in self.model.encoder.parameters()}
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in trainable if id(p) in encoder], "lr": self.cfg.lr},
            {
                "params": [p for p in trainable if id(p) not in encoder],
                "lr": self.cfg.head_lr or self.cfg.lr,
            },
        ]
        optimizer = torch.optim.AdamW(groups, weight_decay=self.cfg.weight_decay)
        total = max(1, int(self.trainer.estimated_stepping_batches))
        warmup = int(self.cfg.warmup_ratio * total)

        def linear(step: int) -> float:  # linear warm-up, then linear decay to 0 (HF default)
            return (
                (step + 1) / warmup
                if step < warmup
                else max(0.0, (total - step) / max(1, total - warmup))
            )

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, linear)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }


def fine_tune(
    model: nn.Module,
    train: DataLoader,
    dev: DataLoader,
    decode: Decode,
    score: Score,
    cfg: FineTuneConfig,
    seed: int,
) -> FineTuneResult:
    """Train `model` for cfg.epochs, score dev after each epoch, load the best state back."""
    pl.seed_everything(seed, workers=True, verbose=False)
    freeze(model.encoder, cfg.freeze_word_embeddings, cfg.freeze_layers)
    model.train()  # Lightning keeps modules' modes, and from_pretrained returns eval mode
    module = FineTuneModule(model, decode, score, cfg)
    trainer = pl.Trainer(
        max_epochs=cfg.epochs,
        accumulate_grad_batches=cfg.accumulate_grad_batches,
        gradient_clip_val=cfg.max_grad_norm,
        accelerator="auto",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        enable_progress_bar=cfg.progress_bar,
    )
    trainer.fit(module, train, dev)
    model.load_state_dict(module.best_state)
    return module.result


def freeze(encoder: nn.Module, word_embeddings: bool, layers: int) -> None:
    """Stop updates to the word embeddings, and with layers > 0 to the whole embeddings module
    and the lowest `layers` transformer layers (BERT / XLM-R layout: `encoder.encoder.layer`)."""
    if word_embeddings:
        encoder.embeddings.word_embeddings.requires_grad_(False)
    if layers:
        encoder.embeddings.requires_grad_(False)
        for layer in encoder.encoder.layer[:layers]:
            layer.requires_grad_(False)


def loaders(
    train: list, dev: list, pad_id: int, cfg: FineTuneConfig, seed: int
) -> tuple[DataLoader, DataLoader]:
    """Shuffled (seeded) train batches; dev batches sorted by length (less padding)."""

    def collate(features):
        return pad_batch(features, pad_id)

    dev = sorted(dev, key=lambda f: len(f["input_ids"]))
    return (
        DataLoader(
            train,
            cfg.batch_size,
            shuffle=True,
            collate_fn=collate,
            generator=torch.Generator().manual_seed(seed),
        ),
        DataLoader(dev, cfg.eval_batch_size, collate_fn=collate),
    )


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
) -> dict[str, Any]:
    """Fine-tune encoder + head on train, keep the best epoch on dev, score every test language.

    `labels[0]` is the fallback for words without a prediction (use `O` for NER). `metric` is
    `ner` or `pos`. Returns {"average", "per_language", "fine_tune"}.
    """
    label_ids = {tag: i for i, tag in enumerate(labels)}
    pad_id = tokenizer.pad_token_id
    enc_train, enc_dev = (
        encode_tagged(tokenizer, s, label_ids, cfg.max_length) for s in (train, dev)
    )
    pl.seed_everything(seed, workers=True, verbose=False)  # the head's initialization
    model = TokenClassifier(encoder, len(labels), cfg.dropout)
    train_loader, dev_loader = loaders(enc_train.features, enc_dev.features, pad_id, cfg, seed)
    result = fine_tune(
        model,
        train_loader,
        dev_loader,
        decode_tags,
        lambda p, g: tag_scores(metric, labels, g, p)["f1"],
        cfg,
        seed,
    )
    per_language = {}
    for lang, sentences in tests.items():
        encoded = encode_tagged(tokenizer, sentences, label_ids, cfg.max_length)
        pred = predict_tags(model, encoded, pad_id, cfg.eval_batch_size)
        gold = [[label_ids[t] for t in s.tags] for s in sentences]
        per_language[lang] = tag_scores(metric, labels, gold, pred)
    return {
        "average": average_over_languages(per_language),
        "per_language": per_language,
        "fine_tune": vars(result),
    }
