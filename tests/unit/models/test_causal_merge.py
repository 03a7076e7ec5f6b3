import json

import pytest
import torch
from transformers import AutoModelForCausalLM, Gemma3ForCausalLM

from hyperofa.models import CAUSAL_DECODER, merge, merge_dir
from tests.tiny import unigram_tokenizer
from tests.tiny_decoder import DECODERS
from tests.unit.models.causal_common import EXTRA, SOURCE_VOCAB, UNTIED, assembled, batch, logits


@pytest.mark.parametrize("kind", ["gemma3_tied", "gemma3_softcap", "llama_untied", "phi_biased"])
def test_merged_logits_equal_the_factorized_ones(kind):
    model = assembled(kind, dim=8)
    merged = merge(model)
    ids, mask = batch(SOURCE_VOCAB + EXTRA)
    assert type(merged) is type(DECODERS[kind](4))
    torch.testing.assert_close(
        logits(merged, ids, mask), logits(model, ids, mask), atol=1e-5, rtol=0
    )
    emb = model.get_input_embeddings()
    torch.testing.assert_close(
        merged.get_input_embeddings().weight, emb.coordinates.weight @ emb.primitives.weight.T
    )
    tied = merged.lm_head.weight is merged.get_input_embeddings().weight
    assert tied == (kind not in UNTIED) == merged.config.tie_word_embeddings
    if not tied:
        head = model.head
        rows = head.coordinates.weight @ head.primitives.weight.T
        torch.testing.assert_close(merged.lm_head.weight, rows)


def test_the_merged_dir_loads_as_the_native_class_without_remote_code(tmp_path):
    tokenizer = unigram_tokenizer(["▁a", "▁b", "a", "b"], with_mask=False)
    model = assembled("gemma3_tied", dim=8)
    CAUSAL_DECODER.save(model, tokenizer, tmp_path / "factorized")
    merge_dir(tmp_path / "factorized", tmp_path / "merged")
    again, info = AutoModelForCausalLM.from_pretrained(
        tmp_path / "merged", output_loading_info=True
    )
    assert type(again) is Gemma3ForCausalLM
    assert not info["missing_keys"] and not info["unexpected_keys"]
    config = json.loads((tmp_path / "merged" / "config.json").read_text())
    assert config["architectures"] == ["Gemma3ForCausalLM"] and "auto_map" not in config
    assert not (tmp_path / "merged" / "modeling_factorized_causal.py").exists()
    assert (tmp_path / "merged" / "tokenizer.json").is_file()
    ids, mask = batch(SOURCE_VOCAB + EXTRA)
    torch.testing.assert_close(
        logits(again.eval(), ids, mask), logits(model, ids, mask), atol=1e-5, rtol=0
    )
