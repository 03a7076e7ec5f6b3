"""Kill -9 during pre-training, rerun with the same run dir: the resumed run must match an
uninterrupted one (same seed) at every later logged step, and end with the same weights."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

from hyperofa.pretrain.plot import read_metrics
from hyperofa.pretrain.prepare import prepare_cpt_data
from tests.unit.pretrain.conftest import make_texts, make_tokenizer, save_assembled

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

# Run by a fresh interpreter: pretrain() with the settings in the JSON file given as argv[1].
CHILD = """
import json, sys, time
from pathlib import Path

import torch

torch.set_num_threads(1)  # the same float reductions in every process
import pytorch_lightning as pl
from transformers import AutoTokenizer

from hyperofa.config.pretrain import PretrainConfig
from hyperofa.config.training import TrainerConfig
from hyperofa.pretrain.train import pretrain


class Slow(pl.Callback):
    def __init__(self, seconds):
        self.seconds = seconds

    def on_train_batch_end(self, *args):
        time.sleep(self.seconds)


def main():
    spec = json.loads(Path(sys.argv[1]).read_text())
    texts = json.loads(Path(spec["texts"]).read_text())
    train, val = (spec["prepared"], None) if spec.get("prepared") else (texts["train"], texts["val"])
    hw = TrainerConfig(**{**spec.get("trainer", {}), "progress": False})
    result = pretrain(
        Path(spec["model"]), AutoTokenizer.from_pretrained(spec["tokenizer"]), train, val,
        PretrainConfig(**spec["cfg"]), Path(spec["run_dir"]), hw=hw,
        callbacks=[Slow(spec["sleep"])] if spec.get("sleep") else [],
    )
    if result:
        print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
"""

CFG = dict(
    max_steps=24,
    batch_size=4,
    accumulate_grad_batches=2,
    lr=3e-3,
    warmup_steps=2,
    max_length=24,
    val_check_interval=6,
    checkpoint_every_n_steps=4,
    seed=3,
)


def write_inputs(tmp: Path) -> dict:
    """Tokenizer, model, texts and the child script under `tmp`; the spec shared by all runs."""
    tok = make_tokenizer()
    tok.save_pretrained(tmp / "tokenizer")
    model = save_assembled(tmp / "model", len(tok), 8)
    texts = {"train": make_texts(40), "val": make_texts(6, seed=1)}
    (tmp / "texts.json").write_text(json.dumps(texts))
    (tmp / "child.py").write_text(CHILD)
    return {
        "tokenizer": str(tmp / "tokenizer"),
        "model": str(model),
        "texts": str(tmp / "texts.json"),
        "cfg": CFG,
    }


def child(tmp: Path, spec: dict, name: str, script: str = "child.py") -> subprocess.Popen:
    path = tmp / f"{name}.json"
    path.write_text(json.dumps(spec))
    path_ = f"{ROOT / 'src'}{os.pathsep}{ROOT}"  # this checkout's code, not an installed copy
    env = {**os.environ, "PYTHONPATH": path_, "WANDB_MODE": "offline"}
    return subprocess.Popen(
        [sys.executable, str(tmp / script), str(path)],
        cwd=tmp,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 240) -> dict:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-3000:]
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    return json.loads(lines[-1].removeprefix("RESULT "))


def kill_after_checkpoint(proc: subprocess.Popen, checkpoint: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not checkpoint.exists():
        assert proc.poll() is None, "the run ended before its first checkpoint"
        assert time.monotonic() < deadline, "no checkpoint in time"
        time.sleep(0.05)
    time.sleep(1.0)  # a few more updates that the resumed run must redo
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.mark.parametrize("data", ["in memory", "prepared on disk"])
def test_killed_run_resumes_to_the_same_losses_and_weights(tmp_path, data):
    spec = write_inputs(tmp_path)
    if data == "prepared on disk":
        texts = json.loads(Path(spec["texts"]).read_text())
        tok = make_tokenizer()
        prepare_cpt_data(tok, texts["train"], texts["val"], tmp_path / "data", CFG["max_length"])
        spec["prepared"] = str(tmp_path / "data")
    reference = child(tmp_path, {**spec, "run_dir": str(tmp_path / "reference")}, "reference")
    run_dir = tmp_path / "killed"
    killed = child(tmp_path, {**spec, "run_dir": str(run_dir), "sleep": 0.25}, "killed")
    kill_after_checkpoint(killed, run_dir / "checkpoints" / "last.ckpt")
    assert not (run_dir / "pretrain.json").exists(), "killed too late: the run had finished"
    ref = finish(reference)
    resumed = finish(child(tmp_path, {**spec, "run_dir": str(run_dir)}, "resumed"))
    assert resumed["resumed"] and not ref["resumed"]

    versions = sorted((run_dir / "csv").glob("version_*"))
    assert len(versions) == 2
    later = read_metrics(versions[-1] / "metrics.csv")
    first_resumed = later["train/loss"][0][0]
    assert 1 < first_resumed <= CFG["max_steps"]
    want, got = read_metrics(tmp_path / "reference" / "csv"), read_metrics(run_dir / "csv")
    for name in ("train/loss", "val/loss", "train/lr"):
        assert [s for s, _ in got[name]] == [s for s, _ in want[name]], name
        for (step, a), (_, b) in zip(got[name], want[name], strict=True):
            assert abs(a - b) <= 1e-6, (name, step, a, b)
    assert [s for s, _ in later["train/loss"]] == list(range(first_resumed, CFG["max_steps"] + 1))
    assert resumed["val_loss_after"] == pytest.approx(ref["val_loss_after"], abs=1e-6)
    assert resumed["train_loss_first"] == pytest.approx(ref["train_loss_first"], abs=1e-6)

    a = load_file(str(Path(ref["model_dir"]) / "model.safetensors"))
    b = load_file(str(Path(resumed["model_dir"]) / "model.safetensors"))
    assert a.keys() == b.keys()
    assert all((a[k] - b[k]).abs().max() <= 1e-6 for k in a)
