"""`model.path: null` picks the embedded model that `model.embedded` names (e5_small, minilm_en)."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir

from hyperofa import inputs
from hyperofa.cli import CONF_DIR
from hyperofa.config import RunConfig, to_run_config
from hyperofa.errors import ConfigError


def test_model_minilm_en_composes_to_the_embedded_minilm():
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        cfg = compose("config", overrides=["model=minilm_en", "run_dir=."])
    run = to_run_config(cfg)
    assert (run.model.name, run.model.path, run.model.embedded) == ("minilm_en", None, "minilm_en")
    assert RunConfig().model.embedded == "e5_small"  # the default stays e5


def test_an_unknown_embedded_model_is_a_named_config_error():
    run = RunConfig()
    run.model.embedded = "minilm_de"
    with pytest.raises(ConfigError, match="model.embedded"):
        inputs.preflight(run)


def test_factorize_dim_is_checked_against_the_embedded_models_hidden_size():
    run = RunConfig()
    run.model.embedded, run.factorize.dim = "minilm_en", 385  # MiniLM: hidden 384
    with pytest.raises(ConfigError, match="factorize.dim"):
        inputs.preflight(run)
    run.factorize.dim = 384
    inputs.preflight(run)
