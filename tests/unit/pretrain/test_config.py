from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf
from pytorch_lightning.loggers import CSVLogger, WandbLogger
from pytorch_lightning.strategies import DDPStrategy, FSDPStrategy

from hyperofa.cli import CONF_DIR
from hyperofa.errors import ConfigError
from hyperofa.pretrain.config import PretrainConfig, accumulation, to_pretrain_config
from hyperofa.pretrain.train import build_strategy

PAPER = {"ofa_paper": (384, 5e-5, 512, 0.15), "hyperofa_paper": (512, 5e-5, 512, 0.15)}


def _compose(name: str) -> dict:
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose(config_name=name)
    return OmegaConf.to_container(cfg[name.split("/")[0]])


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in (Path(CONF_DIR) / "pretrain").glob("*.yaml"))
)
def test_every_pretrain_config_validates(name):
    cfg = to_pretrain_config(_compose(f"pretrain/{name}"))
    if name in PAPER:
        values = (cfg.effective_batch_size, cfg.lr, cfg.max_length, cfg.mlm_probability)
        assert values == PAPER[name]
    if name == "hyperofa_paper":
        assert cfg.max_steps == 4000


def test_demo_config_is_a_few_dozen_cpu_steps():
    cfg = to_pretrain_config(_compose("pretrain/demo"))
    assert (cfg.max_steps, cfg.batch_size, cfg.max_length) == (40, 8, 128)


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"max_steps": 0}, "pretrain.max_steps"),
        ({"lr": -1.0}, "pretrain.lr"),
        ({"alpha": 1.5}, "pretrain.alpha"),
        ({"max_length": 2}, "pretrain.max_length"),
        ({"warmup_steps": 50, "max_steps": 10, "val_check_interval": 5}, "pretrain.warmup_steps"),
        ({"val_check_interval": 50, "max_steps": 10}, "pretrain.val_check_interval"),
        ({"batch_sise": 8}, "pretrain.batch_sise"),
    ],
)
def test_bad_values_name_their_key(values, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        to_pretrain_config(values)


def test_accumulation_follows_the_effective_batch():
    cfg = PretrainConfig(batch_size=16, effective_batch_size=384)
    assert accumulation(cfg, 1) == 24 and accumulation(cfg, 4) == 6
    assert accumulation(PretrainConfig(accumulate_grad_batches=3), 2) == 3
    with pytest.raises(ConfigError, match="effective_batch_size"):
        accumulation(cfg, 5)


@pytest.mark.parametrize("name", ["cpu", "gpu", "ddp", "fsdp"])
def test_trainer_configs_are_builder_partials(name):
    node = _compose(f"trainer/{name}")
    builder = instantiate(node)
    assert builder.func.__name__ == "build_trainer"
    assert node["precision"] == ("32-true" if name == "cpu" else "bf16-mixed")
    assert node["strategy"] == {"cpu": "auto", "gpu": "auto", "ddp": "ddp", "fsdp": "fsdp"}[name]


def test_cpu_trainer_builds_with_derived_accumulation(tmp_path):
    builder = instantiate(_compose("trainer/cpu"))
    cfg = PretrainConfig(batch_size=2, effective_batch_size=8, max_steps=10, val_check_interval=5)
    trainer = builder(run_dir=tmp_path, cfg=cfg, loggers=[CSVLogger(tmp_path)])
    assert trainer.accumulate_grad_batches == 4 and trainer.val_check_interval == 20
    assert trainer.max_steps == 10 and trainer.precision == "32-true"
    ddp = build_strategy("ddp", "cpu")
    assert isinstance(ddp, DDPStrategy) and ddp._process_group_backend == "gloo"
    layers = _compose("trainer/fsdp")["fsdp_wrap_layers"]
    fsdp = build_strategy("fsdp", "gpu", layers)  # runs on GPUs only (Lightning refuses CPU)
    assert isinstance(fsdp, FSDPStrategy)
    assert len(fsdp.kwargs["auto_wrap_policy"]._module_classes) == 3


def test_logger_configs_write_inside_the_run_dir(tmp_path):
    wandb = instantiate(_compose("logger/wandb"), tags=["ofa"])(tmp_path)
    assert isinstance(wandb, WandbLogger) and Path(wandb.save_dir) == tmp_path
    assert wandb._offline and wandb._wandb_init["mode"] == "offline"
    assert wandb._wandb_init["tags"] == ["ofa"]
    csv = instantiate(_compose("logger/csv"), tags=["ofa"])(tmp_path)
    assert isinstance(csv, CSVLogger) and Path(csv.log_dir).parent.parent == tmp_path
