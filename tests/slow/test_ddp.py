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


# The pretrain child with a callback that writes what each micro-batch holds, per rank.
RECORDING_CHILD = """
import json, sys
from pathlib import Path

import pytorch_lightning as pl

import child  # the pretrain child of test_pretrain_resume, beside this file


class Record(pl.Callback):
    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        row = {"update": trainer.global_step, "index": batch["index"].tolist(),
               "input_ids": batch["input_ids"].tolist(), "labels": batch["labels"].tolist()}
        path = Path(trainer.default_root_dir) / f"batches-{trainer.global_rank}.jsonl"
        with path.open("a") as f:
            f.write(json.dumps(row) + "\\n")


original = child.pretrain
child.pretrain = lambda *a, **k: original(*a, **{**k, "callbacks": [Record()]})
child.main()
"""


def micro_batches(run_dir: Path) -> dict[int, list[tuple]]:
    """update → its micro-batches (stream indices, inputs, labels) over all ranks, sorted."""
    updates: dict[int, list[tuple]] = {}
    for path in run_dir.glob("batches-*.jsonl"):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            key = (row["index"], row["input_ids"], row["labels"])
            updates.setdefault(row["update"], []).append(json.dumps(key))
    return {u: sorted(b) for u, b in updates.items()}


def test_two_ranks_train_as_one_process_with_the_same_effective_batch(tmp_path):
    """2 ranks × batch 2 × accumulation 1 = 1 process × batch 2 × accumulation 2: the same
    micro-batches in each update, the same losses (to float reduction order)."""
    spec = write_inputs(tmp_path)
    (tmp_path / "recording.py").write_text(RECORDING_CHILD)
    cfg = {
        **spec["cfg"],
        "max_steps": 6,
        "batch_size": 2,
        "effective_batch_size": 4,
        "val_check_interval": 3,
        "checkpoint_every_n_steps": 3,
    }
    one_process = {"accelerator": "cpu", "devices": 1, "precision": "32-true"}
    results = {}
    for name, trainer in (("ddp", ddp_on_cpu()), ("one", one_process)):
        run = {**spec, "cfg": cfg, "run_dir": str(tmp_path / name), "trainer": trainer}
        proc = child(tmp_path, run, name, script="recording.py")
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out[-3000:]
        line = next(line for line in out.splitlines() if line.startswith("RESULT "))
        results[name] = json.loads(line[7:])
    assert results["ddp"]["effective_batch_size"] == results["one"]["effective_batch_size"] == 4
    ddp, one = micro_batches(tmp_path / "ddp"), micro_batches(tmp_path / "one")
    assert sorted(ddp) == list(range(6)) and ddp == one
    assert all(len(batches) == 2 for batches in one.values())
    want, got = read_metrics(tmp_path / "one" / "csv"), read_metrics(tmp_path / "ddp" / "csv")
    for name in ("train/loss", "val/loss"):
        assert [s for s, _ in got[name]] == [s for s, _ in want[name]], name
        for (step, a), (_, b) in zip(got[name], want[name], strict=True):
            assert abs(a - b) <= 1e-4, (name, step, a, b)
