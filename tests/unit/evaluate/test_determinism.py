"""A downstream score depends only on its inputs and seed, not on what ran before it in the
process (global RNG draws, the deterministic-algorithms flag a Trainer leaves set, a hypernetwork
trained in between): the same fine-tuning, fresh and after other work, gives the same figures."""

from __future__ import annotations

import random

import numpy as np
import torch

from hyperofa.config.evaluate import FineTuneConfig
from hyperofa.config.training import TrainerConfig
from hyperofa.evaluate.tagging import zero_shot_tagging
from hyperofa.evaluate.tasks import load_encoder
from tests.unit.evaluate.test_tagging import LABELS, toy_sentences
from tests.unit.hypernet.conftest import make_problem, tiny_configs, train_problem


def _score(model_dir) -> dict:
    encoder, tok = load_encoder(model_dir)
    cfg = FineTuneConfig(epochs=2, lr=5e-3, batch_size=8, accumulate_grad_batches=1, max_length=16)
    result = zero_shot_tagging(
        encoder, tok, toy_sentences(24, 0), toy_sentences(8, 1), {"xx": toy_sentences(8, 2)},
        LABELS, "pos", cfg, seed=3, hw=TrainerConfig(progress=False),
    )  # fmt: skip
    return {"per_language": result["per_language"], "fine_tune": result["fine_tune"]}


def test_a_fine_tuning_score_does_not_depend_on_earlier_work(model_dir, tmp_path):
    fresh = _score(model_dir)
    before = torch.are_deterministic_algorithms_enabled()
    try:
        random.random(), np.random.rand(7), torch.rand(11)  # other stages draw from the globals
        torch.use_deterministic_algorithms(not before)
        train_problem(make_problem(), tmp_path / "hypernet", *tiny_configs(max_epochs=1))
        assert _score(model_dir) == fresh
    finally:
        torch.use_deterministic_algorithms(before)
