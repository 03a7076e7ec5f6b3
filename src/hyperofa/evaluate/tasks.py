"""Evaluation tasks as plug-ins: one Protocol, a registry from config name to task, and the typed
config each task validates its YAML into (conf/eval/<name>.yaml).

A task reads its data by path, loads the model dir afresh (fine-tuning changes the weights), runs
the pure functions of retrieval / tagging / classification and returns
{"average": {metric: value}, "per_language": {lang: {metric: value}}} (+ "fine_tune" history).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from transformers import AutoConfig, AutoModel, AutoTokenizer

from hyperofa.assemble.modeling import CONFIG_KEY, AssembledForMaskedLM
from hyperofa.config.evaluate import (
    ClassificationTaskConfig,
    EmbeddedPosTaskConfig,
    RetrievalTaskConfig,
    TaggingTaskConfig,
)
from hyperofa.config.training import TrainerConfig
from hyperofa.errors import ConfigError, EmptyInputError, require_path
from hyperofa.evaluate import datasets
from hyperofa.evaluate.classification import zero_shot_classification
from hyperofa.evaluate.embedded_pos import UPOS_TAGS, turkish_indonesian_pos
from hyperofa.evaluate.retrieval import retrieval_scores
from hyperofa.evaluate.tagging import zero_shot_tagging

EVAL_SUBSET_SEED = 0


class EvalTask(Protocol):
    """A plug-in evaluation: `run` returns {"average": {...}, "per_language": {...}}."""

    name: str

    def run(self, model_dir: Path, cfg: Any, seed: int, hw: TrainerConfig) -> dict[str, Any]: ...


def load_encoder(model_dir: str | Path):
    """(encoder, tokenizer) of an assembled model dir, or of a plain transformers dir."""
    model_dir = require_path(model_dir, "model dir to evaluate", "a dir written by save_pretrained")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if isinstance(getattr(AutoConfig.from_pretrained(model_dir), CONFIG_KEY, None), dict):
        return AssembledForMaskedLM.from_pretrained(model_dir).encoder, tokenizer
    return AutoModel.from_pretrained(model_dir).eval(), tokenizer


def subset(items: Sequence, n: int | None, seed: int) -> list:
    """Up to n items drawn without replacement (seeded), kept in their original order."""
    if n is None or n >= len(items):
        return list(items)
    keep = np.sort(np.random.default_rng(seed).choice(len(items), n, replace=False))
    return [items[i] for i in keep]


@dataclass
class RetrievalTask:
    """SR-T (XTREME Tatoeba pairs) or SR-B (PBC Bible aligned by verse id): target → English."""

    name: str
    fmt: str  # "tatoeba" | "bible"

    def run(
        self, model_dir: Path, cfg: RetrievalTaskConfig, seed: int, hw: TrainerConfig
    ) -> dict[str, Any]:
        if self.fmt == "tatoeba":
            pairs = datasets.load_tatoeba(cfg.path, cfg.languages)
        else:
            pairs = datasets.load_bible(cfg.path, cfg.languages, cfg.english, cfg.max_sentences)
        encoder, tokenizer = load_encoder(model_dir)
        scores = retrieval_scores(
            encoder,
            tokenizer,
            pairs,
            ks=cfg.ks,
            layer=cfg.layer,
            max_length=cfg.max_length,
            batch_size=cfg.batch_size,
        )
        return {"average": scores.pop("average"), "per_language": scores}


def _splits(load, cfg, languages: Sequence[str], seed: int) -> tuple[list, list, dict[str, list]]:
    """(source train, source dev, {language: test}) via `load(path, lang, split)`, capped.

    Train is subsampled with the run seed; dev and test with a fixed one, so that every seed is
    scored on the same sentences.
    """
    src, n_train, n_eval = cfg.source_language, cfg.max_train_sentences, cfg.max_eval_sentences
    train = subset(load(cfg.path, src, "train"), n_train, seed)
    dev = subset(load(cfg.path, src, "dev"), n_eval, EVAL_SUBSET_SEED)
    tests = {
        lang: subset(load(cfg.path, lang, "test"), n_eval, EVAL_SUBSET_SEED) for lang in languages
    }
    return train, dev, tests


@dataclass
class TaggingTask:
    """NER (XTREME WikiANN) or POS (UD CoNLL-U): zero-shot from `source_language`."""

    name: str  # "ner" | "pos"

    def run(
        self, model_dir: Path, cfg: TaggingTaskConfig, seed: int, hw: TrainerConfig
    ) -> dict[str, Any]:
        found = datasets.find_language_files(cfg.path, _format(self.name), "test")
        load = datasets.load_wikiann if self.name == "ner" else datasets.load_ud
        train, dev, tests = _splits(load, cfg, cfg.languages or sorted(found), seed)
        if self.name == "ner":
            tags = {t for s in train for t in s.tags} - {"O"}
            labels = ["O", *sorted(tags)]  # `O` first: the label of words left without a prediction
        else:
            labels = list(UPOS_TAGS)
        encoder, tokenizer = load_encoder(model_dir)
        return zero_shot_tagging(
            encoder, tokenizer, train, dev, tests, labels, self.name, cfg.finetune, seed, hw
        )


@dataclass
class Taxi1500Task:
    """Taxi1500: 6-class verse classification, zero-shot from `source_language`."""

    name: str = "taxi1500"

    def run(
        self, model_dir: Path, cfg: ClassificationTaskConfig, seed: int, hw: TrainerConfig
    ) -> dict[str, Any]:
        found = datasets.find_language_files(cfg.path, "taxi1500", "test")
        train, dev, tests = _splits(
            datasets.load_taxi1500, cfg, cfg.languages or sorted(found), seed
        )
        encoder, tokenizer = load_encoder(model_dir)
        return zero_shot_classification(
            encoder,
            tokenizer,
            train,
            dev,
            tests,
            datasets.TAXI1500_CLASSES,
            cfg.finetune,
            seed,
            hw,
        )


@dataclass
class EmbeddedPosTask:
    """The embedded default's POS pair: Turkish UD (train/dev) → Indonesian UD (test)."""

    name: str = "embedded_pos"

    def run(
        self, model_dir: Path, cfg: EmbeddedPosTaskConfig, seed: int, hw: TrainerConfig
    ) -> dict[str, Any]:
        train, dev, test = turkish_indonesian_pos(
            cfg.train_sentences, cfg.dev_sentences, cfg.split_seed
        )
        encoder, tokenizer = load_encoder(model_dir)
        result = zero_shot_tagging(
            encoder,
            tokenizer,
            train,
            dev,
            {"ind": test},
            list(UPOS_TAGS),
            "pos",
            cfg.finetune,
            seed,
            hw,
        )
        result["counts"] = {"train": len(train), "dev": len(dev), "test": len(test)}
        return result


