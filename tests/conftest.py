"""Shared fixtures. Tests never reach a hub: they use files they write or the embedded default."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# the embedded default is built once into the repo's outputs/assets and shared by all tests
os.environ.setdefault(
    "HYPEROFA_ASSETS", str(Path(__file__).resolve().parents[1] / "outputs" / "assets")
)


@pytest.fixture(autouse=True)
def _isolated_outputs(tmp_path, monkeypatch):
    """Every test writes its cache and runs under its own tmp dir, never into ./outputs."""
    monkeypatch.setenv("HYPEROFA_HOME", str(tmp_path / "outputs"))
    yield
