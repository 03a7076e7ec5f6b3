"""The hypernet group's YAML holds the public code's values; bad values name their key."""

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from hyperofa.config.hypernet import HypernetConfig, HypernetModelConfig, HypernetTrainConfig
from hyperofa.config.rules import check_tree
from hyperofa.config.validate import structured
from hyperofa.errors import ConfigError, IncompatibleInputsError
from hyperofa.hypernet.models import BiLSTMHypernet, SetFormerHypernet, build_hypernet

CONF = Path(__file__).resolve().parents[3] / "conf" / "hypernet"


def _group(name: str) -> HypernetConfig:
    cfg = structured(HypernetConfig, OmegaConf.load(CONF / f"{name}.yaml"), "hypernet")
    check_tree(cfg, "hypernet")
    return cfg


def test_bilstm_yaml_holds_the_code_defaults():
    cfg = _group("bilstm")
    assert cfg.model == HypernetModelConfig() and cfg.train == HypernetTrainConfig()
    assert (cfg.model.hidden_size, cfg.model.num_layers, cfg.model.dropout) == (800, 1, 0.2)
    assert cfg.train.max_epochs == 300 and cfg.train.augment_keep == (0.5, 1.0)
    assert cfg.model.input_dim is None  # taken from the word vectors


def test_setformer_yaml_differs_only_where_documented():
    cfg = _group("setformer")
    default = HypernetModelConfig()
    changed = {k for k, v in asdict(cfg.model).items() if v != getattr(default, k)}
    assert changed == {"architecture", "num_layers", "dropout"}
    assert (cfg.model.num_heads, cfg.model.ff_dim, cfg.model.dropout) == (10, 800, 0.4)
    assert cfg.model.num_layers == 4
    assert cfg.train == HypernetTrainConfig(max_epochs=500)


@pytest.mark.parametrize(
    "name, cls", [("bilstm", BiLSTMHypernet), ("setformer", SetFormerHypernet)]
)
def test_the_model_node_builds_its_network_with_the_vectors_dim(name, cls):
    model = _group(name).model
    model.hidden_size, model.num_layers, model.ff_dim = 8, 1, 8
    net = build_hypernet(model, np.zeros((20, 100), np.float32), output_dim=4)
    assert isinstance(net, cls) and net.output_dim == 4
    assert net(torch.tensor([[1, 2, 0]]), torch.tensor([2])).shape == (1, 4)
    model.input_dim = 50
    with pytest.raises(IncompatibleInputsError, match="input_dim"):
        build_hypernet(model, np.zeros((20, 100), np.float32), output_dim=4)


def test_unknown_or_bad_values_fail_naming_the_key():
    node = OmegaConf.load(CONF / "bilstm.yaml")
    node.train.lambda_contrastive = 1.5
    with pytest.raises(ConfigError, match=r"hypernet\.train\.lambda_contrastive"):
        check_tree(structured(HypernetConfig, node, "hypernet"), "hypernet")
    node = OmegaConf.load(CONF / "bilstm.yaml")
    node.train.learning_rate = 0.1
    with pytest.raises(ConfigError, match=r"hypernet\.train\.learning_rate.*did you mean"):
        structured(HypernetConfig, node, "hypernet")
    with pytest.raises(ConfigError, match="augment_keep"):
        check_tree(HypernetTrainConfig(augment_keep=(0.4, 0.2)), "hypernet.train")
    with pytest.raises(ConfigError, match="num_heads"):
        check_tree(HypernetModelConfig(architecture="setformer", input_dim=100, num_heads=7), "m")
