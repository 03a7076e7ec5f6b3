import csv
import json
from dataclasses import replace

import numpy as np
import pytest
import pytorch_lightning as pl
import torch

from hyperofa.errors import ConfigError, EmptyInputError, IncompatibleInputsError
from hyperofa.evaluate.intrinsic import intrinsic_scores
from hyperofa.hypernet.data import LengthGroupedSampler, TokenWordSets, split_tokens
from hyperofa.hypernet.loss import NonFiniteLossError
from hyperofa.hypernet.train import predict, train_hypernet

from .conftest import tiny_configs
from .conftest import train_problem as _train


def _val_losses(run_dir) -> list[float]:
    with open(next(run_dir.glob("csv/version_*/metrics.csv"))) as f:
        return [float(r["val/loss"]) for r in csv.DictReader(f) if r.get("val/loss")]


@pytest.mark.parametrize("architecture", ["bilstm", "setformer"])
def test_loss_goes_down_and_the_result_is_complete(problem, tmp_path, architecture):
    model_cfg, train_cfg = tiny_configs(architecture, max_epochs=6, gamma=1.0)
    result = _train(problem, tmp_path, model_cfg, train_cfg)
    losses = _val_losses(tmp_path)
    assert len(losses) == 6 and losses[-1] < 0.85 * losses[0]  # ~0.75 and ~0.64 here
    assert result.metrics["best_val_loss"] == pytest.approx(min(losses), rel=1e-5)
    assert result.metrics["epochs"] == 6 and result.metrics["samples_per_s"] > 0
    matched = np.flatnonzero(np.diff(problem.indptr) > 0)
    splits = [result.splits[k] for k in ("train", "val", "test")]
    assert np.array_equal(np.sort(np.concatenate(splits)), matched)
    test_ids = result.splits["test"]
    scores = intrinsic_scores(
        predict(result.model, problem.indptr, problem.indices, test_ids), problem.targets[test_ids]
    )
    assert scores["cosine"] > 0.5 and scores["l1_norm"] < 0.9  # ~0.8 and ~0.6–0.7 here


def test_same_seed_same_predictions_other_seed_not(problem, tmp_path):
    model_cfg, train_cfg = tiny_configs(max_epochs=2)
    tokens = np.flatnonzero(np.diff(problem.indptr) > 0)
    preds = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        result = _train(problem, tmp_path / name, model_cfg, replace(train_cfg, seed=seed))
        preds.append(predict(result.model, problem.indptr, problem.indices, tokens, batch_size=7))
    assert np.array_equal(preds[0], preds[1])
    assert not np.allclose(preds[0], preds[2])


def test_predict_keeps_the_callers_order_and_refuses_tokens_without_words(problem, tmp_path):
    result = _train(problem, tmp_path, *tiny_configs(max_epochs=1))
    tokens = np.flatnonzero(np.diff(problem.indptr) > 0)[:20]
    forward = predict(result.model, problem.indptr, problem.indices, tokens, batch_size=6)
    backward = predict(result.model, problem.indptr, problem.indices, tokens[::-1], batch_size=6)
    np.testing.assert_allclose(forward, backward[::-1], rtol=1e-5, atol=1e-6)
    empty = np.flatnonzero(np.diff(problem.indptr) == 0)[:1]
    with pytest.raises(IncompatibleInputsError, match="without matched words"):
        predict(result.model, problem.indptr, problem.indices, empty)


def test_bad_inputs_raise_named_errors_before_training(problem, tmp_path):
    model_cfg, train_cfg = tiny_configs()
    p = problem
    with pytest.raises(IncompatibleInputsError, match="input_dim"):
        train_hypernet(
            p.indptr,
            p.indices,
            p.word_vectors[:, :5],
            p.targets,
            model_cfg,
            train_cfg,
            tmp_path / "a",
        )
    with pytest.raises(IncompatibleInputsError, match="rows"):
        train_hypernet(
            p.indptr,
            p.indices,
            p.word_vectors,
            p.targets[:10],
            model_cfg,
            train_cfg,
            tmp_path / "b",
        )
    no_words = np.zeros_like(p.indptr)
    with pytest.raises(EmptyInputError, match="no source token"):
        train_hypernet(
            no_words, p.indices[:0], p.word_vectors, p.targets, model_cfg, train_cfg, tmp_path / "c"
        )
    with pytest.raises(ConfigError, match="batch_size"):
        train_hypernet(
            p.indptr,
            p.indices,
            p.word_vectors,
            p.targets,
            model_cfg,
            replace(train_cfg, batch_size=500),
            tmp_path / "d",
        )
    with pytest.raises(EmptyInputError, match="validation split"):
        train_hypernet(
            p.indptr,
            p.indices,
            p.word_vectors,
            p.targets,
            model_cfg,
            replace(train_cfg, split=(1.0, 0.0, 0.0)),
            tmp_path / "e",
        )
    assert not any(tmp_path.iterdir())  # nothing written


