"""One Trainer builder: the conf/trainer options, strategies, and the pre-training loop on top."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from pytorch_lightning.loggers import CSVLogger, WandbLogger
from pytorch_lightning.strategies import DDPStrategy, FSDPStrategy

from hyperofa.cli import CONF_DIR
from hyperofa.config.enums import LoggerKind
from hyperofa.config.pretrain import PretrainConfig
from hyperofa.config.training import LoggerConfig, TrainerConfig
from hyperofa.config.validate import structured
from hyperofa.pretrain.train import pretrain_trainer
from hyperofa.training.loggers import Tracking, csv_logger
from hyperofa.training.trainer import build_strategy, single_device


def _compose(name: str) -> dict:
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose(config_name=name)
    return OmegaConf.to_container(cfg[name.split("/")[0]])


@pytest.mark.parametrize("name", ["cpu", "gpu", "ddp", "fsdp"])
def test_trainer_options_validate(name):
    hw = structured(TrainerConfig, _compose(f"trainer/{name}"), "trainer")
    assert hw.precision == ("32-true" if name == "cpu" else "bf16-mixed")
    assert hw.strategy == {"cpu": "auto", "gpu": "auto", "ddp": "ddp", "fsdp": "fsdp"}[name]
    assert hw.accelerator == ("cpu" if name == "cpu" else "gpu")


def test_cpu_trainer_builds_with_derived_accumulation(tmp_path):
    hw = structured(TrainerConfig, _compose("trainer/cpu"), "trainer")
    cfg = PretrainConfig(batch_size=2, effective_batch_size=8, max_steps=10, val_check_interval=5)
    trainer = pretrain_trainer(hw, tmp_path, cfg, loggers=[CSVLogger(tmp_path)])
    assert trainer.accumulate_grad_batches == 4 and trainer.val_check_interval == 20
    assert trainer.max_steps == 10 and trainer.precision == "32-true"
    ddp = build_strategy("ddp", "cpu")
    assert isinstance(ddp, DDPStrategy) and ddp._process_group_backend == "gloo"
    layers = _compose("trainer/fsdp")["fsdp_wrap_layers"]
    fsdp = build_strategy("fsdp", "gpu", layers)  # runs on GPUs only (Lightning refuses CPU)
    assert isinstance(fsdp, FSDPStrategy)
    assert len(fsdp.kwargs["auto_wrap_policy"]._module_classes) == 3


def test_single_device_keeps_accelerator_and_precision():
    ddp = structured(TrainerConfig, _compose("trainer/ddp"), "trainer")
    one = single_device(ddp, "test")
    assert (one.accelerator, one.precision, one.devices, one.strategy) == (
        "gpu",
        "bf16-mixed",
        1,
        "auto",
    )


def test_loggers_write_inside_the_run_dir(tmp_path):
    wandb_cfg = structured(LoggerConfig, _compose("logger/wandb"), "logger")
    assert wandb_cfg.kind == LoggerKind.wandb
    (wandb,) = Tracking(wandb_cfg, tmp_path, ("initializer:ofa",)).loggers("pretrain", "pretrain")
    assert isinstance(wandb, WandbLogger) and Path(wandb.save_dir) == tmp_path / "pretrain"
    assert wandb._offline and wandb._wandb_init["mode"] == "offline"
    assert wandb._wandb_init["tags"] == ["initializer:ofa"]
    csv_cfg = structured(LoggerConfig, _compose("logger/csv"), "logger")
    assert Tracking(csv_cfg, tmp_path).loggers("pretrain", "pretrain") == []
    csv = csv_logger(tmp_path)
    assert isinstance(csv, CSVLogger) and Path(csv.log_dir).parent.parent == tmp_path
