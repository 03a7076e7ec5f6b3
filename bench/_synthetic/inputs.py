"""Paper-scale sizes, and the synthetic inputs built once per scale under `outputs/bench/`.

Layout of `outputs/bench/inputs-<scale>-v<VERSION>/`: `source_tokenizer/`, `target_tokenizer/`
(transformers dirs), `keys.txt` (one `lang:word` a line), `word_vectors.npy` (float32 N × 200,
read memory-mapped), `embeddings.npy` (float32 V_s × 768), `manifest.json`. Written to a temp dir
and renamed, so a killed run leaves nothing half-built.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench._synthetic.vocab import build_tokenizer, build_vocabularies
from bench._synthetic.words import build_words, write_embeddings, write_word_vectors

VERSION = 1  # bump when the generator changes: a new directory, never a stale cache
SEED = 20240
ROOT = Path(__file__).resolve().parents[2] / "outputs" / "bench"


@dataclass(frozen=True)
class Sizes:
    """Counts scale with SCALE; dimensions are the models' and stay fixed."""

    source_vocab: int = 250_002  # XLM-R
    target_vocab: int = 401_145  # Glot500
    words: int = 3_600_000  # ColexNet+ keys (approx.)
    languages: int = 1_000
    word_dim: int = 200  # ColexNet+
    hidden: int = 768  # XLM-R base

    @classmethod
    def at(cls, scale: float) -> Sizes:
        full = cls()
        return cls(
            source_vocab=round(full.source_vocab * scale),
            target_vocab=round(full.target_vocab * scale),
            words=round(full.words * scale),
            languages=max(10, round(full.languages * scale)),
        )


@dataclass(frozen=True)
class InputPaths:
    root: Path

    @property
    def source_tokenizer(self) -> Path:
        return self.root / "source_tokenizer"

    @property
    def target_tokenizer(self) -> Path:
        return self.root / "target_tokenizer"

    @property
    def keys(self) -> Path:
        return self.root / "keys.txt"

    @property
    def word_vectors(self) -> Path:
        return self.root / "word_vectors.npy"

    @property
    def embeddings(self) -> Path:
        return self.root / "embeddings.npy"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"


def input_paths(scale: float) -> InputPaths:
    return InputPaths(ROOT / f"inputs-{scale:g}-v{VERSION}")


def read_keys(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def ensure_inputs(scale: float) -> tuple[InputPaths, dict]:
    """The inputs for `scale`, generated if absent; and their manifest (sizes, counts, seconds)."""
    paths = input_paths(scale)
    if paths.manifest.exists():
        return paths, json.loads(paths.manifest.read_text())
    tmp = paths.root.with_name(f".{paths.root.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        manifest = _generate(InputPaths(tmp), Sizes.at(scale))
        os.replace(tmp, paths.root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return paths, manifest


def _generate(paths: InputPaths, sizes: Sizes) -> dict:
    started = time.perf_counter()
    vocab = build_vocabularies(sizes.source_vocab, sizes.target_vocab, SEED)
    build_tokenizer(vocab.source).save_pretrained(paths.source_tokenizer)
    build_tokenizer(vocab.target).save_pretrained(paths.target_tokenizer)
    keys, lang_of = build_words(
        sizes.words, sizes.languages, vocab.source_pools, vocab.new_pools, SEED + 1
    )
    paths.keys.write_text("".join(k + "\n" for k in keys), encoding="utf-8")
    write_word_vectors(paths.word_vectors, lang_of, sizes.word_dim, SEED + 2)
    write_embeddings(paths.embeddings, sizes.source_vocab, sizes.hidden, SEED + 3)
    manifest = {
        "version": VERSION,
        "seed": SEED,
        "sizes": asdict(sizes),
        "words_internal": sum(1 for k in keys if k[4:5] == "$"),
        "words_per_language_max": int(np.bincount(lang_of).max()),
        "seconds": round(time.perf_counter() - started, 1),
    }
    paths.manifest.write_text(json.dumps(manifest, indent=1))
    return manifest
