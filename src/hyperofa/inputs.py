"""Resolve and check a run's inputs: user paths first (cheap), then the embedded default parts.

Every problem is a named error raised before the first heavy stage, so no partial artifact is left.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from transformers import AutoTokenizer, PreTrainedTokenizerBase

from hyperofa import stages
from hyperofa.artifacts import cached_stage
from hyperofa.assets import embedded, minilm
from hyperofa.assets.udhr import ENGLISH_CODE
from hyperofa.config.schema import RunConfig
from hyperofa.corpus import UDHRCorpus
from hyperofa.errors import BadFileError, ConfigError, IncompatibleInputsError, require_path
from hyperofa.factorize import check_dim
from hyperofa.paths import cache_root
from hyperofa.vocab.extend import extend_tokenizer
from hyperofa.wordvec.io import WordVectors, load_word_vectors, peek_word_vectors

log = logging.getLogger(__name__)
MODEL_LAYOUT = "a transformers *ForMaskedLM dir with config.json and weights"


@dataclass
class Sources:
    model_dir: Path
    model_key: str
    hidden_size: int
    embedding_rows: int
    tokenizer: PreTrainedTokenizerBase
    tokenizer_key: str
    word_vectors: WordVectors
    word_vectors_key: str
    corpus: UDHRCorpus
    corpus_key: str


def model_shape(model_dir: Path) -> tuple[int, int]:
    """(hidden size, embedding rows) from config.json, without loading weights."""
    path = require_path(model_dir / "config.json", "model.path", MODEL_LAYOUT)
    try:
        cfg = json.loads(path.read_text())
        return int(cfg["hidden_size"]), int(cfg["vocab_size"])
    except (ValueError, KeyError) as err:
        raise BadFileError(
            path, f"expected a model config with hidden_size and vocab_size ({err})"
        ) from err


def load_tokenizer(path: Path, key: str) -> PreTrainedTokenizerBase:
    require_path(path, key, "a transformers tokenizer dir (tokenizer.json / tokenizer_config.json)")
    try:
        return AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError, TypeError) as err:
        raise BadFileError(path, f"`{key}`: not a loadable tokenizer ({err})") from err


def preflight(run: RunConfig) -> None:
    """Checks on user-given paths that need no heavy work."""
    if run.model.path is not None:
        hidden, _ = model_shape(require_path(run.model.path, "model.path", MODEL_LAYOUT))
    else:
        hidden = _embedded_hidden(run.model.embedded)
    check_dim(run.factorize.dim, hidden)
    if run.model.tokenizer_path is not None:
        require_path(run.model.tokenizer_path, "model.tokenizer_path", "a tokenizer dir")
    if run.tokenizer.path is not None:
        require_path(run.tokenizer.path, "tokenizer.path", "a tokenizer dir")
    if run.word_vectors.path is not None:
        path = require_path(run.word_vectors.path, "word_vectors.path", "a word2vec or gensim file")
        peek_word_vectors(path, run.word_vectors.format, run.word_vectors.trust_pickle)


EMBEDDED_HIDDEN = {"e5_small": embedded.E5_HIDDEN, "minilm_en": minilm.MINILM_HIDDEN}


def _embedded_hidden(name: str) -> int:
    if name not in EMBEDDED_HIDDEN:
        raise ConfigError("model.embedded", name, " | ".join(EMBEDDED_HIDDEN))
    return EMBEDDED_HIDDEN[name]


def _embedded_model(run: RunConfig, corpus: UDHRCorpus, corpus_key: str) -> tuple[Path, str]:
    """The embedded model `model.embedded` names. MiniLM has 6 layers, so an `eval.layer` above
    that (8, the SR-B/SR-T layer of 12-layer models) becomes 6, its last, in `run` (logged)."""
    if run.model.embedded != "minilm_en":
        return embedded.source_model(run.assets, corpus, corpus_key)
    model_dir, model_key = minilm.source_model(run.assets, corpus, corpus_key)
    layers = int(json.loads((model_dir / "config.json").read_text())["num_hidden_layers"])
    if run.eval.layer > layers:
        log.warning("eval.layer %d: MiniLM has %d layers; using %d", run.eval.layer, layers, layers)
        run.eval.layer = layers
    return model_dir, model_key


def _load_vectors(run: RunConfig, path: Path) -> WordVectors:
    cfg = run.word_vectors
    wv = load_word_vectors(
        path, cfg.format, unprefixed_keys=cfg.unprefixed_keys, trust_pickle=cfg.trust_pickle
    )
    log.info("word vectors: %s keys × %d from %s", f"{len(wv):,}", wv.dim, path)
    return wv


def resolve_sources(run: RunConfig) -> Sources:
    preflight(run)
    user_vectors = None
    if run.word_vectors.path is not None:  # malformed lines surface now, before heavy work
        wv_path = Path(run.word_vectors.path)
        user_vectors = (_load_vectors(run, wv_path), stages.fingerprint(wv_path))
    corpus, corpus_key = embedded.udhr_corpus(run.assets)
    corpus.check(run.langset.languages, "langset.languages")
    corpus.check(run.langset.heldout_languages, "langset.heldout_languages")
    if run.model.path is None:
        model_dir, model_key = _embedded_model(run, corpus, corpus_key)
    else:
        model_dir = Path(run.model.path)
        model_key = stages.fingerprint(model_dir)
    hidden, rows = model_shape(model_dir)
    check_dim(run.factorize.dim, hidden)
    tok_path = Path(run.model.tokenizer_path or model_dir)
    tokenizer = load_tokenizer(tok_path, "model.tokenizer_path")
    if len(tokenizer) > rows:
        raise IncompatibleInputsError(
            f"source tokenizer {tok_path} has {len(tokenizer):,} tokens but the model's embedding "
            f"matrix ({model_dir}) has {rows:,} rows; expected tokenizer size ≤ rows"
        )
    if user_vectors is None:
        languages = [
            *run.assets.source_text.languages,
            *run.langset.languages,
            *run.langset.heldout_languages,
        ]
        wv_path, wv_key = embedded.word_vectors(
            run.word_vectors.graph, corpus, corpus_key, languages
        )
        user_vectors = (_load_vectors(run, wv_path), wv_key)
    wv, wv_key = user_vectors
    return Sources(
        model_dir,
        model_key,
        hidden,
        rows,
        tokenizer,
        stages.fingerprint(tok_path),
        wv,
        wv_key,
        corpus,
        corpus_key,
    )


def target_tokenizer(run: RunConfig, src: Sources) -> tuple[PreTrainedTokenizerBase, str]:
    """The given target tokenizer, or the source one extended on the langset's train text."""
    if run.tokenizer.path is not None:
        path = Path(run.tokenizer.path)
        return load_tokenizer(path, "tokenizer.path"), stages.fingerprint(path)
    texts = src.corpus.texts(run.langset.languages, "train")
    # new WordPiece pieces may resplit English words the source lacks; those pieces are dropped
    english = src.corpus.texts([ENGLISH_CODE], "train")[ENGLISH_CODE]

    def build(tmp: Path) -> dict:
        tok, counts = extend_tokenizer(
            src.tokenizer,
            [t for lang in sorted(texts) for t in texts[lang]],
            vocab_size=run.tokenizer.vocab_size,
            seed=run.tokenizer.seed,
            protected_texts=english,
        )
        tok.save_pretrained(tmp)
        return counts

    config = {
        "tokenizer": asdict(run.tokenizer),
        "languages": sorted(run.langset.languages),
        "protected": ENGLISH_CODE,
    }
    inputs = {"source": src.tokenizer_key, "corpus": src.corpus_key}
    art = cached_stage(cache_root(), "extend_tokenizer", config, inputs, build)
    return load_tokenizer(art.path, "tokenizer (extended)"), art.key
