from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from hyperofa.errors import ConfigError
from hyperofa.hypernet.config import HypernetConfig, HypernetTrainConfig, configs_from_group
from hyperofa.hypernet.models import BiLSTMHypernet, SetFormerHypernet

CONF = Path(__file__).resolve().parents[3] / "conf" / "hypernet"


def test_bilstm_yaml_holds_the_code_defaults():
    model, train = configs_from_group(OmegaConf.load(CONF / "bilstm.yaml"))
    assert model == HypernetConfig() and train == HypernetTrainConfig()
    assert (model.hidden_size, model.num_layers, model.dropout) == (800, 1, 0.2)  # public code
    assert train.max_epochs == 300 and train.augment_keep == (0.5, 1.0)


def test_setformer_yaml_differs_only_where_documented():
    model, train = configs_from_group(OmegaConf.load(CONF / "setformer.yaml"))
    changed = {k for k, v in asdict(model).items() if v != getattr(HypernetConfig(), k)}
    assert changed == {"architecture", "num_layers", "dropout"}
    assert (model.num_heads, model.ff_dim, model.dropout, model.num_layers) == (10, 800, 0.4, 4)
    assert train == HypernetTrainConfig(max_epochs=500)


@pytest.mark.parametrize(
    "name, cls", [("bilstm", BiLSTMHypernet), ("setformer", SetFormerHypernet)]
)
def test_the_model_node_instantiates_a_builder(name, cls):
    node = OmegaConf.load(CONF / f"{name}.yaml")
    node.model.cfg.hidden_size, node.model.cfg.num_layers, node.model.cfg.ff_dim = 8, 1, 8
    build = instantiate(node.model)
    net = build(word_vectors=np.zeros((20, 100), np.float32), output_dim=4)
    assert isinstance(net, cls) and net.output_dim == 4
    out = net(torch.tensor([[1, 2, 0]]), torch.tensor([2]))
    assert out.shape == (1, 4)


def test_unknown_or_bad_values_fail_naming_the_key():
    node = OmegaConf.load(CONF / "bilstm.yaml")
    node.train.lambda_contrastive = 1.5
    with pytest.raises(ConfigError, match="hypernet.train.lambda_contrastive"):
        configs_from_group(node)
    node = OmegaConf.load(CONF / "bilstm.yaml")
    node.train.learning_rate = 0.1
    with pytest.raises(ConfigError, match="learning_rate"):
        configs_from_group(node)
    with pytest.raises(ConfigError, match="augment_keep"):
        HypernetTrainConfig(augment_keep=(0.4, 0.2))
