"""Sweeps share their cached stages: computed once per setting, never corrupted by two sweeps
running at the same time into the same cache."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hyperofa import pipeline
from hyperofa.artifacts import MANIFEST
from hyperofa.paths import cache_root

from .conftest import compose_run
from .test_hyperofa import TINY_HYPERNET

pytestmark = pytest.mark.integration
INITIALIZERS, DIMS = ("random", "ofa", "hyperofa"), (8, 16)
HYPERNET = [o for o in TINY_HYPERNET if not o.startswith("initializer=")]
UP_TO_INITIALIZE = "stages=[match,factorize,copy,initialize]"  # the shared stages


def _built(caplog, stage: str) -> int:
    return sum(r.getMessage().startswith(f"{stage}: built") for r in caplog.records)


def test_a_sweep_computes_each_shared_stage_once(tmp_path, tiny_overrides, caplog):
    caplog.set_level(logging.INFO, logger="hyperofa")
    for job, (init, dim) in enumerate((i, d) for i in INITIALIZERS for d in DIMS):
        overrides = [
            *tiny_overrides,
            *HYPERNET,
            UP_TO_INITIALIZE,
            f"initializer={init}",
            f"factorize.dim={dim}",
        ]
        pipeline.run(compose_run(overrides, tmp_path / str(job)))
    assert _built(caplog, "match") == 2  # source and target side, once for the whole sweep
    assert _built(caplog, "extend_tokenizer") == 1
    assert _built(caplog, "copy") == 1
    assert _built(caplog, "factorize") == len(DIMS)  # once per dim
    assert _built(caplog, "initialize") == len(INITIALIZERS) * len(DIMS)
    # the cache holds exactly those entries, each complete
    for stage, n in (("match", 2), ("factorize", 2), ("initialize", 6), ("hypernet", 2)):
        entries = [p for p in (cache_root() / stage).iterdir() if not p.name.startswith(".")]
        assert len(entries) == n, stage
    assert not list(cache_root().rglob("*.tmp-*"))


def _sweep(overrides: list[str], sweep_dir: Path, home: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "hyperofa.cli.run",
        "-m",
        "initializer=random,ofa",
        "factorize.dim=8,16",
        UP_TO_INITIALIZE,
        f"hydra.sweep.dir={sweep_dir}",
        *overrides,
    ]
    env = {**os.environ, "HYPEROFA_HOME": str(home)}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_two_sweeps_at_once_share_one_cache_without_corrupting_it(tmp_path, tiny_overrides):
    home = tmp_path / "home"
    procs = [_sweep(tiny_overrides, tmp_path / f"sweep{i}", home) for i in range(2)]
    outputs = [p.communicate(timeout=600)[0].decode() for p in procs]
    for proc, out in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out[-3000:]
    cache = home / "cache"
    assert not list(cache.rglob("*.tmp-*")), "a half-written entry was left behind"
    for entry in cache.glob("*/*"):
        if entry.is_dir() and not entry.name.endswith(".work"):
            manifest = json.loads((entry / MANIFEST).read_text())  # every entry is complete
            assert manifest["key"] == entry.name
    assert len(list((cache / "factorize").glob("*/" + MANIFEST))) == 2
    assert len(list((cache / "initialize").glob("*/" + MANIFEST))) == 4
    # both sweeps got the same artifacts: one entry per job setting, shared
    made = [
        sorted(
            json.loads(p.read_text())["artifacts"]["initialize"]
            for p in (tmp_path / f"sweep{i}").glob("*/result.json")
        )
        for i in range(2)
    ]
    assert made[0] == made[1] and len(set(made[0])) == 4
