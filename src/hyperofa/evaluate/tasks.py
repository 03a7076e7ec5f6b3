"""Evaluation tasks as plug-ins: one Protocol and a registry from config name to task; each takes
its typed config (`hyperofa.config.evaluate`, validated at the entry point).

A task checks its data at start-up (`check`: every file it will read is found and its first lines
read in the expected layout, before any heavy stage), then, when run, reads the data by path, loads
the model dir afresh (fine-tuning changes the weights), runs the pure functions of retrieval /
tagging / classification and returns {"average": {metric: value}, "per_language": {lang: {metric:
value}}} (+ "fine_tune" history, or "sources": the file each retrieval language was read from).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from transformers import AutoTokenizer

from hyperofa.config.evaluate import (
    ClassificationTaskConfig,
    EmbeddedPosTaskConfig,
    EvalConfig,
    RetrievalTaskConfig,
    TaggingTaskConfig,
)
from hyperofa.config.training import TrainerConfig
from hyperofa.errors import ConfigError, EmptyInputError, require_path
from hyperofa.evaluate import datasets
from hyperofa.evaluate.classification import zero_shot_classification
from hyperofa.evaluate.embedded_pos import (
    AKSARA,
    TREEBANK,
    UPOS_TAGS,
    package_files,
    turkish_indonesian_pos,
)
from hyperofa.evaluate.retrieval import retrieval_scores
from hyperofa.evaluate.tagging import zero_shot_tagging
from hyperofa.models import encoder, load

log = logging.getLogger(__name__)

EVAL_SUBSET_SEED = 0


class EvalTask(Protocol):
    """A plug-in evaluation: `check` raises a named error if its data is not in the expected
    layout (cheap, called for every composed task before any heavy stage); `run` returns
    {"average": {...}, "per_language": {...}}."""

    name: str

    def check(self, cfg: Any) -> None: ...

    def run(self, model_dir: Path, cfg: Any, seed: int, hw: TrainerConfig) -> dict[str, Any]: ...


def load_encoder(model_dir: str | Path):
    """(encoder, tokenizer) of a saved model dir (its base model: hidden states, fine-tuning)."""
    model_dir = require_path(model_dir, "model dir to evaluate", "a dir written by save_pretrained")
    return encoder(load(model_dir)), AutoTokenizer.from_pretrained(model_dir)


def subset(items: Sequence, n: int | None, seed: int) -> list:
    """Up to n items drawn without replacement (seeded), kept in their original order."""
    if n is None or n >= len(items):
        return list(items)
    keep = np.sort(np.random.default_rng(seed).choice(len(items), n, replace=False))
    return [items[i] for i in keep]


@dataclass
class RetrievalTask:
    """SR-T (Tatoeba pairs) or SR-B (PBC Bibles aligned by verse id, or Glot500 pairs):
    target language → English."""

    name: str
    fmt: str  # "tatoeba" | "bible"

    def sources(self, cfg: RetrievalTaskConfig) -> dict[str, datasets.ParallelSource]:
        find = datasets.tatoeba_sources if self.fmt == "tatoeba" else datasets.bible_sources
        return find(cfg.path, cfg.languages, cfg.english)

    def check(self, cfg: RetrievalTaskConfig) -> None:
        datasets.check_parallel(self.sources(cfg))

    def run(
        self, model_dir: Path, cfg: RetrievalTaskConfig, seed: int, hw: TrainerConfig
    ) -> dict[str, Any]:
        sources = self.sources(cfg)
        english = sorted({s.english.name for s in sources.values()})
        log.info("%s: %d languages, English side %s", self.name, len(sources), ", ".join(english))
        max_sentences = cfg.max_sentences if self.fmt == "bible" else None
        pairs = datasets.load_parallel(sources, max_sentences)
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
        files = {name: [s.path.name, s.english.name] for name, s in sources.items()}
        return {"average": scores.pop("average"), "per_language": scores, "sources": files}


def _test_languages(data: datasets.SplitData, cfg) -> list[str]:
    languages = list(cfg.languages or data.languages("test"))
    if not languages:
        raise EmptyInputError(
            f"{data.layout.fmt}: no test file under {data.root}; expected "
            f"{datasets.layout(data.layout.fmt, 'test')}"
        )
    return languages


def _check_splits(data: datasets.SplitData, cfg) -> None:
    """Source train and dev, and the test file of every test language, found and readable."""
    data.check(cfg.source_language, "train")
    data.check(cfg.source_language, "dev")
    for lang in _test_languages(data, cfg):
        data.check(lang, "test")


def _splits(data: datasets.SplitData, cfg, seed: int) -> tuple[list, list, dict[str, list]]:
    """(source train, source dev, {language: test}), capped.

    Train is subsampled with the run seed; dev and test with a fixed one, so that every seed is
    scored on the same sentences.
    """
    src, n_train, n_eval = cfg.source_language, cfg.max_train_sentences, cfg.max_eval_sentences
    train = subset(data.load(src, "train"), n_train, seed)
    dev = subset(data.load(src, "dev"), n_eval, EVAL_SUBSET_SEED)
    tests = {
        lang: subset(data.load(lang, "test"), n_eval, EVAL_SUBSET_SEED)
        for lang in _test_languages(data, cfg)
    }
    return train, dev, tests


@dataclass
class TaggingTask:
    """NER (PAN-X / WikiANN) or POS (UD CoNLL-U, or udpos tsv): zero-shot from `source_language`."""

    name: str  # "ner" | "pos"

    def data(self, cfg: TaggingTaskConfig) -> datasets.SplitData:
        return datasets.ner_data(cfg.path) if self.name == "ner" else datasets.pos_data(cfg.path)

    def check(self, cfg: TaggingTaskConfig) -> None:
        _check_splits(self.data(cfg), cfg)

    def run(
        self, model_dir: Path, cfg: TaggingTaskConfig, seed: int, hw: TrainerConfig
    ) -> dict[str, Any]:
        train, dev, tests = _splits(self.data(cfg), cfg, seed)
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

    def check(self, cfg: ClassificationTaskConfig) -> None:
        _check_splits(datasets.taxi1500_data(cfg.path), cfg)

    def run(
        self, model_dir: Path, cfg: ClassificationTaskConfig, seed: int, hw: TrainerConfig
    ) -> dict[str, Any]:
        train, dev, tests = _splits(datasets.taxi1500_data(cfg.path), cfg, seed)
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

    def check(self, cfg: EmbeddedPosTaskConfig) -> None:
        """The two pinned PyPI distributions are installed and hold their data files."""
        package_files(*TREEBANK)
        package_files(*AKSARA)

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


def run_task(name: str, model_dir: str | Path, cfg: Any, seed: int, hw: TrainerConfig) -> dict:
    """Run one composed task on a model dir; EmptyInputError if it produced no language."""
    result = get_task(name).run(Path(model_dir), cfg, seed, hw)
    if not result.get("per_language"):
        raise EmptyInputError(f"eval task `{name}`: no language was evaluated")
    return result


def check_tasks(cfg: EvalConfig) -> None:
    """The start-up check of every downstream task composed into `cfg`."""
    for name, task in cfg.downstream().items():
        check_task(name, task)


def check_task(name: str, cfg: Any) -> None:
    """The start-up check of one composed task: its data path exists and its files are found and
    read in the expected layout."""
    task = get_task(name)
    if hasattr(cfg, "path"):
        require_path(cfg.path, f"`eval.{name}.path`", _layout(name))
    task.check(cfg)


def _layout(name: str) -> str:
    if name == "pos":
        return f"{datasets.layout('ud')}; or {datasets.layout('udpos')}"
    fmt = {"sr_t": "tatoeba", "sr_b": "bible", "ner": "wikiann"}.get(name, name)
    return datasets.layout(fmt) if fmt in datasets.LAYOUTS else ""
