"""Shared fixtures. Tests never reach a hub: they use files they write or the embedded default."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolated_outputs(tmp_path, monkeypatch):
    """Every test writes its cache and runs under its own tmp dir, never into ./outputs."""
    monkeypatch.setenv("HYPEROFA_HOME", str(tmp_path / "outputs"))
    yield
