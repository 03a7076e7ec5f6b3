"""Stage `cpt_data`: the continued pre-training text tokenized once and packed into blocks on
disk (Arrow, memory-mapped when read), a cached artifact keyed by the tokenizer, the text and the
packing settings (objective, block length, per-language cap, languages).

The artifact is a prepared dir (`pretrain.blocks`): `train.arrow`, `val.arrow`, `blocks.json`,
with `manifest.json` beside; its counts are the texts, tokens and blocks of each split. Every
initializer of a sweep trains on the same artifact: the model is not part of the key.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from hyperofa.artifacts import Artifact, cached_stage
from hyperofa.config.pretrain import PretrainConfig
from hyperofa.paths import cache_root
from hyperofa.pretrain.blocks import FORMAT, CPTData, listed, objective, open_cpt_data
from hyperofa.pretrain.prepare import prepare_cpt_data
from hyperofa.stages.common import Keyed

STAGE = "cpt_data"


def tokenizer_key(tokenizer: Any) -> str:
    """A content hash of a tokenizer: its class, pieces and rules (a fast tokenizer's JSON) and
    its special tokens; equal for a tokenizer saved and loaded back."""
    h = hashlib.sha256(type(tokenizer).__name__.encode())
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        h.update(backend.to_str().encode())
    else:
        h.update(json.dumps(sorted(tokenizer.get_vocab().items())).encode())
    h.update(json.dumps([len(tokenizer), sorted(tokenizer.all_special_ids)]).encode())
    return h.hexdigest()[:16]


def cpt_data(
    cfg: PretrainConfig, texts: Keyed[tuple[Any, Any]], tokenizer: Any, masked: bool = True
) -> Artifact:
    """The blocks of `texts` (train, held-out; mappings or paths of any `corpus.streams` layout)
    for `tokenizer` (a tokenizer or a Keyed one), laid out for a masked LM or (`masked=False`)
    next-token prediction, built once."""
    if isinstance(tokenizer, Keyed):
        tokenizer, key = tokenizer.value, tokenizer.key
    else:
        key = tokenizer_key(tokenizer)
    config = {
        "max_length": cfg.max_length,
        "max_texts_per_language": cfg.max_texts_per_language,
        "languages": listed(cfg.languages),
        "format": FORMAT,
    }
    if not masked:  # only causal data names it: the keys of masked-LM data stay as they were
        config["objective"] = objective(masked)
    train, val = texts.value

    def build(tmp: Path) -> dict[str, Any]:
        return prepare_cpt_data(
            tokenizer,
            train,
            val,
            tmp,
            cfg.max_length,
            cap=cfg.max_texts_per_language,
            languages=cfg.languages,
            num_proc=cfg.num_proc,
            masked=masked,
        )

    return cached_stage(cache_root(), STAGE, config, {"texts": texts.key, "tokenizer": key}, build)


def load(art: Artifact) -> CPTData:
    return open_cpt_data(art.path)
