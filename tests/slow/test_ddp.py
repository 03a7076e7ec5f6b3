"""DDP on CPU: 2 processes over gloo (conf/trainer/ddp.yaml with CPU overrides) train a few
steps, rank 0 alone writes the result and a model that loads back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from hyperofa.cli import CONF_DIR
from hyperofa.models import MASKED_ENCODER
from hyperofa.pretrain.plot import read_metrics
from tests.slow.test_pretrain_resume import child, write_inputs

pytestmark = pytest.mark.slow


def ddp_on_cpu() -> dict:
    overrides = [
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "trainer.precision=32-true",
        "trainer.deterministic=true",
    ]
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        node = OmegaConf.to_container(
            compose(config_name="trainer/ddp", overrides=overrides).trainer
        )
    assert node["strategy"] == "ddp" and node["accelerator"] == "cpu"
    return node


def test_two_cpu_processes_train_and_rank_zero_saves_the_model(tmp_path):
    spec = write_inputs(tmp_path)
    cfg = {
        **spec["cfg"],
        "max_steps": 6,
        "batch_size": 2,
        "accumulate_grad_batches": 1,
        "effective_batch_size": 8,
        "val_check_interval": 3,
        "checkpoint_every_n_steps": 3,
    }
    run_dir = tmp_path / "ddp"
    proc = child(
        tmp_path, {**spec, "cfg": cfg, "run_dir": str(run_dir), "trainer": ddp_on_cpu()}, "ddp"
    )
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out[-3000:]
    assert out.count("RESULT ") == 1  # rank 1 returns {} and prints nothing
    result = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
    assert result["steps"] == 6 and result["effective_batch_size"] == 8  # 2 per rank × 2 ranks × 2
    assert result["val_loss_after"] < result["val_loss_before"]
    metrics = read_metrics(run_dir / "csv")
    assert [s for s, _ in metrics["train/loss"]] == list(range(1, 7))
    assert [s for s, _ in metrics["val/loss"]] == [0, 3, 6]
    model = MASKED_ENCODER.load(Path(result["model_dir"]))
    ids = torch.tensor([[0, 5, 6, 7, 2]])
    assert torch.isfinite(model(input_ids=ids).logits).all()
    assert (run_dir / "checkpoints" / "last.ckpt").exists()
