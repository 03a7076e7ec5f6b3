"""E5S1 reading and Q4_0 decoding on a hand-built tiny file."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from hyperofa.assets import e5s1
from hyperofa.errors import BadFileError, IncompatibleInputsError

PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁a", "▁b", "a", "b", "▁ab", "<mask>"]
SCORES = [0.0, 0.0, 0.0, 0.0, -1.0, -1.5, -2.0, -2.5, -3.0, 0.0]
# hidden 8, 1 layer, 2 heads, ff 32, 12 embedding rows (> 10 pieces, as 250,037 > 250,002),
# 16 positions, 2 token types, eps, Q4 block
HEADER = (8, 1, 2, 32, 12, 16, 2, 1e-12, 32)


def q4_block(scale: float, q: np.ndarray) -> bytes:
    """One Q4_0 block: f16 scale, then byte j = q[j] | q[j+16] << 4."""
    packed = bytes(int(q[j]) | int(q[j + 16]) << 4 for j in range(16))
    return np.float16(scale).tobytes() + packed


def q4_tensor(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[bytes, np.ndarray]:
    """Random Q4_0 bytes and their values by the formula (q − 8)·scale, written out long-hand."""
    n = int(np.prod(shape))
    raw, values = b"", []
    for _ in range(n // 32):
        scale = float(np.float16(rng.uniform(-0.1, 0.1)))
        q = rng.integers(0, 16, 32)
        raw += q4_block(scale, q)
        values += [(int(x) - 8) * scale for x in q]
    return raw, np.array(values, np.float32).reshape(shape)


def tiny_tensors(seed: int = 0) -> dict[str, tuple[int, bytes, np.ndarray]]:
    """name → (dtype, payload, expected float32 values) for a complete 1-layer model."""
    rng = np.random.default_rng(seed)
    h, ff, rows, max_pos = 8, 32, 12, 16
    f32 = {"emb.pos": (max_pos, h), "emb.type": (2, h), "emb.ln.w": (h,), "emb.ln.b": (h,)}
    q4 = {"emb.word": (rows, h), "l0.fi.w": (ff, h), "l0.fo.w": (h, ff)}
    for part in ("q", "k", "v", "ao"):
        q4[f"l0.{part}.w"] = (h, h)
        f32[f"l0.{part}.b"] = (h,)
    for ln in ("aln", "oln"):
        f32[f"l0.{ln}.w"] = f32[f"l0.{ln}.b"] = (h,)
    f32 |= {"l0.fi.b": (ff,), "l0.fo.b": (h,)}
    tensors = {}
    for name, shape in f32.items():
        values = rng.normal(size=shape).astype(np.float32)
        tensors[name] = (e5s1.DTYPE_F32, values.tobytes(), values)
    for name, shape in q4.items():
        raw, values = q4_tensor(rng, shape)
        tensors[name] = (e5s1.DTYPE_Q4_0, raw, values)
    return tensors


def write_e5s1(path: Path, tensors, pieces=PIECES, magic: bytes = b"E5S1") -> Path:
    blob = [p.encode() for p in pieces]
    offsets = np.cumsum([0] + [len(b) for b in blob]).astype("<u4")
    out = magic + struct.pack("<I7ifi", 1, *HEADER)
    out += struct.pack("<5iQ", len(pieces), 0, 2, 1, 3, offsets[-1]) + offsets.tobytes()
    out += np.array(SCORES, "<f4").tobytes() + b"".join(blob)
    out += struct.pack("<iI", 1, 9) + struct.pack("<IBI", 0x3000, 1, 0x20)  # one norm entry
    names = list(tensors)
    table_bytes = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n in names)
    offset, table, data = len(out) + table_bytes, struct.pack("<i", len(names)), b""
    for name in names:
        dtype, payload, values = tensors[name]
        table += struct.pack("<H", len(name)) + name.encode()
        table += struct.pack("<BIQQ", dtype, values.size, offset + len(data), len(payload))
        data += payload
    path.write_bytes(out + table + data)
    return path


@pytest.fixture
def tiny_e5s1(tmp_path):
    tensors = tiny_tensors()
    return write_e5s1(tmp_path / "tiny.bin", tensors), tensors


def test_dequantize_hand_built_blocks_follow_the_formula():
    lo, hi = np.arange(16), 15 - np.arange(16)
    raw = q4_block(0.5, np.concatenate([lo, hi])) + q4_block(-0.25, np.full(32, 8))
    got = e5s1.dequantize_q4_0(np.frombuffer(raw, np.uint8), 64)
    want = [(q - 8) * 0.5 for q in list(lo) + list(hi)] + [0.0] * 32
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.array(want, np.float32))
    small = e5s1.dequantize_q4_0(np.frombuffer(raw, np.uint8), 64, chunk_blocks=1)
    np.testing.assert_array_equal(small, got)
    with pytest.raises(IncompatibleInputsError):
        e5s1.dequantize_q4_0(np.frombuffer(raw, np.uint8), 48)


def test_read_e5s1_round_trips(tiny_e5s1):
    path, tensors = tiny_e5s1
    model = e5s1.read_e5s1(path)
    assert model.header == e5s1.E5S1Header(1, *HEADER[:7], float(np.float32(1e-12)), 32)
    assert model.pieces == PIECES
    np.testing.assert_array_equal(model.scores, np.array(SCORES, np.float32))
    assert (model.bos_id, model.eos_id, model.pad_id, model.unk_id) == (0, 2, 1, 3)
    assert set(model.tensors) == set(tensors)
    for name, (_, _, values) in tensors.items():
        np.testing.assert_array_equal(model.tensors[name], values, err_msg=name)
    assert e5s1.read_e5s1(path, dequantize=False).tensors == {}


def test_bad_magic_and_truncation_raise_bad_file(tiny_e5s1, tmp_path):
    path, tensors = tiny_e5s1
    with pytest.raises(BadFileError, match="magic"):
        e5s1.read_e5s1(write_e5s1(tmp_path / "bad.bin", tensors, magic=b"GGUF"))
    data = path.read_bytes()
    for cut in (2, 20, 60, 200, len(data) - 10):
        short = tmp_path / f"cut{cut}.bin"
        short.write_bytes(data[:cut])
        with pytest.raises(BadFileError):
            e5s1.read_e5s1(short)
    incomplete = {k: v for k, v in tensors.items() if k != "l0.fo.b"}
    with pytest.raises(BadFileError, match="missing tensors"):
        e5s1.read_e5s1(write_e5s1(tmp_path / "incomplete.bin", incomplete))
