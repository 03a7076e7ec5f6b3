"""The embedded default end to end (the assets are built once into outputs/assets and shared)."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_demo_sweep_on_the_embedded_default(tmp_path):
    """A 2-job multirun (random vs ofa at D' = 100) through the real entry point."""
    cmd = [
        sys.executable,
        "-m",
        "hyperofa.cli.run",
        "-m",
        "initializer=random,ofa",
        "factorize=svd100",
        "eval.max_texts_per_language=2",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3000)
    assert out.returncode == 0, out.stderr[-3000:]
    summary_line = [line for line in out.stdout.splitlines() if line.startswith("summary: ")][-1]
    with open(summary_line.removeprefix("summary: ")) as f:
        rows = json.load(f)
    assert [(r["initializer"], r["dim"]) for r in rows] == [
        ("source", None),
        ("random", 100),
        ("ofa", 100),
    ]
    random_row, ofa_row = rows[1], rows[2]
    assert ofa_row["counts"]["initialized"] > 0 and random_row["counts"]["initialized"] == 0
    for row in rows:
        assert 0 < row["metrics"]["mlm_loss_heldout"] < 20
        assert 0 <= row["metrics"]["sr_udhr_top10"] <= 1
