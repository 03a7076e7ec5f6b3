"""Stages cpt_data and pretrain for a causal decoder: the data keyed by the objective, the model
keyed by train_only (and the source vocabulary size for new_rows), trained on the prepared
blocks with the family's next-token loss."""

from dataclasses import replace

import pytest
import torch

from hyperofa.artifacts import Artifact
from hyperofa.config.enums import TrainOnly
from hyperofa.config.training import LoggerConfig, TrainerConfig
from hyperofa.models import CAUSAL_DECODER
from hyperofa.stages.common import Keyed
from hyperofa.stages.cpt_data import cpt_data, load
from hyperofa.stages.pretrain import LOGS, pretrain
from hyperofa.training.loggers import Tracking
from tests.unit.pretrain.conftest import (
    DECODER_SOURCE,
    decoder_tokenizer,
    make_texts,
    make_tokenizer,
    save_decoder,
    tiny_config,
)

pytest.importorskip("datasets")
TEXTS = Keyed((make_texts(20), make_texts(3, seed=1)), "udhr:aaa,bbb,ccc")


def test_causal_blocks_are_a_data_artifact_of_their_own():
    cfg, tokenizer = tiny_config(max_length=16), make_tokenizer()  # one that fits both
    masked = cpt_data(cfg, TEXTS, tokenizer)
    causal = cpt_data(cfg, TEXTS, tokenizer, masked=False)
    assert causal.path != masked.path
    assert cpt_data(cfg, TEXTS, tokenizer, masked=False).path == causal.path
    assert load(masked).meta["objective"] == "masked"
    assert load(causal).meta["objective"] == "causal"


def test_the_pretrain_stage_trains_a_decoder_on_new_rows_only(tmp_path):
    tokenizer = decoder_tokenizer(pad=False)
    path = save_decoder(tmp_path / "model", "llama_untied", len(tokenizer))
    model = Artifact("assemble", "m0", path, {})
    cfg = tiny_config(max_steps=4, train_only=TrainOnly.new_rows)
    hw, tracking = TrainerConfig(progress=False), Tracking(LoggerConfig(), tmp_path / "run")
    args = (CAUSAL_DECODER, cfg, hw, tracking, model, tokenizer, TEXTS)
    art = pretrain(*args, n_source=DECODER_SOURCE)
    assert art.counts["steps"] == 4 and (art.path / LOGS / "loss.png").exists()
    before, after = CAUSAL_DECODER.load(path), CAUSAL_DECODER.load(art.path)
    for name in ("model.embed_tokens.weight", "lm_head.weight"):
        a, b = before.get_parameter(name), after.get_parameter(name)
        assert torch.equal(a[:DECODER_SOURCE], b[:DECODER_SOURCE]), name
        assert not torch.equal(a[DECODER_SOURCE:], b[DECODER_SOURCE:]), name
    assert pretrain(*args, n_source=DECODER_SOURCE).path == art.path  # cached
    other = pretrain(*args, n_source=DECODER_SOURCE - 1)
    assert other.path != art.path
    all_rows = replace(cfg, train_only=TrainOnly.all)
    assert pretrain(CAUSAL_DECODER, all_rows, *args[2:], n_source=DECODER_SOURCE).path == (
        pretrain(CAUSAL_DECODER, all_rows, *args[2:]).path
    )  # n_source is keyed only for new_rows
