"""The pretrain group: paper values, bad values naming their key, derived accumulation."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from hyperofa.cli import CONF_DIR
from hyperofa.config.pretrain import PretrainConfig
from hyperofa.config.rules import check_tree
from hyperofa.config.validate import structured
from hyperofa.errors import ConfigError
from hyperofa.pretrain.data import accumulation

PAPER = {"ofa_paper": (384, 5e-5, 512, 0.15), "hyperofa_paper": (512, 5e-5, 512, 0.15)}


def _compose(name: str) -> dict:
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose(config_name=name)
    return OmegaConf.to_container(cfg[name.split("/")[0]])


def pretrain_config(values: dict) -> PretrainConfig:
    cfg = structured(PretrainConfig, values, "pretrain")
    check_tree(cfg, "pretrain")
    return cfg


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in (Path(CONF_DIR) / "pretrain").glob("*.yaml"))
)
def test_every_pretrain_config_validates(name):
    cfg = pretrain_config(_compose(f"pretrain/{name}"))
    if name in PAPER:
        values = (cfg.effective_batch_size, cfg.lr, cfg.max_length, cfg.mlm_probability)
        assert values == PAPER[name]
    if name == "hyperofa_paper":
        assert cfg.max_steps == 4000


def test_demo_config_is_a_few_dozen_cpu_steps():
    cfg = pretrain_config(_compose("pretrain/demo"))
    assert (cfg.max_steps, cfg.batch_size, cfg.max_length) == (40, 8, 128)


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"max_steps": 0}, "pretrain.max_steps"),
        ({"lr": -1.0}, "pretrain.lr"),
        ({"lr": "fast"}, "pretrain.lr"),
        ({"lr": float("nan")}, "pretrain.lr"),
        ({"alpha": 1.5}, "pretrain.alpha"),
        ({"max_length": 2}, "pretrain.max_length"),
        ({"warmup_steps": 50, "max_steps": 10, "val_check_interval": 5}, "pretrain.warmup_steps"),
        ({"val_check_interval": 50, "max_steps": 10}, "pretrain.val_check_interval"),
        ({"batch_sise": 8}, "pretrain.batch_sise"),
    ],
)
def test_bad_values_name_their_key(values, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        pretrain_config(values)


def test_accumulation_follows_the_effective_batch():
    cfg = PretrainConfig(batch_size=16, effective_batch_size=384)
    assert accumulation(cfg, 1) == 24 and accumulation(cfg, 4) == 6
    assert accumulation(PretrainConfig(accumulate_grad_batches=3), 2) == 3
    with pytest.raises(ConfigError, match="effective_batch_size"):
        accumulation(cfg, 5)
