"""The step-0 evaluation of a model artifact, cached: held-out MLM loss and UDHR retrieval."""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

from transformers import AutoTokenizer

from hyperofa.artifacts import Artifact, cached_stage, write_json_atomic
from hyperofa.assemble.modeling import AssembledForMaskedLM
from hyperofa.evaluate.mlm import heldout_mlm_loss
from hyperofa.evaluate.retrieval import retrieval_scores
from hyperofa.paths import cache_root

log = logging.getLogger(__name__)


def _metrics(model, tok, run, corpus) -> dict:
    cfg, langs, unseen = run.eval, run.langset.languages, run.langset.heldout_languages
    kw = {"max_length": cfg.max_length, "batch_size": cfg.batch_size}
    out: dict = {}
    cap = cfg.max_texts_per_language

    def texts(languages):
        return {lang: ts[:cap] for lang, ts in corpus.texts(languages, "heldout").items()}

    if "mlm_heldout" in cfg.tasks:
        per = heldout_mlm_loss(
            model, tok, texts(langs), seed=run.seed, mlm_probability=cfg.mlm_probability, **kw
        )
        out["mlm_loss_heldout"] = per.pop("average")
        out["per_language"] = {"mlm_loss_heldout": per}
        if unseen:
            per_u = heldout_mlm_loss(
                model, tok, texts(unseen), seed=run.seed, mlm_probability=cfg.mlm_probability, **kw
            )
            out["mlm_loss_unseen_languages"] = per_u.pop("average")
            out["per_language"]["mlm_loss_unseen_languages"] = per_u
    if "sr_udhr" in cfg.tasks:
        # queries capped; candidates stay every aligned English paragraph (query i ↔ candidate i)
        pairs = {
            lang: (q[:cap], e) for lang, (q, e) in corpus.heldout_pairs([*langs, *unseen]).items()
        }
        scores = retrieval_scores(model.encoder, tok, pairs, layer=cfg.layer, **kw)
        average = scores.pop("average", {})
        out.update({f"sr_udhr_{k}": v for k, v in average.items()})
        out.setdefault("per_language", {})["sr_udhr"] = scores
    return out


def evaluate_model(model_art: Artifact, run, src) -> Artifact:
    """Metrics of the model in `model_art` (an assembled model dir holding its tokenizer)."""

    def build(tmp: Path) -> dict:
        model = AssembledForMaskedLM.from_pretrained(model_art.path)
        tok = AutoTokenizer.from_pretrained(model_art.path)
        metrics = _metrics(model, tok, run, src.corpus)
        write_json_atomic(tmp / "metrics.json", metrics)
        summary = {k: v for k, v in metrics.items() if k != "per_language"}
        log.info("evaluate: %s", ", ".join(f"{k} {v:.4f}" for k, v in summary.items()))
        return summary

    config = {
        "eval": asdict(run.eval),
        "languages": list(run.langset.languages),
        "unseen": list(run.langset.heldout_languages),
        "seed": run.seed,
        "heldout_articles": list(run.assets.heldout_articles),
    }
    return cached_stage(
        cache_root(), "evaluate", config, {"model": model_art.key, "corpus": src.corpus_key}, build
    )
