import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from hyperofa.hypernet.data import split_tokens

from .conftest import make_problem, tiny_configs

REPO = Path(__file__).resolve().parents[3]


def _child(run_dir: Path, out: Path, hang_at: int | None = None) -> subprocess.Popen:
    args = [sys.executable, "-m", "tests.unit.hypernet._resume_child", str(run_dir), str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        args + ([str(hang_at)] if hang_at is not None else []),
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()[-3000:]


@pytest.mark.slow
def test_sigkill_mid_epoch_then_rerun_gives_the_uninterrupted_weights(tmp_path):
    _, train_cfg = tiny_configs()
    matched = np.flatnonzero(np.diff(make_problem().indptr) > 0)
    steps = len(split_tokens(matched, train_cfg.split, train_cfg.split_seed)[0]) // 16
    hang_at = steps + 3  # in epoch 1, after a mid-epoch checkpoint
    run_dir = tmp_path / "killed" / "run"
    run_dir.parent.mkdir()
    proc = _child(run_dir, tmp_path / "never.pt", hang_at)
    deadline = time.monotonic() + 240
    while not (run_dir.parent / "hanging").exists():
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
        assert time.monotonic() < deadline, "the child never reached the kill point"
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    ckpt = torch.load(run_dir / "checkpoints/last.ckpt", weights_only=True)
    order = next(v for k, v in ckpt["callbacks"].items() if "ReplayableOrder" in k)
    assert order["epoch"] == 1 and 0 < order["batches_started"] < steps  # mid-epoch
    assert ckpt["global_step"] == steps + order["batches_started"]
    assert not (run_dir / "result.json").exists()

    _finish(_child(run_dir, tmp_path / "resumed.pt"))
    _finish(_child(tmp_path / "whole" / "run", tmp_path / "whole.pt"))
    resumed, whole = (
        torch.load(tmp_path / f, weights_only=True) for f in ("resumed.pt", "whole.pt")
    )
    assert resumed["metrics"]["best_val_loss"] == whole["metrics"]["best_val_loss"]
    for kind in ("final", "best"):
        for name, value in whole[kind].items():
            assert torch.equal(value, resumed[kind][name]), (kind, name)
