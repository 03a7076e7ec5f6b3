"""Continued pre-training as a pipeline stage: a cached model artifact keyed by the assembled
model, the text and every training setting.

Training runs in a work dir keyed like the artifact (`<cache>/pretrain/<key>.work`), so killing a
job and rerunning the same command — in any run dir — resumes from its last checkpoint; the
finished model, its CSV curves, `pretrain.json` and `loss.png` then move into the artifact and the
checkpoints are dropped. W&B (when configured) writes under the job's run dir.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hydra.utils import instantiate

from hyperofa.artifacts import Artifact, cache_key, cached_stage, write_json_atomic
from hyperofa.paths import cache_root
from hyperofa.pretrain.config import PretrainConfig, to_pretrain_config
from hyperofa.pretrain.train import CHECKPOINTS, MODEL, RESULT, pretrain
from hyperofa.tracking import wandb_logger_builders

log = logging.getLogger(__name__)
STAGE = "pretrain"
LOGS = "logs"  # inside the artifact: csv/, pretrain.json, loss.png


def pretrain_config(run) -> PretrainConfig:
    """The run's `pretrain` group validated (named errors before any work)."""
    return to_pretrain_config(dict(run.pretrain or {}))


def _texts(run, src, cfg: PretrainConfig) -> tuple[Any, Any]:
    langs = run.langset.languages
    if cfg.train_path is not None:
        train = _path_texts(cfg.train_path)
        val = _path_texts(cfg.val_path) if cfg.val_path else src.corpus.texts(langs, "heldout")
        return train, val
    return src.corpus.texts(langs, "train"), src.corpus.texts(langs, "heldout")


def _path_texts(path: str) -> Any:
    """A dir of `<lang>.txt`, or a dataset saved with `datasets.save_to_disk`."""
    if (Path(path) / "dataset_info.json").exists() or (Path(path) / "state.json").exists():
        from datasets import load_from_disk

        return load_from_disk(path)
    return path


def pretrain_stage(
    model_art: Artifact, tokenizer, run, src, cfg: PretrainConfig, logger_dir: Path
) -> Artifact:
    """The model of `model_art` after continued MLM pre-training on the langset's text."""
    trainer_cfg = dict(run.trainer or {})
    config = {"pretrain": asdict(cfg), "trainer": trainer_cfg}
    inputs = {"model": model_art.key, "corpus": src.corpus_key}
    key = cache_key(STAGE, config, inputs)
    work = cache_root() / STAGE / f"{key}.work"

    def build(tmp: Path) -> dict:
        train, val = _texts(run, src, cfg)
        loggers = wandb_logger_builders(run, logger_dir, "pretrain")
        trainer = instantiate(trainer_cfg) if trainer_cfg else None
        figures = pretrain(model_art.path, tokenizer, train, val, cfg, work, loggers, trainer)
        for item in (work / MODEL).iterdir():
            shutil.move(str(item), tmp / item.name)
        (tmp / LOGS).mkdir()
        for name in ("csv", "loss.png"):
            if (work / name).exists():
                shutil.move(str(work / name), tmp / LOGS / name)
        final = cache_root() / STAGE / key  # where `tmp` lands: point the figures there
        figures.update(model_dir=str(final), csv_dir=str(final / LOGS / "csv"))
        write_json_atomic(tmp / LOGS / RESULT, figures)
        return {k: v for k, v in figures.items() if isinstance(v, int | float)}

    art = cached_stage(cache_root(), STAGE, config, inputs, build)
    shutil.rmtree(work / CHECKPOINTS, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    return art
