import json

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from hyperofa.config.training import TrainerConfig
from hyperofa.errors import ConfigError, EmptyInputError, IncompatibleInputsError
from hyperofa.models import MASKED_ENCODER
from hyperofa.models.heads import output_bias
from hyperofa.pretrain.plot import read_metrics
from hyperofa.pretrain.prepare import prepare_cpt_data
from hyperofa.pretrain.train import pretrain
from tests.tiny import unigram_tokenizer
from tests.unit.pretrain.conftest import make_texts, tiny_config

QUIET = TrainerConfig(progress=False)


def _run(model_dir, tokenizer, run_dir, cfg, train=None, val=None):
    train = make_texts(30) if train is None else train
    val = make_texts(4, seed=1) if val is None else val
    return pretrain(model_dir, tokenizer, train, val, cfg, run_dir, hw=QUIET)


@pytest.fixture(scope="module")
def finished(model_dirs, tokenizer, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    cfg = tiny_config(max_steps=8, val_check_interval=4, checkpoint_every_n_steps=4)
    return run_dir, cfg, _run(model_dirs["plain"], tokenizer, run_dir, cfg)


@pytest.mark.parametrize("kind", ["plain", "factorized"])
def test_loss_goes_down_on_repetitive_text(model_dirs, tokenizer, tmp_path, kind):
    cfg = tiny_config(
        max_steps=20, batch_size=8, lr=1e-2, val_check_interval=10, checkpoint_every_n_steps=10
    )
    result = _run(model_dirs[kind], tokenizer, tmp_path, cfg)
    losses = [v for _, v in read_metrics(tmp_path / "csv")["train/loss"]]
    assert len(losses) == 20 and result["steps"] == 20
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.3
    assert result["val_loss_after"] < result["val_loss_before"] - 0.3
    assert set(result["val_loss_after_per_language"]) == {"aaa", "bbb", "ccc"}


def test_the_saved_model_reloads_with_the_trained_weights_and_logits(finished, tokenizer):
    run_dir, _, result = finished
    trained = MASKED_ENCODER.load(run_dir / "model")  # the architecture, refilled:
    state = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    trained.load_state_dict({k.removeprefix("model."): v for k, v in state.items()})
    reloaded = MASKED_ENCODER.load(result["model_dir"])
    ids = tokenizer(["the cat sat on the mat", "la pluie tombe"], padding=True, return_tensors="pt")
    with torch.no_grad():
        a = trained(input_ids=ids["input_ids"], attention_mask=ids["attention_mask"]).logits
        b = reloaded(input_ids=ids["input_ids"], attention_mask=ids["attention_mask"]).logits
    assert torch.equal(a, b)
    assert len(AutoTokenizer.from_pretrained(result["model_dir"])) == len(tokenizer)
    assert (run_dir / "loss.png").stat().st_size > 0
    assert result["steps"] == 8 and not result["resumed"]
    metrics = read_metrics(run_dir / "csv")
    assert [s for s, _ in metrics["val/loss"]] == [0, 4, 8]
    assert metrics["val/loss"][0][1] == pytest.approx(result["val_loss_before"])
    assert {"val/loss_aaa", "val/loss_bbb", "val/loss_ccc", "train/lr"} <= set(metrics)


def test_a_finished_run_is_returned_not_retrained_and_its_dir_is_claimed(
    finished, model_dirs, tokenizer
):
    run_dir, cfg, result = finished
    assert (
        _run(model_dirs["plain"], tokenizer, run_dir, cfg)
        == json.loads((run_dir / "pretrain.json").read_text())
        == result
    )
    (run_dir / "pretrain.json").rename(run_dir / "done.json")
    try:
        with pytest.raises(IncompatibleInputsError, match="lr"):
            _run(model_dirs["plain"], tokenizer, run_dir, tiny_config(max_steps=8, lr=1.0))
    finally:
        (run_dir / "done.json").rename(run_dir / "pretrain.json")


def test_training_on_prepared_blocks_gives_the_same_curves_and_weights(
    finished, model_dirs, tokenizer, tmp_path
):
    run_dir, cfg, result = finished
    prepare_cpt_data(tokenizer, make_texts(30), make_texts(4, seed=1), tmp_path / "data", 24)
    got = pretrain(
        model_dirs["plain"], tokenizer, tmp_path / "data", None, cfg, tmp_path / "run", hw=QUIET
    )
    want_curves, got_curves = read_metrics(run_dir / "csv"), read_metrics(tmp_path / "run" / "csv")
    for name in ("train/loss", "val/loss", "val/loss_bbb", "train/lr"):
        assert got_curves[name] == want_curves[name], name
    same = ("train_blocks", "val_blocks", "sampling", "val_loss_after", "train_loss_last")
    assert {k: got[k] for k in same} == {k: result[k] for k in same}
    a = MASKED_ENCODER.load(got["model_dir"]).state_dict()
    b = MASKED_ENCODER.load(result["model_dir"]).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"train": {**make_texts(3), "ddd": ["", "  "]}}, EmptyInputError, r"\['ddd'\]"),
        ({"val": {"aaa": ["x"]}}, EmptyInputError, r"held-out.*\['bbb', 'ccc'\]"),
        ({"train": {"aaa": ["  "], "bbb": []}}, EmptyInputError, "empty after"),
        ({"cfg": {"max_length": 65}}, ConfigError, "pretrain.max_length"),
        ({"cfg": {"mlm_probability": 1.5}}, ConfigError, "pretrain.mlm_probability"),
        ({"cfg": {"effective_batch_size": 10}}, ConfigError, "pretrain.effective_batch_size"),
        ({"tokenizer": "bigger"}, IncompatibleInputsError, "vocabulary"),
    ],
)
def test_bad_input_fails_before_training_with_a_named_error(
    model_dirs, tokenizer, tmp_path, change, error, match
):
    if change.get("tokenizer"):
        tokenizer = unigram_tokenizer([f"\u2581w{i}" for i in range(len(tokenizer))])
    cfg = tiny_config(**change.get("cfg", {}))
    with pytest.raises(error, match=match):
        _run(
            model_dirs["plain"],
            tokenizer,
            tmp_path / "run",
            cfg,
            change.get("train"),
            change.get("val"),
        )
    assert not (tmp_path / "run").exists()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_bf16_mixed_on_one_gpu_trains_and_saves_an_fp32_model(model_dirs, tokenizer, tmp_path):
    gpu = TrainerConfig(
        accelerator="gpu", precision="bf16-mixed", deterministic=False, progress=False
    )
    result = pretrain(
        model_dirs["plain"],
        tokenizer,
        make_texts(30),
        make_texts(4, seed=1),
        tiny_config(),
        tmp_path,
        hw=gpu,
    )
    assert result["steps"] == 6 and np.isfinite(result["val_loss_after"])
    model = MASKED_ENCODER.load(result["model_dir"])
    assert output_bias(model).dtype == torch.float32
