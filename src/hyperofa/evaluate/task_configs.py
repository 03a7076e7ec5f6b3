"""The typed config each evaluation task validates its YAML into (conf/eval/<name>.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING

from hyperofa.evaluate.finetune import FineTuneConfig


@dataclass
class RetrievalTaskConfig:
    task: str = "sr_t"
    path: str = MISSING
    # file codes (`deu`, `deu_Latn`: either form matches the other) or, SR-B, PBC editions
    # (`deu-x-bible-bolsinger`); null = every language found under `path` but English
    languages: list[str] | None = None
    english: str = "eng"  # the English side: a code (`eng` matches `eng_Latn`) or a PBC edition
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
