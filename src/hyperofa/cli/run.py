"""`hyperofa-run`: the Hydra entry point (one job = one configured pipeline run)."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from hyperofa.cli import CONF_DIR
from hyperofa.cli.common import job_settings, task_wrapper


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def main(cfg: DictConfig) -> dict | None:
    from hyperofa import pipeline
    from hyperofa.config import to_run_config

    multirun = job_settings(cfg)
    return task_wrapper(lambda: pipeline.run(to_run_config(cfg)), keep_going=multirun)


if __name__ == "__main__":
    main()
