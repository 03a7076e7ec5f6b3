"""Stage `evaluate`: the metrics of a model artifact, cached — the step-0 tasks (one artifact per
model, langset and seed) and each downstream task composed into `eval` (one artifact per model,
task config and seed: a task's score never depends on the langset).

A row's metrics hold flat headline figures (`mlm_loss_heldout`, `sr_udhr_top10`,
`embedded_pos_accuracy`, `<task>_<metric>`), `per_language` ({task: {language: …}}) and
`details` (fine-tuning histories, counts).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from transformers import AutoTokenizer

from hyperofa.artifacts import Artifact, cached_stage, write_json_atomic
from hyperofa.config.evaluate import EvalConfig
from hyperofa.config.schema import LangsetConfig
from hyperofa.config.training import TrainerConfig
from hyperofa.corpus import UDHRCorpus
from hyperofa.evaluate.step0 import step0_metrics
from hyperofa.evaluate.tasks import run_task
from hyperofa.models import family_of
from hyperofa.paths import cache_root
from hyperofa.stages.common import Keyed, read_metrics

log = logging.getLogger(__name__)
METRICS = "metrics.json"


def _summary(metrics: dict[str, Any]) -> dict[str, float]:
    summary = {k: v for k, v in metrics.items() if isinstance(v, float)}
    log.info("evaluate: %s", ", ".join(f"{k} {v:.4f}" for k, v in summary.items()))
    return summary


def step0(
    model: Artifact, cfg: EvalConfig, langset: LangsetConfig, corpus: Keyed[UDHRCorpus], seed: int
) -> Artifact:
    """The step-0 tasks of `cfg` (held-out MLM loss or bits per byte, fertility, continuations,
    UDHR retrieval) of the model in `model` (a dir with its tokenizer)."""

    def build(tmp: Path) -> dict:
        family = family_of(model.path)
        net, tok = family.load(model.path), AutoTokenizer.from_pretrained(model.path)
        languages, unseen = langset.languages, langset.heldout_languages
        metrics = step0_metrics(net, family, tok, cfg, corpus.value, languages, unseen, seed)
        write_json_atomic(tmp / METRICS, metrics)
        return _summary(metrics)

    config = {
        "eval": cfg.step0(),
        "languages": list(langset.languages),
        "unseen": list(langset.heldout_languages),
        "seed": seed,
    }
    inputs = {"model": model.key, "corpus": corpus.key}
    return cached_stage(cache_root(), "evaluate", config, inputs, build)


def task(model: Artifact, name: str, cfg: Any, seed: int, hw: TrainerConfig) -> Artifact:
    """One downstream task (fine-tuning + zero-shot scores) of the model in `model`."""

    def build(tmp: Path) -> dict:
        log.info("evaluate: %s", name)
        result = run_task(name, model.path, cfg, seed, hw)
        metrics = {f"{name}_{k}": v for k, v in result.pop("average").items()}
        metrics["per_language"] = {name: result.pop("per_language")}
        metrics["details"] = {name: result}
        write_json_atomic(tmp / METRICS, metrics)
        return _summary(metrics)

    config = {"task": name, "settings": asdict(cfg), "seed": seed, "trainer": asdict(hw)}
    return cached_stage(cache_root(), "evaluate_task", config, {"model": model.key}, build)


def evaluate(
    model: Artifact,
    cfg: EvalConfig,
    langset: LangsetConfig,
    corpus: Keyed[UDHRCorpus],
    seed: int,
    hw: TrainerConfig,
    downstream: bool = True,
    twin: Artifact | None = None,
) -> dict[str, Any]:
    """The step-0 metrics, and with `downstream` every composed task's, merged into one dict.
    `twin`: a model computing the same function as `model` whose step-0 metrics stand for its
    own (shared in a sweep); downstream tasks, which train, always run on `model`."""
    metrics = read_metrics(step0(twin or model, cfg, langset, corpus, seed))
    for name, task_cfg in (cfg.downstream() if downstream else {}).items():
        found = read_metrics(task(model, name, task_cfg, seed, hw))
        metrics["per_language"].update(found.pop("per_language"))
        metrics.setdefault("details", {}).update(found.pop("details"))
        metrics.update(found)
    return metrics
