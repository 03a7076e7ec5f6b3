"""The evaluation of a model artifact, cached: held-out MLM loss, UDHR retrieval and the
downstream tasks composed into `eval` (conf/eval/<task>.yaml).

metrics.json holds flat headline figures (`mlm_loss_heldout`, `sr_udhr_top10`,
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
from hyperofa.assemble.modeling import AssembledForMaskedLM
from hyperofa.config.schema import DOWNSTREAM_TASKS, EvalConfig
from hyperofa.evaluate.mlm import heldout_mlm_loss
from hyperofa.evaluate.retrieval import retrieval_scores
from hyperofa.evaluate.tasks import check_task, run_task
from hyperofa.paths import cache_root

log = logging.getLogger(__name__)


def check_tasks(cfg: EvalConfig) -> None:
    """Validate every composed downstream task (keys, values) and check its data layout (files
    found, first lines read) before heavy work."""
    for name, raw in cfg.downstream().items():
        check_task(name, raw)


def _step0_metrics(model, tok, run, corpus) -> dict:
    cfg, langs, unseen = run.eval, run.langset.languages, run.langset.heldout_languages
    kw = {"max_length": cfg.max_length, "batch_size": cfg.batch_size}
    out: dict = {"per_language": {}}
    cap = cfg.max_texts_per_language

    def mlm(languages) -> dict:
        texts = {lang: ts[:cap] for lang, ts in corpus.texts(languages, "heldout").items()}
        return heldout_mlm_loss(
            model, tok, texts, seed=run.seed, mlm_probability=cfg.mlm_probability, **kw
        )

    if "mlm_heldout" in cfg.tasks:
        for name, languages in (("mlm_loss_heldout", langs), ("mlm_loss_unseen_languages", unseen)):
            if languages:
                per = mlm(languages)
                out[name] = per.pop("average")
                out["per_language"][name] = per
    if "sr_udhr" in cfg.tasks:
        queries = corpus.languages() if cfg.udhr_languages == "all" else [*langs, *unseen]
        # queries capped; candidates stay every aligned English paragraph (query i ↔ candidate i)
        pairs = {lang: (q[:cap], e) for lang, (q, e) in corpus.heldout_pairs(queries).items()}
        scores = retrieval_scores(model.encoder, tok, pairs, layer=cfg.layer, **kw)
        out.update({f"sr_udhr_{k}": v for k, v in scores.pop("average", {}).items()})
        out["per_language"]["sr_udhr"] = scores
    return out


def _downstream_metrics(model_dir: Path, cfg: EvalConfig, seed: int) -> dict:
    out: dict[str, Any] = {"per_language": {}, "details": {}}
    for name, raw in cfg.downstream().items():
        log.info("evaluate: %s", name)
        result = run_task(name, model_dir, raw, seed)
        out.update({f"{name}_{k}": v for k, v in result.pop("average").items()})
        out["per_language"][name] = result.pop("per_language")
        out["details"][name] = result
    return out


def evaluate_model(model_art: Artifact, run, src, downstream: bool = True) -> Artifact:
    """Metrics of the model in `model_art` (a model dir holding its tokenizer): the step-0 tasks,
    and the composed downstream tasks when `downstream`."""
    tasks = run.eval.downstream() if downstream else {}

    def build(tmp: Path) -> dict:
        model = AssembledForMaskedLM.from_pretrained(model_art.path)
        tok = AutoTokenizer.from_pretrained(model_art.path)
        metrics = _step0_metrics(model, tok, run, src.corpus)
        del model
        if tasks:
            extra = _downstream_metrics(model_art.path, run.eval, run.seed)
            metrics["per_language"].update(extra.pop("per_language"))
            metrics.update(extra)
        write_json_atomic(tmp / "metrics.json", metrics)
        summary = {k: v for k, v in metrics.items() if isinstance(v, float)}
        log.info("evaluate: %s", ", ".join(f"{k} {v:.4f}" for k, v in summary.items()))
        return summary

    step0 = {k: v for k, v in asdict(run.eval).items() if k not in DOWNSTREAM_TASKS}
    config = {
        "eval": step0,
        "downstream": tasks,
        "languages": list(run.langset.languages),
        "unseen": list(run.langset.heldout_languages),
        "seed": run.seed,
        "heldout_articles": list(run.assets.heldout_articles),
    }
    return cached_stage(
        cache_root(), "evaluate", config, {"model": model_art.key, "corpus": src.corpus_key}, build
    )
