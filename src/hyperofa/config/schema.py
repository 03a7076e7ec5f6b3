"""Typed run configuration. Hydra composes YAML from conf/; `to_run_config` validates it into these
dataclasses before any work starts, so a wrong type or an out-of-range value fails with a message
naming the key. Library code takes these objects, never a raw DictConfig."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from hyperofa.errors import ConfigError

# `pretrain` runs only when listed; `evaluate` scores the assembled model (step 0) and, after
# `pretrain`, the continued pre-trained one too
STAGES = ("match", "factorize", "copy", "initialize", "assemble", "pretrain", "evaluate")
DOWNSTREAM_TASKS = ("sr_t", "sr_b", "ner", "pos", "taxi1500", "embedded_pos")


@dataclass
class ModelConfig:
    name: str = "e5_small"
    path: str | None = (
        None  # a transformers *ForMaskedLM dir; null = the embedded default (e5-small)
    )
    tokenizer_path: str | None = None  # source tokenizer; null = the model dir
    # the embedded model that `path: null` builds: e5_small (multilingual-e5-small, XLM-R
    # Unigram) | minilm_en (English all-MiniLM-L6-v2, BERT WordPiece; the paper's mono setting)
    embedded: str = "e5_small"


@dataclass
class TokenizerConfig:
    """The target tokenizer: given by path (e.g. Glot500), or the source one extended on text."""

    name: str = "udhr_extended"
    path: str | None = None
    vocab_size: int = 8000  # SentencePiece pieces trained on the langset's train text
    seed: int = 0


@dataclass
class WordGraphConfig:
    """Knobs of the embedded ColexNet-style word vectors (DESIGN §4.1)."""

    dim: int = 100
    walks_per_node: int = 3
    walk_length: int = 10
    window: int = 3
    epochs: int = 2
    min_paragraphs: int = 2
    min_cooccurrence: int = 2
    max_english_share: float = 0.5
    top_english: int = 3
    min_dice: float = 0.3
    use_cldr: bool = True
    seed: int = 42
    # all: every UDHR language (~440); run: English + the source-text languages + the langset
    # (incl. its held-out languages) — 5× fewer nodes, so skip-gram fits the demo's budget
    language_scope: str = "run"


@dataclass
class WordVectorsConfig:
    name: str = "udhr_graph"
    path: str | None = None  # word2vec text/binary file; null = build from UDHR (embedded default)
    format: str = "auto"  # auto | word2vec | word2vec_binary | gensim
    unprefixed_keys: str = "error"  # error | english (public OFA code reads `word` as `eng:word`)
    trust_pickle: bool = False  # a gensim .wv is a pickle: only from a trusted source
    graph: WordGraphConfig = field(default_factory=WordGraphConfig)


@dataclass
class FactorizeConfig:
    dim: int | None = None  # D'; null = no factorization


@dataclass
class LangsetConfig:
    name: str = "demo30"
    languages: list[str] = field(default_factory=list)  # UDHR file codes / corpus language names
    heldout_languages: list[str] = field(default_factory=list)  # not used to build the tokenizer


@dataclass
class SourceTextConfig:
    """Languages XLM-R/e5 know well: the MLM-head warm-up text of the embedded default."""

    languages: list[str] = field(default_factory=list)
    warmup_steps: int = 40
    warmup_batch_size: int = 16
    warmup_lr: float = 2e-3
    max_length: int = 128


@dataclass
class AssetsConfig:
    udhr_version: str = "6.0.0"
    heldout_articles: list[int] = field(default_factory=list)  # evaluation only; never trained on
    source_text: SourceTextConfig = field(default_factory=SourceTextConfig)


@dataclass
class EvalConfig:
    tasks: list[str] = field(default_factory=lambda: ["mlm_heldout", "sr_udhr"])
    layer: int = 8  # hidden_states[8]: the 8th layer's output, as in SR-B/SR-T (DESIGN §3.5)
    max_length: int = 128
    batch_size: int = 16
    mlm_probability: float = 0.15
    max_texts_per_language: int | None = None  # cap for quick looks; null = every held-out text
    evaluate_source: bool = True  # also score the unextended source model (cached)
    # sr_udhr queries: `run` = the langset and its held-out languages; `all` = every UDHR
    # language whose held-out articles are paragraph-parallel with English (~440)
    udhr_languages: str = "run"
    # Downstream tasks, one node per task composed from conf/eval/<name>.yaml (`eval=[step0,pos]`);
    # null = not run. Each is validated into its task's dataclass (hyperofa.evaluate.tasks).
    sr_t: Any = None
    sr_b: Any = None
    ner: Any = None
    pos: Any = None
    taxi1500: Any = None
    embedded_pos: Any = None

    def downstream(self) -> dict[str, Any]:
        """task name → its raw config, for every downstream task composed into this run."""
        return {name: getattr(self, name) for name in DOWNSTREAM_TASKS if getattr(self, name)}


@dataclass
class RunConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    word_vectors: WordVectorsConfig = field(default_factory=WordVectorsConfig)
    factorize: FactorizeConfig = field(default_factory=FactorizeConfig)
    initializer: Any = MISSING  # {_target_: builder, name, …}; checked by its builder
    hypernet: Any = None  # the hypernet group (model + train), validated by hypernet.config
    langset: LangsetConfig = field(default_factory=LangsetConfig)
    assets: AssetsConfig = field(default_factory=AssetsConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    pretrain: Any = None  # the pretrain group, validated by hyperofa.pretrain.config
    trainer: Any = None  # a build_trainer partial (conf/trainer); null = one CPU, fp32
    logger: Any = None  # a logger builder (conf/logger); CSV is always written
    stages: list[str] = field(default_factory=lambda: [s for s in STAGES if s != "pretrain"])
    seed: int = 42
    run_dir: str = "."


def to_run_config(cfg: DictConfig) -> RunConfig:
    """Merge into the schema (type errors name the key), then check values across keys."""
    known = {k: cfg[k] for k in cfg if k != "hydra" and k in RunConfig.__dataclass_fields__}
    try:
        merged = OmegaConf.merge(OmegaConf.structured(RunConfig), known)
        run = OmegaConf.to_object(merged)
    except OmegaConfBaseException as e:
        key = getattr(e, "full_key", None) or "?"
        raise ConfigError(str(key), getattr(e, "value", None), str(e).splitlines()[0]) from None
    validate(run)
    return run


def validate(run: RunConfig) -> None:
    """Value checks that need no files (file checks come in `inputs.resolve`)."""
    for stage in run.stages:
        if stage not in STAGES:
            raise ConfigError("stages", stage, f"one of {list(STAGES)}")
    if run.factorize.dim is not None and run.factorize.dim <= 0:
        raise ConfigError("factorize.dim", run.factorize.dim, "null or a positive integer")
    if run.word_vectors.graph.language_scope not in ("all", "run"):
        raise ConfigError(
            "word_vectors.graph.language_scope", run.word_vectors.graph.language_scope, "all | run"
        )
    if run.word_vectors.unprefixed_keys not in ("error", "english"):
        raise ConfigError(
            "word_vectors.unprefixed_keys", run.word_vectors.unprefixed_keys, "error | english"
        )
    if run.word_vectors.format not in ("auto", "word2vec", "word2vec_binary", "gensim"):
        raise ConfigError(
            "word_vectors.format",
            run.word_vectors.format,
            "auto | word2vec | word2vec_binary | gensim",
        )
    if not isinstance(run.initializer, dict) or "_target_" not in run.initializer:
        raise ConfigError("initializer", run.initializer, "a config group option with `_target_`")
    if not run.langset.languages:
        raise ConfigError("langset.languages", [], "at least one language")
    if run.tokenizer.path is None and run.tokenizer.vocab_size < 100:
        raise ConfigError("tokenizer.vocab_size", run.tokenizer.vocab_size, "≥ 100 pieces")
    if run.eval.udhr_languages not in ("run", "all"):
        raise ConfigError("eval.udhr_languages", run.eval.udhr_languages, "run | all")
    if not 0 < run.eval.mlm_probability < 1:
        raise ConfigError(
            "eval.mlm_probability", run.eval.mlm_probability, "a probability in (0, 1)"
        )


def initializer_name(run: RunConfig) -> str:
    return str(run.initializer.get("name", run.initializer["_target_"].rsplit(".", 2)[-2]))
