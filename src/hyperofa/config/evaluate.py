"""Typed configs of evaluation: the step-0 tasks (conf/eval/step0.yaml) and the downstream tasks,
one node each, composed by the `eval` list (`eval=[step0,pos]` → conf/eval/pos.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from hyperofa.config.enums import StepZeroTask, UdhrLanguages
from hyperofa.config.rules import Rule, in_unit, non_negative, positive, probability, ruled

_KS = Rule(lambda v: len(v) > 0 and min(v) > 0, "a non-empty list of k > 0")


@dataclass
class FineTuneConfig:
    """Training knobs shared by tagging and classification (defaults: the NER/POS paper values)."""

    epochs: int = positive(10)
    lr: float = positive(2e-5)
    head_lr: float | None = positive(None)  # learning rate of the fresh head; null = lr (papers)
    weight_decay: float = non_negative(0.0)
    warmup_ratio: float = in_unit(0.0)
    batch_size: int = positive(8)
    accumulate_grad_batches: int = positive(4)  # effective batch = batch_size × this
    eval_batch_size: int = positive(32)
    max_length: int = positive(256)
    dropout: float = ruled(0.1, Rule(lambda v: 0 <= v < 1, "0 <= dropout < 1"))
    max_grad_norm: float = positive(1.0)
    freeze_word_embeddings: bool = False
    freeze_layers: int = non_negative(0)  # > 0: embeddings and the lowest N layers take no updates


@dataclass
class RetrievalTaskConfig:
    """SR-T (Tatoeba) or SR-B (PBC Bible): target-language sentences → English, top-k."""

    task: str | None = None  # set by conf/eval/<task>.yaml: a composed task
    path: str | None = None
    # file codes (`deu`, `deu_Latn`: either form matches the other) or, SR-B, PBC editions
    # (`deu-x-bible-bolsinger`); null = every language found under `path` but English
    languages: list[str] | None = None
    english: str = "eng"  # the English side: a code (`eng` matches `eng_Latn`) or a PBC edition
    max_sentences: int | None = positive(None)  # per language (SR-B only; Tatoeba pairs whole)
    layer: int = non_negative(8)
    ks: list[int] = ruled([1, 5, 10], _KS)
    max_length: int = positive(128)
    batch_size: int = positive(32)


@dataclass
class TaggingTaskConfig:
    """NER (WikiANN) or POS (UD): fine-tune on `source_language`, zero-shot on the others."""

    task: str | None = None
    path: str | None = None
    source_language: str = "en"
    languages: list[str] | None = None  # test languages; null = every one with a test file
    max_train_sentences: int | None = positive(None)
    max_eval_sentences: int | None = positive(None)  # per dev / test set
    finetune: FineTuneConfig = field(default_factory=FineTuneConfig)


@dataclass
class ClassificationTaskConfig:
    """Taxi1500: 6-class verse classification, zero-shot from `source_language`."""

    task: str | None = None
    path: str | None = None
    source_language: str = "eng"
    languages: list[str] | None = None
    max_train_sentences: int | None = positive(None)
    max_eval_sentences: int | None = positive(None)
    finetune: FineTuneConfig = field(default_factory=FineTuneConfig)


@dataclass
class EmbeddedPosTaskConfig:
    """The embedded default's zero-shot POS pair: Turkish UD → Indonesian UD."""

    task: str | None = None
    train_sentences: int | None = positive(None)  # Turkish train subset; null = all (~4.6k)
    dev_sentences: int = positive(250)
    split_seed: int = non_negative(0)  # fixed, so the split does not move with the run seed
    finetune: FineTuneConfig = field(default_factory=FineTuneConfig)


@dataclass
class EvalConfig:
    tasks: list[StepZeroTask] = field(
        default_factory=lambda: [StepZeroTask.mlm_heldout, StepZeroTask.sr_udhr]
    )
    layer: int = non_negative(8)  # hidden_states[8]: the 8th layer's output (SR-B/SR-T)
    max_length: int = positive(128)
    batch_size: int = positive(16)
    mlm_probability: float = probability(0.15)
    max_texts_per_language: int | None = positive(None)  # null = every held-out text
    evaluate_source: bool = True  # also score the unextended source model (cached)
    udhr_languages: UdhrLanguages = UdhrLanguages.run
    continuation_words: int = positive(6)  # prompt: the first N words of a held-out paragraph
    continuation_tokens: int = positive(16)  # greedy new tokens per prompt
    # Downstream tasks: a node is composed by the `eval` list and then carries `task`
    sr_t: RetrievalTaskConfig | None = None
    sr_b: RetrievalTaskConfig | None = None
    ner: TaggingTaskConfig | None = None
    pos: TaggingTaskConfig | None = None
    taxi1500: ClassificationTaskConfig | None = None
    embedded_pos: EmbeddedPosTaskConfig | None = None

    def downstream(self) -> dict[str, object]:
        """Task name → its config, for every downstream task composed into this run."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name in DOWNSTREAM_TASKS and getattr(self, f.name) is not None
        }

    def step0(self) -> dict[str, object]:
        """The step-0 settings alone (what a step-0 evaluation's cache key depends on)."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in DOWNSTREAM_TASKS
        }


DOWNSTREAM_TASKS = ("sr_t", "sr_b", "ner", "pos", "taxi1500", "embedded_pos")
