"""Warm start of a converted model's MLM head: unigram prior, head warm-up, saved model + tokenizer."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from transformers import AutoModelForMaskedLM

from hyperofa.assets import e5
from hyperofa.assets.warm_start import unigram_log_prior, warm_started
from hyperofa.config.schema import SourceTextConfig
from hyperofa.corpus import UDHRCorpus
from hyperofa.corpus.udhr import Paragraph
from tests.unit.assets.test_e5 import _write_tokenizer
from tests.unit.assets.test_e5s1 import tiny_tensors, write_e5s1

TEXTS = [" ".join(["ab a b", "a a ab", "b ab", "ab ab a"][i % 4 :]) for i in range(6)]


@pytest.fixture
def converted(tmp_path):
    """A tiny e5 model converted into `<tmp>/converted`, and the model dir `tmp`."""
    tmp = tmp_path / "model"
    e5.convert_e5_to_bert(
        write_e5s1(tmp_path / "tiny.bin", tiny_tensors()),
        _write_tokenizer(tmp_path / "tok.json"),
        tmp / "converted",
    )
    return tmp


def corpus() -> UDHRCorpus:
    """English paragraphs in articles 1 (train) and 2 (held out)."""
    paragraphs = [Paragraph("eng", "eng", 1 + i % 2, i // 2, t) for i, t in enumerate(TEXTS * 2)]
    return UDHRCorpus(paragraphs, heldout_articles=[2])


def test_unigram_log_prior_is_centred_and_follows_the_counts():
    class Counting:
        def __call__(self, texts, add_special_tokens):
            return {"input_ids": [[4, 4, 6], [4]]}

    prior = unigram_log_prior(Counting(), ["x", "y"], rows=8)
    assert prior.shape == (8,) and prior.dtype == np.float32
    assert abs(float(prior.mean())) < 1e-6
    assert prior[4] > prior[6] > prior[0] and prior[0] == prior[7]
    expected = np.log(np.array([3, 1]) + 0.1) - np.log(4 + 0.8)
    np.testing.assert_allclose(
        prior[[4, 6]] - prior[[4, 6]].mean(), expected - expected.mean(), rtol=1e-6
    )


def test_warm_started_saves_a_warmed_model_and_a_plain_tokenizer_deterministically(
    converted, tmp_path
):
    st = SourceTextConfig(languages=["eng"], warmup_steps=3, warmup_batch_size=2, max_length=16)
    manifest = warm_started(converted, {"params": 1}, corpus(), st)
    assert manifest["conversion"] == {"params": 1} and manifest["warmup_texts"] == 6
    assert manifest["mlm_head_warmup"]["steps"] == 3
    assert set(manifest["checksums"]) == {"model.safetensors"}
    assert not (converted / "converted").exists()
    spec = json.loads((converted / "tokenizer.json").read_text())
    assert spec["truncation"] is None and spec["padding"] is None
    model = AutoModelForMaskedLM.from_pretrained(converted)
    assert model.config.vocab_size == 12
    assert not torch.equal(model.cls.predictions.bias, torch.zeros(12))  # the prior, then trained
    again_dir = tmp_path / "again"
    e5.convert_e5_to_bert(tmp_path / "tiny.bin", tmp_path / "tok.json", again_dir / "converted")
    again = warm_started(again_dir, {"params": 1}, corpus(), st)
    for counts in (manifest, again):
        del counts["mlm_head_warmup"]["seconds"]
    assert again == manifest
