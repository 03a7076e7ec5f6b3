"""The typed run configuration: one dataclass per config group (conf/<group>/*.yaml hold the same
fields with their provenance). `hyperofa.config.validate.to_run_config` turns a composed Hydra
config into a `RunConfig`; library code takes these objects (or a slice of them), never a raw
DictConfig.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hyperofa.config.enums import (
    EmbeddedModel,
    LanguageScope,
    Stage,
    UnprefixedKeys,
    WordVectorFormat,
)
from hyperofa.config.evaluate import EvalConfig
from hyperofa.config.hypernet import HypernetConfig
from hyperofa.config.initializers import InitializerConfig, OFAConfig
from hyperofa.config.pretrain import PretrainConfig
from hyperofa.config.rules import Rule, non_negative, positive, require, ruled
from hyperofa.config.training import LoggerConfig, TrainerConfig


@dataclass
class ModelConfig:
    name: str = "e5_small"
    path: str | None = None  # a transformers *ForMaskedLM dir; null = the embedded model below
    tokenizer_path: str | None = None  # source tokenizer; null = the model dir
    embedded: EmbeddedModel = EmbeddedModel.e5_small  # what `path: null` builds


@dataclass
class TokenizerConfig:
    """The target tokenizer: given by path (e.g. Glot500), or the source one extended on text."""

    name: str = "udhr_extended"
    path: str | None = None
    vocab_size: int = ruled(8000, Rule(lambda v: v >= 100, ">= 100 pieces"))
    seed: int = non_negative(0)


@dataclass
class WordGraphConfig:
    """Knobs of the embedded ColexNet-style word vectors (DESIGN §4.1)."""

    dim: int = positive(100)
    walks_per_node: int = positive(3)
    walk_length: int = ruled(10, Rule(lambda v: v >= 2, ">= 2 (a walk needs two nodes)"))
    window: int = positive(3)
    epochs: int = positive(2)
    min_paragraphs: int = positive(2)
    min_cooccurrence: int = positive(2)
    max_english_share: float = ruled(0.5, Rule(lambda v: 0 < v <= 1, "in (0, 1]"))
    top_english: int = positive(3)
    min_dice: float = ruled(0.3, Rule(lambda v: 0 <= v <= 1, "in [0, 1]"))
    use_cldr: bool = True
    seed: int = non_negative(42)
    language_scope: LanguageScope = LanguageScope.run


@dataclass
class WordVectorsConfig:
    name: str = "udhr_graph"
    path: str | None = None  # word2vec text/binary or gensim file; null = build from UDHR
    format: WordVectorFormat = WordVectorFormat.auto
    unprefixed_keys: UnprefixedKeys = UnprefixedKeys.error
    trust_pickle: bool = False  # a gensim .wv is a pickle: only from a trusted source
    graph: WordGraphConfig = field(default_factory=WordGraphConfig)


@dataclass
class FactorizeConfig:
    dim: int | None = positive(None)  # D'; null = no factorization (checked against D later)


@dataclass
class AssembleConfig:
    """How the target model is put together (DESIGN §3.6)."""

    # a tied source (Gemma, XLM-R's MLM head) gets an output matrix of its own, starting as a
    # copy of the initialized input rows (causal LMs only; an untied source is always untied)
    untie: bool = False


@dataclass
class LangsetConfig:
    name: str = "demo30"
    languages: list[str] = field(default_factory=list)  # UDHR file codes / corpus language names
    heldout_languages: list[str] = field(default_factory=list)  # not used to build the tokenizer

    def check(self, prefix: str) -> None:
        require(bool(self.languages), f"{prefix}.languages", [], "at least one language")


@dataclass
class SourceTextConfig:
    """Languages XLM-R/e5 know well: the MLM-head warm-up text of the embedded default."""

    languages: list[str] = field(default_factory=list)
    warmup_steps: int = non_negative(40)
    warmup_batch_size: int = positive(16)
    warmup_lr: float = positive(2e-3)
    max_length: int = positive(128)


@dataclass
class AssetsConfig:
    udhr_version: str = "6.0.0"
    heldout_articles: list[int] = field(default_factory=list)  # evaluation only
    source_text: SourceTextConfig = field(default_factory=SourceTextConfig)


@dataclass
class RunConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    word_vectors: WordVectorsConfig = field(default_factory=WordVectorsConfig)
    factorize: FactorizeConfig = field(default_factory=FactorizeConfig)
    initializer: InitializerConfig = field(default_factory=OFAConfig)  # one of initializers.py
    hypernet: HypernetConfig = field(default_factory=HypernetConfig)
    assemble: AssembleConfig = field(default_factory=AssembleConfig)
    langset: LangsetConfig = field(default_factory=LangsetConfig)
    assets: AssetsConfig = field(default_factory=AssetsConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    stages: list[Stage] = field(default_factory=lambda: [s for s in Stage if s != Stage.pretrain])
    seed: int = non_negative(42)
    run_dir: str = "."

    def check(self, prefix: str) -> None:
        require(bool(self.stages), "stages", [], f"one or more of {[s.value for s in Stage]}")

    @property
    def last_stage(self) -> Stage:
        """The furthest stage listed: the run computes it and, cached, everything before it."""
        return max(self.stages, key=list(Stage).index)

    def runs(self, stage: Stage) -> bool:
        """`stage` is computed: it is listed (pretrain, evaluate) or comes before the last one."""
        if stage in (Stage.pretrain, Stage.evaluate):
            return stage in self.stages
        return list(Stage).index(stage) <= list(Stage).index(self.last_stage)
