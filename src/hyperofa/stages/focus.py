"""Stage `focus`: FOCUS's static token embeddings of the target vocabulary — fastText on the
target-language text tokenized by the target tokenizer — one per (tokenizer, text, config), shared
by every job that needs it (`focus`, `omp` with space=static)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

import numpy as np

from hyperofa.artifacts import Artifact, cached_stage
from hyperofa.config.initializers import StaticVectorsConfig
from hyperofa.config.schema import LangsetConfig
from hyperofa.corpus import UDHRCorpus
from hyperofa.corpus.texts import load_texts
from hyperofa.errors import EmptyInputError
from hyperofa.init.static_vectors import StaticVectors, train_static_vectors
from hyperofa.paths import cache_root
from hyperofa.stages.common import Keyed, fingerprint, load_npy

log = logging.getLogger(__name__)
STAGE = "focus"
BATCH = 1_000  # texts per tokenizer call


def focus_texts(
    train_path: str | None, langset: LangsetConfig, corpus: Keyed[UDHRCorpus]
) -> Keyed[list[str]]:
    """The target-language text: `pretrain.train_path` when set (a dir of `<lang>.txt` or a
    `datasets.save_to_disk` dir), else the langset's UDHR train articles."""
    if train_path is None:
        by_lang = corpus.value.texts(langset.languages, "train")
        key = f"{corpus.key}:{','.join(sorted(langset.languages))}"
    else:
        path = Path(train_path)
        source = path
        if (path / "dataset_info.json").exists() or (path / "state.json").exists():
            from datasets import load_from_disk

            source = load_from_disk(str(path))
        by_lang, key = load_texts(source), fingerprint(path)
    texts = [t for lang in sorted(by_lang) for t in by_lang[lang] if t and t.strip()]
    return Keyed(texts, key)


def _token_ids(tokenizer, texts: list[str]) -> list[np.ndarray]:
    out = []
    for start in range(0, len(texts), BATCH):
        encoded = tokenizer(texts[start : start + BATCH], add_special_tokens=False)["input_ids"]
        out += [np.asarray(ids, dtype=np.int32) for ids in encoded]
    return out


def static_vectors(cfg: StaticVectorsConfig, target: Keyed, texts: Keyed[list[str]]) -> Artifact:
    """fastText vectors of every target token that occurs `cfg.min_count`+ times in `texts`."""

    def build(tmp: Path) -> dict:
        if not texts.value:
            raise EmptyInputError("focus: the target-language text for fastText is empty")
        tokenizer = target.value
        ids = _token_ids(tokenizer, texts.value)
        tokens = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        static = train_static_vectors(ids, [t or "" for t in tokens], cfg)
        np.save(tmp / "vectors.npy", static.vectors)
        np.save(tmp / "known.npy", static.known)
        counts = {
            "target_tokens": len(tokens),
            "known": int(static.known.sum()),
            "texts": len(ids),
            "text_tokens": int(sum(len(i) for i in ids)),
        }
        log.info(
            "focus: %s of %s target tokens have a static vector (%s text tokens)",
            f"{counts['known']:,}", f"{counts['target_tokens']:,}", f"{counts['text_tokens']:,}",
        )  # fmt: skip
        return counts

    inputs = {"target": target.key, "texts": texts.key}
    return cached_stage(cache_root(), STAGE, {"static": asdict(cfg)}, inputs, build)


def load(art: Artifact) -> StaticVectors:
    return StaticVectors(load_npy(art.path / "vectors.npy"), load_npy(art.path / "known.npy"))
