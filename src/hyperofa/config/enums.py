"""The closed choices of the config tree.

Member names are the lower-case spellings users write in YAML and on the command line, because
OmegaConf matches an enum field against member *names*; `StrEnum` makes each member equal to its
value string, so `Stage.match == "match"`.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """Pipeline stages in run order; `pretrain` runs only when listed."""

    match = "match"
    factorize = "factorize"
    copy = "copy"
    initialize = "initialize"
    assemble = "assemble"
    pretrain = "pretrain"
    evaluate = "evaluate"


class EmbeddedModel(StrEnum):
    e5_small = "e5_small"  # multilingual-e5-small, XLM-R Unigram vocabulary
    minilm_en = "minilm_en"  # English all-MiniLM-L6-v2, BERT WordPiece (the "mono" setting)
    gemma3_270m = "gemma3_270m"  # Gemma 3 270M base, a causal decoder (SentencePiece BPE, tied)


class WordVectorFormat(StrEnum):
    auto = "auto"
    word2vec = "word2vec"
    word2vec_binary = "word2vec_binary"
    gensim = "gensim"


class UnprefixedKeys(StrEnum):
    error = "error"
    english = "english"  # the public OFA code reads a key without `xxx:` as English


class LanguageScope(StrEnum):
    all = "all"  # every UDHR language
    run = "run"  # English + the source-text languages + the langset (and its held-out languages)


class UdhrLanguages(StrEnum):
    run = "run"  # the langset and its held-out languages
    all = "all"  # every UDHR language paragraph-parallel with English (~440)


class StepZeroTask(StrEnum):
    mlm_heldout = "mlm_heldout"  # masked LMs
    sr_udhr = "sr_udhr"
    bpb_heldout = "bpb_heldout"  # causal LMs: bits per UTF-8 byte, comparable across tokenizers
    fertility = "fertility"  # tokens per word and per byte of the held-out text
    continuations = "continuations"  # causal LMs: greedy continuations of held-out openings


MASKED_ONLY_TASKS = frozenset({StepZeroTask.mlm_heldout})
CAUSAL_ONLY_TASKS = frozenset({StepZeroTask.bpb_heldout, StepZeroTask.continuations})


class Initializer(StrEnum):
    random = "random"
    ofa = "ofa"
    hyperofa = "hyperofa"
    mean = "mean"  # every new row = the source mean (Hewitt 2021)
    normal = "normal"  # multivariate normal of the source rows (Hewitt 2021)
    fvt = "fvt"  # Fast Vocabulary Transfer (Gee et al. 2022)
    focus = "focus"  # FOCUS (Dobler & de Melo 2023)
    omp = "omp"  # Orthogonal Matching Pursuit (Goddard & Fernandes Neto 2025)
    manual = "manual"  # user-named rows only (`initializer.overrides`), the rest random
    stacked = "stacked"  # ours: a ridge stack of ofa, fvt and a script prior, fit on source tokens


class Calibration(StrEnum):
    """How `stacked` sets the length of its rows (a ridge map's predictions are shrunk)."""

    none = "none"  # the ridge predictions as they are
    spread = "spread"  # stretched about the fit rows' mean to their spread (measured on the fit)
    text = "text"  # scaled to the norm, of `text_norms`, with the lowest loss on training text


class AnchorSpace(StrEnum):
    """Where `omp` compares a new token with the shared (anchor) tokens."""

    word_vectors = "word_vectors"  # the OFA token vectors in word-vector space
    static = "static"  # FOCUS's fastText token embeddings on target-language text


class WordWeighting(StrEnum):
    multiset = (
        "multiset"  # the public OFA code: a word counts once per surface form holding the token
    )
    set = "set"  # each matched word once (hyper-ofa's hypernetwork input)


class HypernetArchitecture(StrEnum):
    bilstm = "bilstm"
    setformer = "setformer"


class LoggerKind(StrEnum):
    csv = "csv"
    wandb = "wandb"


class TrainOnly(StrEnum):
    """What continued pre-training updates (DESIGN §3.6: users train only the new rows first)."""

    all = "all"  # every parameter
    embeddings = "embeddings"  # the token embeddings (input, untied output, head bias, primitives)
    new_rows = "new_rows"  # only the new tokens' rows of those (source rows and primitives frozen)