TASKS: dict[str, EvalTask] = {
    "sr_t": RetrievalTask("sr_t", "tatoeba"),
    "sr_b": RetrievalTask("sr_b", "bible"),
    "ner": TaggingTask("ner"),
    "pos": TaggingTask("pos"),
    "taxi1500": Taxi1500Task(),
    "embedded_pos": EmbeddedPosTask(),
}


def get_task(name: str) -> EvalTask:
    if name not in TASKS:
        raise ConfigError(f"eval.{name}", name, f"a registered eval task, one of {sorted(TASKS)}")
    return TASKS[name]


def check_task(name: str, cfg: Any) -> None:
    """Start-up check of a composed task's data (before any heavy stage)."""
    task = get_task(name)
    if hasattr(cfg, "path"):
        require_path(cfg.path, f"eval.{task.name}.path", datasets.LAYOUTS.get(_format(name), ""))


def run_task(name: str, model_dir: str | Path, cfg: Any, seed: int, hw: TrainerConfig) -> dict:
    """Run one composed task on a model dir; EmptyInputError if it produced no language."""
    result = get_task(name).run(Path(model_dir), cfg, seed, hw)
    if not result.get("per_language"):
        raise EmptyInputError(f"eval task `{name}`: no language was evaluated")
    return result


def _format(name: str) -> str:
    return {"sr_t": "tatoeba", "sr_b": "bible", "ner": "wikiann", "pos": "ud"}.get(name, name)
