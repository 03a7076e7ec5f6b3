"""Resolve a run's inputs: user paths first (cheap checks), then the embedded default's parts,
each as a keyed value. Every problem is a named error raised before the first heavy stage."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from transformers import AutoConfig, AutoTokenizer, PreTrainedTokenizerBase

from hyperofa.assets import embedded, gemma, minilm
from hyperofa.config.enums import EmbeddedModel
from hyperofa.config.schema import AssetsConfig, LangsetConfig, ModelConfig, WordVectorsConfig
from hyperofa.corpus import UDHRCorpus
from hyperofa.errors import BadFileError, IncompatibleInputsError, require_path
from hyperofa.models import CAUSAL_MODEL_TYPE
from hyperofa.pretrain.data import max_sequence_length
from hyperofa.stages.common import Keyed, fingerprint
from hyperofa.wordvec.io import WordVectors, load_word_vectors, peek_word_vectors

log = logging.getLogger(__name__)
MODEL_LAYOUT = "a transformers *ForMaskedLM or *ForCausalLM dir with config.json and weights"


@dataclass(frozen=True)
class ModelShape:
    """What the checks before any heavy work need to know of a model, from its config."""

    hidden: int
    rows: int  # embedding rows (the config's vocab_size)
    layers: int
    positions: int  # the longest input its position embeddings allow
    causal: bool = False  # a causal LM (*ForCausalLM), else a masked LM
    tied: bool = True  # the output head is the input embedding matrix

    @classmethod
    def of(cls, model_dir: Path) -> ModelShape:
        path = require_path(Path(model_dir) / "config.json", "model.path", MODEL_LAYOUT)
        try:
            cfg = AutoConfig.from_pretrained(model_dir)
            causal = any(a.endswith("ForCausalLM") for a in cfg.architectures or [])
            return cls(
                cfg.hidden_size,
                cfg.vocab_size,
                cfg.num_hidden_layers,
                max_sequence_length(cfg),
                causal or cfg.model_type == CAUSAL_MODEL_TYPE,
                bool(getattr(cfg, "tie_word_embeddings", True)),
            )
        except (ValueError, KeyError, TypeError, AttributeError, OSError) as err:
            raise BadFileError(
                path,
                "expected a transformers model config with hidden_size, vocab_size, "
                f"num_hidden_layers and max_position_embeddings ({err})",
            ) from None


EMBEDDED_SHAPES = {
    EmbeddedModel.e5_small: ModelShape(embedded.E5_HIDDEN, 250_037, 12, 512),
    EmbeddedModel.minilm_en: ModelShape(minilm.MINILM_HIDDEN, 30_522, 6, 512),
    EmbeddedModel.gemma3_270m: ModelShape(640, 262_144, 18, 32_768, causal=True),
}


@dataclass(frozen=True)
class Sources:
    """A run's resolved inputs, each with the key the stages built from it use."""

    model_dir: Keyed[Path]
    shape: ModelShape
    tokenizer: Keyed[PreTrainedTokenizerBase]
    vectors: Keyed[WordVectors]
    corpus: Keyed[UDHRCorpus]


def load_tokenizer(path: Path, key: str) -> PreTrainedTokenizerBase:
    require_path(path, key, "a transformers tokenizer dir (tokenizer.json / tokenizer_config.json)")
    try:
        return AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError, TypeError) as err:
        raise BadFileError(path, f"`{key}`: not a loadable tokenizer ({err})") from err


def model_shape(cfg: ModelConfig) -> ModelShape:
    """The shape of the configured model without building or loading it."""
    if cfg.path is None:
        return EMBEDDED_SHAPES[cfg.embedded]
    return ModelShape.of(require_path(cfg.path, "model.path", MODEL_LAYOUT))


def check_paths(model: ModelConfig, vectors: WordVectorsConfig) -> int | None:
    """Checks on user-given paths that need no heavy work; the user vectors' dim (None: built)."""
    if model.tokenizer_path is not None:
        require_path(model.tokenizer_path, "model.tokenizer_path", "a tokenizer dir")
    if vectors.path is None:
        return None
    path = require_path(vectors.path, "word_vectors.path", "a word2vec or gensim file")
    return peek_word_vectors(path, vectors.format, vectors.trust_pickle)[1]


def _load_vectors(cfg: WordVectorsConfig, path: Path) -> WordVectors:
    wv = load_word_vectors(
        path, cfg.format, unprefixed_keys=cfg.unprefixed_keys, trust_pickle=cfg.trust_pickle
    )
    log.info("word vectors: %s keys × %d from %s", f"{len(wv):,}", wv.dim, path)
    return wv


def _model_dir(cfg: ModelConfig, assets: AssetsConfig, corpus: Keyed[UDHRCorpus]) -> Keyed[Path]:
    if cfg.path is not None:
        return Keyed(Path(cfg.path), fingerprint(Path(cfg.path)))
    if cfg.embedded == EmbeddedModel.gemma3_270m:
        return Keyed(*gemma.decoder_model())
    build = (
        minilm.source_model if cfg.embedded == EmbeddedModel.minilm_en else embedded.source_model
    )
    return Keyed(*build(assets, corpus.value, corpus.key))


def _source_tokenizer(cfg: ModelConfig, model_dir: Path, shape: ModelShape) -> Keyed:
    path = Path(cfg.tokenizer_path or model_dir)
    tokenizer = load_tokenizer(path, "model.tokenizer_path")
    if len(tokenizer) > shape.rows:
        raise IncompatibleInputsError(
            f"source tokenizer {path} has {len(tokenizer):,} tokens but the model's embedding "
            f"matrix ({model_dir}) has {shape.rows:,} rows; expected tokenizer size ≤ rows"
        )
    return Keyed(tokenizer, fingerprint(path))


def resolve_sources(
    model: ModelConfig, vectors: WordVectorsConfig, langset: LangsetConfig, assets: AssetsConfig
) -> Sources:
    """Model dir, source tokenizer, word vectors and corpus (the embedded parts built once)."""
    user_vectors = None
    if vectors.path is not None:  # malformed lines surface now, before heavy work
        path = Path(vectors.path)
        user_vectors = Keyed(_load_vectors(vectors, path), fingerprint(path))
    corpus = Keyed(*embedded.udhr_corpus(assets))
    corpus.value.check(langset.languages, "langset.languages")
    corpus.value.check(langset.heldout_languages, "langset.heldout_languages")
    model_dir = _model_dir(model, assets, corpus)
    shape = ModelShape.of(model_dir.value)
    tokenizer = _source_tokenizer(model, model_dir.value, shape)
    if user_vectors is None:
        languages = [*assets.source_text.languages, *langset.languages, *langset.heldout_languages]
        path, key = embedded.word_vectors(vectors.graph, corpus.value, corpus.key, languages)
        user_vectors = Keyed(_load_vectors(vectors, path), key)
    return Sources(model_dir, shape, tokenizer, user_vectors, corpus)
