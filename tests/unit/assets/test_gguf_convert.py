"""GGUF causal LM → fp32 safetensors dir, on a tiny Gemma 3 written with the `gguf` writer."""

from __future__ import annotations

import json
import math
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from hyperofa.assets import gguf_convert
from hyperofa.errors import ConfigError, IncompatibleInputsError, MissingPathError
from tests.unit.assets.gemma_tiny import BYTE_TEXTS, PIECES, TEXTS, tiny_model, write_tiny_gguf

for _needed in ("gguf", "accelerate"):
    pytest.importorskip(
        _needed, reason="the `decoder` extra (make install-decoder) is not installed"
    )


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """(original tiny model, its GGUF, the converted dir, the conversion counts), built once."""
    root = tmp_path_factory.mktemp("gguf")
    original = tiny_model()
    gguf_path = write_tiny_gguf(original, root / "tiny.gguf")
    counts = gguf_convert.convert_gguf_causal_lm(gguf_path, root / "out", TEXTS, BYTE_TEXTS)
    return original, gguf_path, root / "out", counts


def test_converted_dir_gives_the_original_models_logits(converted):
    original, _, out, _ = converted
    model, info = AutoModelForCausalLM.from_pretrained(out, output_loading_info=True)
    assert not any(info[k] for k in ("missing_keys", "unexpected_keys", "mismatched_keys"))
    ids = torch.tensor([list(range(len(PIECES)))])  # every row, past the sliding window of 4
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(ids).logits, original(ids).logits)
    assert model.dtype == torch.float32
    assert model.lm_head.weight is model.model.embed_tokens.weight
    assert "quantization_config" not in json.loads((out / "config.json").read_text())


def test_counts_record_both_losses_params_and_tying(converted):
    original, _, _, counts = converted
    assert counts["params"] == sum(p.numel() for p in original.parameters())
    assert counts["tied_embeddings"] is True
    assert counts["tied_keys"] == {"lm_head.weight": "model.embed_tokens.weight"}
    assert (counts["layers"], counts["hidden"], counts["embedding_rows"]) == (6, 16, len(PIECES))
    assert counts["tokenizer_size"] == len(PIECES)
    assert counts["losses_gguf"].keys() == counts["losses_converted"].keys() == TEXTS.keys()
    assert counts["max_loss_delta"] < 1e-6
    # a random tiny model is near-uniform over its pieces
    assert all(abs(v - math.log(len(PIECES))) < 0.5 for v in counts["losses_converted"].values())


def test_saved_tokenizer_matches_the_gguf_one_with_byte_fallback(converted):
    _, gguf_path, out, _ = converted
    reference = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    saved = AutoTokenizer.from_pretrained(out)
    for text in [*TEXTS.values(), *BYTE_TEXTS.values()]:
        assert saved(text)["input_ids"] == reference(text)["input_ids"]
    ids = saved(BYTE_TEXTS["bytes"])["input_ids"]
    assert ids[0] == 2  # <bos>, as llama.cpp's add_bos_token says
    pieces = saved.convert_ids_to_tokens(ids)
    assert pieces[4:6] == ["<0xC3>", "<0xA7>"]  # ç
    assert saved.decode(ids, skip_special_tokens=True) == BYTE_TEXTS["bytes"]


def test_a_conversion_that_alters_weights_fails_and_leaves_nothing(
    converted, tmp_path, monkeypatch
):
    _, gguf_path, _, _ = converted
    untied = gguf_convert.untied_state

    def perturbed(model):
        state, tied = untied(model)
        state["model.norm.weight"] = state["model.norm.weight"] + 0.5
        return state, tied

    monkeypatch.setattr(gguf_convert, "untied_state", perturbed)
    with pytest.raises(IncompatibleInputsError, match="converted model's loss on"):
        gguf_convert.convert_gguf_causal_lm(gguf_path, tmp_path / "out", TEXTS)
    assert list(tmp_path.iterdir()) == []


def test_a_reload_with_a_missing_tensor_is_refused(converted, tmp_path):
    _, _, out, _ = converted
    copy = shutil.copytree(out, tmp_path / "copy")
    state = load_file(copy / "model.safetensors")
    del state["model.layers.5.mlp.down_proj.weight"]
    save_file(state, str(copy / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(IncompatibleInputsError, match="layers.5.mlp.down_proj"):
        gguf_convert.load_converted(copy)


def test_untied_state_stores_a_tied_head_once():
    model = tiny_model()
    state, tied = gguf_convert.untied_state(model)
    assert tied == {"lm_head.weight": "model.embed_tokens.weight"}
    assert set(state) == set(model.state_dict()) - {"lm_head.weight"}


def test_check_losses_names_the_worst_text_and_refuses_nan():
    before = {"en": 2.0, "sw": 4.0}
    assert gguf_convert.check_losses(before, {"en": 2.0004, "sw": 4.0}, 1e-3) == pytest.approx(4e-4)
    with pytest.raises(IncompatibleInputsError, match="'sw'.*tolerance 0.001"):
        gguf_convert.check_losses(before, {"en": 2.0, "sw": 4.002}, 1e-3)
    with pytest.raises(IncompatibleInputsError, match="'en'"):
        gguf_convert.check_losses(before, {"en": float("nan"), "sw": 4.0}, 1e-3)


def test_bad_arguments_fail_before_loading(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("")
    with pytest.raises(ConfigError, match="out_dir"):
        gguf_convert.convert_gguf_causal_lm(tmp_path / "a.gguf", tmp_path / "out", TEXTS)
    with pytest.raises(ConfigError, match="tolerance"):
        gguf_convert.convert_gguf_causal_lm(tmp_path / "a.gguf", tmp_path / "o", TEXTS, None, 0.0)
    with pytest.raises(MissingPathError, match="GGUF model"):
        gguf_convert.convert_gguf_causal_lm(tmp_path / "a.gguf", tmp_path / "o", TEXTS)
