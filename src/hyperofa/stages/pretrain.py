"""Stage `pretrain`: the assembled model after continued pre-training, a cached model artifact
keyed by the model, the prepared text (stage `cpt_data`, built first) and every training setting.

Training runs in a work dir keyed like the artifact (`<cache>/pretrain/<key>.work`), so killing a
job and rerunning the same command — in any run dir — resumes from its last checkpoint; the
finished model, its CSV curves, `pretrain.json` and `loss.png` then move into the artifact and
the checkpoints are dropped. W&B (when configured) writes under the job's run dir.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hyperofa.artifacts import Artifact, cache_key, cached_stage, write_json_atomic
from hyperofa.config.enums import TrainOnly
from hyperofa.config.pretrain import PretrainConfig
from hyperofa.config.schema import LangsetConfig
from hyperofa.config.training import TrainerConfig
from hyperofa.corpus import UDHRCorpus
from hyperofa.models import ModelFamily
from hyperofa.paths import cache_root
from hyperofa.pretrain.train import CHECKPOINTS, MODEL, RESULT
from hyperofa.pretrain.train import pretrain as train
from hyperofa.stages.common import Keyed, fingerprint
from hyperofa.stages.cpt_data import cpt_data
from hyperofa.stages.cpt_data import load as load_cpt_data
from hyperofa.training.loggers import Tracking

STAGE = "pretrain"
LOGS = "logs"  # inside the artifact: csv/, pretrain.json, loss.png


def pretrain_texts(
    cfg: PretrainConfig, langset: LangsetConfig, corpus: Keyed[UDHRCorpus]
) -> Keyed[tuple[Any, Any]]:
    """(train, held-out) text: by path when configured (any layout `corpus.streams` reads, read
    in batches by stage cpt_data), else the langset's UDHR articles."""
    langs = langset.languages
    train = corpus.value.texts(langs, "train")
    val = corpus.value.texts(langs, "heldout")
    keys = [corpus.key, ",".join(sorted(langs))]
    if cfg.train_path is not None:
        train = Path(cfg.train_path)
        keys.append(fingerprint(Path(cfg.train_path)))
    if cfg.val_path is not None:
        val = Path(cfg.val_path)
        keys.append(fingerprint(Path(cfg.val_path)))
    return Keyed((train, val), ":".join(keys))


def pretrain(
    family: ModelFamily,
    cfg: PretrainConfig,
    hw: TrainerConfig,
    tracking: Tracking,
    model: Artifact,
    tokenizer: Any,
    texts: Keyed[tuple[Any, Any]],
    n_source: int | None = None,
) -> Artifact:
    """The model of `model` after continued pre-training with `family`'s objective on `texts`,
    prepared first (stage cpt_data) for `tokenizer` (a tokenizer or a Keyed one). `n_source`:
    the source vocabulary size (the target tokenizer keeps the source ids below it), needed by
    `cfg.train_only=new_rows` only, and keyed only then."""
    data = cpt_data(cfg, texts, tokenizer, family.masked)
    tokenizer = tokenizer.value if isinstance(tokenizer, Keyed) else tokenizer
    config = {"pretrain": asdict(cfg), "trainer": asdict(hw)}
    n_source = n_source if cfg.train_only == TrainOnly.new_rows else None
    if n_source is not None:
        config["n_source"] = n_source
    inputs = {"model": model.key, "data": data.key}
    key = cache_key(STAGE, config, inputs)
    work = cache_root() / STAGE / f"{key}.work"

    def build(tmp: Path) -> dict:
        loggers = tracking.loggers("pretrain", "pretrain")
        blocks = load_cpt_data(data)
        figures = train(
            model.path, tokenizer, blocks, None, cfg, work, hw, loggers, (), family, n_source
        )
        return _move_results(work, tmp, cache_root() / STAGE / key, figures)

    art = cached_stage(cache_root(), STAGE, config, inputs, build)
    shutil.rmtree(work / CHECKPOINTS, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    return art


def _move_results(work: Path, tmp: Path, final: Path, figures: dict[str, Any]) -> dict:
    """The trained model and its logs from the work dir into the artifact dir `tmp`, which lands
    at `final`; the figures, pointed there, are written beside and their counts returned."""
    for item in (work / MODEL).iterdir():
        shutil.move(str(item), tmp / item.name)
    (tmp / LOGS).mkdir()
    for name in ("csv", "loss.png"):
        if (work / name).exists():
            shutil.move(str(work / name), tmp / LOGS / name)
    figures.update(model_dir=str(final), csv_dir=str(final / LOGS / "csv"))
    write_json_atomic(tmp / LOGS / RESULT, figures)
    return {k: v for k, v in figures.items() if isinstance(v, int | float)}


def copy_logs(art: Artifact, out: Path) -> None:
    """Copy the small pre-training logs (CSV curves, figures, plot) into the job's run dir."""
    logs = art.path / LOGS
    if logs.is_dir():
        shutil.copytree(logs, out, dirs_exist_ok=True)