def test_a_finished_run_is_reused_and_a_foreign_run_dir_refused(problem, tmp_path):
    model_cfg, train_cfg = tiny_configs(max_epochs=1)
    first = _train(problem, tmp_path, model_cfg, train_cfg)
    again = _train(problem, tmp_path, model_cfg, train_cfg)
    assert again.metrics == first.metrics
    for k, v in first.model.state_dict().items():
        assert torch.equal(v, again.model.state_dict()[k])
    with pytest.raises(IncompatibleInputsError, match="new run dir"):
        _train(problem, tmp_path, model_cfg, replace(train_cfg, lr=0.5))


def _third_batch_token(problem, train_cfg, max_context) -> int:
    """A training token of epoch 0's third batch, as the run will see it."""
    matched = np.flatnonzero(np.diff(problem.indptr) > 0)
    train = split_tokens(matched, train_cfg.split, train_cfg.split_seed)[0]
    lengths = TokenWordSets(problem.indptr, problem.indices, train, None, max_context).lengths()
    sampler = LengthGroupedSampler(
        lengths, train_cfg.batch_size, train_cfg.length_group_chunk, train_cfg.seed
    )
    return int(train[sampler.batches(0)[2][0]])


def test_nan_target_stops_training_and_keeps_the_last_good_checkpoint(problem, tmp_path):
    model_cfg, train_cfg = tiny_configs(checkpoint_every_n_steps=1)
    token = _third_batch_token(problem, train_cfg, model_cfg.max_context)
    problem.targets[token] = np.nan
    with pytest.raises(NonFiniteLossError, match=f"step 2 .*{token}"):
        _train(problem, tmp_path, model_cfg, train_cfg)
    last = torch.load(tmp_path / "checkpoints/last.ckpt", weights_only=True)
    assert last["global_step"] == 2  # saved after step 2, before the poisoned batch
    assert all(torch.isfinite(v).all() for v in last["state_dict"].values())
    assert not (tmp_path / "result.json").exists()


class _Interrupt(pl.Callback):
    """Stops training abruptly before a given step (after the checkpoint of the step before)."""

    def __init__(self, at_step: int):
        self.at_step = at_step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.at_step:
            raise RuntimeError("interrupted")


class _Final(pl.Callback):
    def on_fit_end(self, trainer, pl_module):
        self.state = {k: v.clone() for k, v in pl_module.net.state_dict().items()}


def test_an_interrupted_run_resumes_mid_epoch_to_the_same_weights(problem, tmp_path):
    model_cfg, train_cfg = tiny_configs(max_epochs=3, checkpoint_every_n_steps=2)
    steps_per_epoch = int(
        len(split_tokens(np.flatnonzero(np.diff(problem.indptr) > 0), train_cfg.split, 0)[0])
        // train_cfg.batch_size
    )
    at = steps_per_epoch + 3  # in epoch 1, after the checkpoint of step steps_per_epoch + 2
    with pytest.raises(RuntimeError, match="interrupted"):
        _train(problem, tmp_path / "cut", model_cfg, train_cfg, callbacks=[_Interrupt(at)])
    ckpt = torch.load(tmp_path / "cut/checkpoints/last.ckpt", weights_only=True)
    order = next(v for k, v in ckpt["callbacks"].items() if "ReplayableOrder" in k)
    assert order["epoch"] == 1 and 0 < order["batches_started"] < steps_per_epoch  # mid-epoch
    resumed_final, whole_final = _Final(), _Final()
    resumed = _train(problem, tmp_path / "cut", model_cfg, train_cfg, callbacks=[resumed_final])
    whole = _train(problem, tmp_path / "whole", model_cfg, train_cfg, callbacks=[whole_final])
    assert resumed.metrics["best_val_loss"] == whole.metrics["best_val_loss"]
    for name, value in whole_final.state.items():
        assert torch.equal(value, resumed_final.state[name]), name
    for name, value in whole.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name
    assert json.loads((tmp_path / "cut/result.json").read_text())["metrics"]["epochs"] == 3
