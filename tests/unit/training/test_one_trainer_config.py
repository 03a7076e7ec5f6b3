"""One `TrainerConfig` reaches all three trainers: the hypernetwork, continued pre-training and
fine-tuning. On CPU, bf16-mixed stands in for a GPU setting (Lightning runs it with autocast; the
SetFormer hypernet, since oneDNN has no bf16 LSTM); the `gpu`-marked test does it on a GPU."""

from __future__ import annotations

import pytest
import pytorch_lightning as pl
import torch

from hyperofa.config.evaluate import FineTuneConfig
from hyperofa.config.training import TrainerConfig
from hyperofa.evaluate.tagging import zero_shot_tagging
from hyperofa.evaluate.tasks import load_encoder
from hyperofa.pretrain.train import pretrain
from tests.unit.evaluate.conftest import save_assembled, xlmr_like_tokenizer
from tests.unit.evaluate.test_tagging import LABELS, toy_sentences
from tests.unit.hypernet.conftest import make_problem, tiny_configs, train_problem
from tests.unit.pretrain.conftest import make_texts, make_tokenizer, tiny_config
from tests.unit.pretrain.conftest import save_assembled as save_mlm


class Seen(pl.Callback):
    """Records the hardware each fit ran on."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, str]] = []

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.runs.append((type(trainer.accelerator).__name__, str(trainer.precision)))


def _all_three(hw: TrainerConfig, tmp_path, monkeypatch) -> list[tuple[str, str]]:
    seen = Seen()
    train_problem(make_problem(), tmp_path / "hypernet", *tiny_configs("setformer", max_epochs=1), hw=hw,
                  callbacks=[seen])  # fmt: skip
    tok = make_tokenizer()
    model = save_mlm(tmp_path / "mlm", len(tok), None)
    pretrain(model, tok, make_texts(10), make_texts(3, seed=1), tiny_config(max_steps=2,
             val_check_interval=2), tmp_path / "cpt", hw=hw, callbacks=[seen])  # fmt: skip
    import hyperofa.evaluate.finetune as finetune

    real = finetune.build_trainer
    monkeypatch.setattr(
        finetune, "build_trainer", lambda *a, **k: real(*a, **{**k, "callbacks": [seen]})
    )
    encoder, tok = load_encoder(save_assembled(xlmr_like_tokenizer(), tmp_path / "tag"))
    cfg = FineTuneConfig(epochs=1, batch_size=8, accumulate_grad_batches=1, max_length=16)
    zero_shot_tagging(encoder, tok, toy_sentences(16, 0), toy_sentences(4, 1), {}, LABELS,
                      "pos", cfg, 0, hw)  # fmt: skip
    return seen.runs


def test_trainer_settings_reach_hypernet_pretraining_and_fine_tuning(tmp_path, monkeypatch):
    hw = TrainerConfig(precision="bf16-mixed", progress=False)
    assert _all_three(hw, tmp_path, monkeypatch) == [("CPUAccelerator", "bf16-mixed")] * 3


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_trainer_gpu_reaches_all_three_trainers(tmp_path, monkeypatch):
    hw = TrainerConfig(accelerator="gpu", precision="bf16-mixed", deterministic=False)
    hw.progress = False
    assert _all_three(hw, tmp_path, monkeypatch) == [("CUDAAccelerator", "bf16-mixed")] * 3
