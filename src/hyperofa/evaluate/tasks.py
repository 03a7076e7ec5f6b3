"""Evaluation tasks as plug-ins: one Protocol, a registry from config name to task, and the typed
config each task validates its YAML into (conf/eval/<name>.yaml).

A task reads its data by path, loads the model dir afresh (fine-tuning changes the weights), runs
the pure functions of retrieval / tagging / classification and returns
{"average": {metric: value}, "per_language": {lang: {metric: value}}} (+ "fine_tune" history).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from omegaconf import MISSING, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from transformers import AutoConfig, AutoModel, AutoTokenizer

from hyperofa.assemble.modeling import CONFIG_KEY, AssembledForMaskedLM
from hyperofa.errors import ConfigError, EmptyInputError, require_path
from hyperofa.evaluate import datasets
from hyperofa.evaluate.classification import zero_shot_classification
from hyperofa.evaluate.embedded_pos import UPOS_TAGS, turkish_indonesian_pos
from hyperofa.evaluate.finetune import FineTuneConfig
from hyperofa.evaluate.retrieval import retrieval_scores
from hyperofa.evaluate.tagging import zero_shot_tagging

EVAL_SUBSET_SEED = 0


class EvalTask(Protocol):
    """A plug-in evaluation: `run` returns {"average": {...}, "per_language": {...}}."""

    name: str
    config_class: type

    def run(self, model_dir: Path, cfg: Any, seed: int) -> dict[str, Any]: ...


@dataclass
class RetrievalTaskConfig:
    task: str = "sr_t"
    path: str = MISSING
    languages: list[str] | None = None  # null = every language found under `path`
    english: str = "eng"  # SR-B: the file code of the English Bible
    max_sentences: int | None = None  # per language (SR-B only; Tatoeba pairs are used whole)
    layer: int = 8
    ks: list[int] = field(default_factory=lambda: [1, 5, 10])
    max_length: int = 128
    batch_size: int = 32


@dataclass
class TaggingTaskConfig:
    task: str = "ner"
    path: str = MISSING
    source_language: str = "en"
    languages: list[str] | None = None  # test languages; null = every one with a test file
    max_train_sentences: int | None = None
    max_eval_sentences: int | None = None  # per dev / test set
    finetune: FineTuneConfig = field(default_factory=FineTuneConfig)


@dataclass
class ClassificationTaskConfig:
    task: str = "taxi1500"
    path: str = MISSING
    source_language: str = "eng"
    languages: list[str] | None = None
    max_train_sentences: int | None = None
    max_eval_sentences: int | None = None
    finetune: FineTuneConfig = field(default_factory=FineTuneConfig)


@dataclass
class EmbeddedPosTaskConfig:
    task: str = "embedded_pos"
    train_sentences: int | None = None  # Turkish train subset; null = all (~4.6k)
    dev_sentences: int = 250
    split_seed: int = 0  # fixed, so the split does not move with the run seed
    finetune: FineTuneConfig = field(default_factory=FineTuneConfig)


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
    config_class: type = RetrievalTaskConfig

    def run(self, model_dir: Path, cfg: RetrievalTaskConfig, seed: int) -> dict[str, Any]:
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
    config_class: type = TaggingTaskConfig

    def run(self, model_dir: Path, cfg: TaggingTaskConfig, seed: int) -> dict[str, Any]:
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
            encoder, tokenizer, train, dev, tests, labels, self.name, cfg.finetune, seed
        )


@dataclass
class Taxi1500Task:
    """Taxi1500: 6-class verse classification, zero-shot from `source_language`."""

    name: str = "taxi1500"
    config_class: type = ClassificationTaskConfig

    def run(self, model_dir: Path, cfg: ClassificationTaskConfig, seed: int) -> dict[str, Any]:
        found = datasets.find_language_files(cfg.path, "taxi1500", "test")
        train, dev, tests = _splits(
            datasets.load_taxi1500, cfg, cfg.languages or sorted(found), seed
        )
        encoder, tokenizer = load_encoder(model_dir)
        return zero_shot_classification(
            encoder, tokenizer, train, dev, tests, datasets.TAXI1500_CLASSES, cfg.finetune, seed
        )


@dataclass
class EmbeddedPosTask:
    """The embedded default's POS pair: Turkish UD (train/dev) → Indonesian UD (test)."""

    name: str = "embedded_pos"
    config_class: type = EmbeddedPosTaskConfig

    def run(self, model_dir: Path, cfg: EmbeddedPosTaskConfig, seed: int) -> dict[str, Any]:
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


def task_config(task: EvalTask, raw: Mapping[str, Any], key: str = "eval") -> Any:
    """Validate a task's YAML node into its dataclass; a bad or missing value names its key."""
    try:
        merged = OmegaConf.merge(OmegaConf.structured(task.config_class), raw)
        cfg = OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        raise ConfigError(
            f"{key}.{task.name}.{err.full_key or ''}".rstrip("."),
            getattr(err, "value", None),
            f"a valid `{task.name}` setting ({err.msg.splitlines()[0]})",
        ) from None
    if getattr(cfg, "path", None) is not None:
        require_path(
            cfg.path, f"`{key}.{task.name}.path`", datasets.LAYOUTS.get(_format(task.name), "")
        )
    return cfg


def run_task(name: str, model_dir: str | Path, raw: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """Look up, validate and run one task; EmptyInputError if it produced no language."""
    task = get_task(name)
    result = task.run(Path(model_dir), task_config(task, raw), seed)
    if not result.get("per_language"):
        raise EmptyInputError(f"eval task `{name}`: no language was evaluated")
    return result


def _format(name: str) -> str:
    return {"sr_t": "tatoeba", "sr_b": "bible", "ner": "wikiann", "pos": "ud"}.get(name, name)
