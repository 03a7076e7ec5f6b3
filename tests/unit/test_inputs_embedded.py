"""`model.path: null` picks the embedded model that `model.embedded` names (e5_small, minilm_en)."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir

from hyperofa.cli import CONF_DIR
from hyperofa.config import RunConfig, to_run_config
from hyperofa.errors import ConfigError
from hyperofa.preflight import preflight


def test_model_minilm_en_composes_to_the_embedded_minilm():
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        cfg = compose("config", overrides=["model=minilm_en", "run_dir=."])
    run = to_run_config(cfg)
    assert (run.model.name, run.model.path, run.model.embedded) == ("minilm_en", None, "minilm_en")
    assert RunConfig().model.embedded == "e5_small"  # the default stays e5


def test_an_unknown_embedded_model_is_a_named_config_error():
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        cfg = compose("config", overrides=["model.embedded=minilm_de", "run_dir=."])
    with pytest.raises(ConfigError, match=r"model\.embedded.*e5_small"):
        to_run_config(cfg)


def test_factorize_dim_is_checked_against_the_embedded_models_hidden_size():
    run = RunConfig()
    run.model.embedded, run.factorize.dim = "minilm_en", 385  # MiniLM: hidden 384
    run.eval.layer = 6  # as model=minilm_en sets it
    with pytest.raises(ConfigError, match="factorize.dim"):
        preflight(run)
    run.factorize.dim = 384
    preflight(run)


def test_eval_layer_is_checked_against_the_models_depth():
    run = RunConfig()
    run.model.embedded = "minilm_en"  # 6 layers; eval.layer 8 is the 12-layer models' SR layer
    with pytest.raises(ConfigError, match=r"eval\.layer.*0\.\.6"):
        preflight(run)
