"""Shared by the entry points: failures are logged with the run dir, loggers are always closed."""

from __future__ import annotations

import logging
import shutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, open_dict

from hyperofa.artifacts import write_json_atomic
from hyperofa.errors import ConfigError, HyperofaError

log = logging.getLogger("hyperofa")
logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # it logs every CPU-feature probe
T = TypeVar("T")
ERROR_FILE = "error.json"


def job_settings(cfg: DictConfig) -> bool:
    """Fill per-job settings that come from Hydra (the W&B group = the sweep); True in a sweep."""
    hydra_cfg = HydraConfig.get()
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    logger = cfg.get("logger")
    if logger is not None and logger.get("kind") == "wandb" and not logger.get("group"):
        sweep = hydra_cfg.sweep.dir if multirun else hydra_cfg.runtime.output_dir
        with open_dict(cfg):
            cfg.logger.group = Path(sweep).name
    return multirun


# launcher plugin class → the command its cluster must provide on this machine
LAUNCHER_COMMANDS = {"SlurmLauncher": "srun", "LocalLauncher": None}


def check_launcher(config: DictConfig) -> None:
    """A sweep's launcher can start here: the SLURM launcher needs `srun` on the PATH. Logs a
    named error and exits 2 before any job starts (submitit would raise a bare RuntimeError)."""
    target = str(config.hydra.launcher.get("_target_", ""))
    command = next((c for name, c in LAUNCHER_COMMANDS.items() if target.endswith(name)), None)
    if command is not None and shutil.which(command) is None:
        err = ConfigError(
            "hydra/launcher",
            target.rsplit(".", 1)[-1],
            f"a machine with `{command}` on the PATH (a SLURM login node); without one use "
            "hydra/launcher=basic or hydra/launcher=parallel",
        )
        log.error("%s: %s", type(err).__name__, err)
        sys.exit(2)


def task_wrapper(task: Callable[[], T], keep_going: bool = False) -> T | None:
    """Run `task`. A failure is logged (a HyperofaError without traceback noise) and written to
    `<run dir>/error.json`; then a single run exits non-zero, while a sweep job returns None so
    the other jobs go on (the summary lists the failed ones)."""
    try:
        return task()
    except Exception as err:
        if isinstance(err, HyperofaError):
            log.error("%s: %s", type(err).__name__, err)
        else:
            log.exception("run failed")
        _record_failure(err)
        if keep_going:
            return None
        if isinstance(err, HyperofaError):
            sys.exit(2)
        raise
    finally:
        if "wandb" in sys.modules:
            import wandb

            if wandb.run is not None:
                wandb.finish()


def _record_failure(err: Exception) -> None:
    if not HydraConfig.initialized():
        return
    out = Path(HydraConfig.get().runtime.output_dir) / ERROR_FILE
    write_json_atomic(
        out,
        {
            "error": type(err).__name__,
            "message": str(err),
            "traceback": traceback.format_exception(err),
        },
    )
