import json

import pytest
import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer, XLMRobertaForMaskedLM

from hyperofa.cli.merge import main
from hyperofa.errors import BadFileError, IncompatibleInputsError, MissingPathError
from hyperofa.models import MASKED_ENCODER, merge, merge_dir
from tests.tiny import tiny_bert, tiny_xlmr, unigram_tokenizer
from tests.unit.models.common import EXTRA, batch, factorized, logits

PIECES = ["▁a", "▁b", "▁ab", "▁ba", "a", "b", "▁c", "c"]


@pytest.mark.parametrize("make", [tiny_bert, tiny_xlmr])
def test_merged_logits_equal_the_factorized_ones(make):
    model = factorized(make(40))
    merged = merge(model)
    ids, mask, _ = batch(40 + EXTRA)
    assert type(merged).__name__ == make(4).__class__.__name__
    torch.testing.assert_close(
        logits(merged, ids, mask), logits(model, ids, mask), atol=1e-5, rtol=0
    )
    emb = model.get_input_embeddings()
    rows = emb.coordinates.weight @ emb.primitives.weight.T
    torch.testing.assert_close(merged.get_input_embeddings().weight, rows)
    assert merged.get_output_embeddings().weight is merged.get_input_embeddings().weight


def test_only_a_factorized_model_merges():
    with pytest.raises(IncompatibleInputsError, match="not a factorized model"):
        merge(tiny_bert(40))


def _factorized_dir(tmp_path):
    tokenizer = unigram_tokenizer(PIECES)
    model = factorized(tiny_xlmr(len(tokenizer) - EXTRA))
    MASKED_ENCODER.save(model, tokenizer, tmp_path / "factorized")
    return model, tokenizer, tmp_path / "factorized"


def test_the_command_writes_a_native_model_and_the_tokenizer(tmp_path, capsys):
    model, tokenizer, directory = _factorized_dir(tmp_path)
    main([str(directory), str(tmp_path / "merged")])
    assert "XLMRobertaForMaskedLM" in capsys.readouterr().out
    again, info = AutoModelForMaskedLM.from_pretrained(
        tmp_path / "merged", output_loading_info=True
    )
    assert type(again) is XLMRobertaForMaskedLM
    assert not info["missing_keys"] and not info["unexpected_keys"]
    config = json.loads((tmp_path / "merged" / "config.json").read_text())
    assert config["architectures"] == ["XLMRobertaForMaskedLM"] and "auto_map" not in config
    assert not (tmp_path / "merged" / "modeling_factorized.py").exists()
    text = ["a ab ba c", "b c"]
    encoded = AutoTokenizer.from_pretrained(tmp_path / "merged")(
        text, padding=True, return_tensors="pt"
    )
    assert encoded["input_ids"].tolist() == tokenizer(text, padding=True)["input_ids"]
    ids, mask = encoded["input_ids"], encoded["attention_mask"]
    torch.testing.assert_close(
        logits(again.eval(), ids, mask), logits(model, ids, mask), atol=1e-5, rtol=0
    )


def test_merge_refuses_a_plain_dir_and_an_existing_output(tmp_path):
    src = tiny_bert(40)
    MASKED_ENCODER.save(src, None, tmp_path / "plain")
    with pytest.raises(BadFileError, match="expected 'hyperofa_factorized'"):
        merge_dir(tmp_path / "plain", tmp_path / "out")
    _, _, directory = _factorized_dir(tmp_path)
    (tmp_path / "taken").mkdir()
    with pytest.raises(SystemExit) as exit_:  # the command exits non-zero on a named error
        main([str(directory), str(tmp_path / "taken")])
    assert exit_.value.code == 2 and not any((tmp_path / "taken").iterdir())


def test_merge_names_a_missing_tokenizer(tmp_path):
    MASKED_ENCODER.save(factorized(tiny_bert(40)), None, tmp_path / "bare")
    with pytest.raises(MissingPathError, match="tokenizer"):
        merge_dir(tmp_path / "bare", tmp_path / "out")
    assert not (tmp_path / "out").exists()
