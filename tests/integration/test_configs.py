"""Every option of every config group and every experiment file composes and validates."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from hyperofa.cli import CONF_DIR
from hyperofa.config import to_run_config
from hyperofa.config.evaluate import DOWNSTREAM_TASKS
from hyperofa.evaluate.tasks import TASKS
from hyperofa.init.registry import build_initializer, needs_hypernet

pytestmark = pytest.mark.integration
CONF = Path(CONF_DIR)
# groups whose options are whole config nodes of a run (hydra/ and experiment/ are separate)
GROUPS = sorted(
    p.name for p in CONF.iterdir() if p.is_dir() and p.name not in ("hydra", "experiment")
)
OPTIONS = [(g, p.stem) for g in GROUPS for p in sorted((CONF / g).glob("*.yaml"))]
EXPERIMENTS = sorted(
    str(p.relative_to(CONF / "experiment").with_suffix(""))
    for p in (CONF / "experiment").rglob("*.yaml")
)
LAUNCHERS = sorted(p.stem for p in (CONF / "hydra" / "launcher").glob("*.yaml"))


def _compose(overrides: list[str], hydra: bool = False):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("config", overrides=overrides, return_hydra_config=hydra)


def _fill_missing(cfg) -> list[str]:
    """A placeholder for every mandatory `???` value (real asset paths in the paper configs)."""
    plain = OmegaConf.to_container(cfg, resolve=False)
    plain.pop("hydra", None)
    cfg = OmegaConf.create(plain)
    cfg.run_dir = "/tmp/unused"  # resolved by Hydra at run time
    return [f"{key}=/data/placeholder" for key in sorted(OmegaConf.missing_keys(cfg))]


def _validate(cfg) -> None:
    """What `hyperofa-run` does with a config before any work: the one validator, then wiring."""
    cfg.run_dir = "/tmp/unused"
    run = to_run_config(cfg)
    if not needs_hypernet(run.initializer):  # hyperofa's network is trained by its stage
        build_initializer(run.initializer)
    for name, task in run.eval.downstream().items():
        assert task.task == name


def test_the_registry_and_the_schema_name_the_same_tasks():
    assert set(DOWNSTREAM_TASKS) == set(TASKS)


@pytest.mark.parametrize("group, option", OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_group_option_composes_and_validates(group, option):
    value = f"[step0,{option}]" if group == "eval" and option != "step0" else option
    cfg = _compose([f"{group}={value}"])
    missing = _fill_missing(cfg)
    if missing:
        cfg = _compose([f"{group}={value}", *missing])
    _validate(cfg)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_composes_and_validates(name):
    cfg = _compose([f"experiment={name}"], hydra=True)
    sweep, fills = cfg.hydra.sweeper.params or {}, _fill_missing(cfg)
    _validate(_compose([f"experiment={name}", *fills]))
    for group, values in sweep.items():  # every value of the sweep composes too
        for value in str(values).split(","):
            _validate(_compose([f"experiment={name}", f"{group}={value}", *fills]))


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_every_launcher_composes(launcher):
    cfg = _compose([f"hydra/launcher={launcher}"], hydra=True)
    assert cfg.hydra.launcher._target_.startswith("hydra_plugins.")
