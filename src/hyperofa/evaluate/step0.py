"""The step-0 evaluation of a model on the embedded default's held-out UDHR articles: masked-LM
loss per language (langset and unseen languages) and paragraph retrieval into English."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hyperofa.config.enums import StepZeroTask, UdhrLanguages
from hyperofa.config.evaluate import EvalConfig
from hyperofa.corpus import UDHRCorpus
from hyperofa.evaluate.mlm import heldout_mlm_loss
from hyperofa.evaluate.retrieval import retrieval_scores
from hyperofa.models import encoder


def _capped(texts: dict[str, list[str]], cap: int | None) -> dict[str, list[str]]:
    return {lang: ts[:cap] for lang, ts in texts.items()}


def step0_metrics(
    model: Any,
    tokenizer: Any,
    cfg: EvalConfig,
    corpus: UDHRCorpus,
    languages: Sequence[str],
    unseen: Sequence[str],
    seed: int,
) -> dict[str, Any]:
    """Flat headline figures (`mlm_loss_heldout`, `mlm_loss_unseen_languages`, `sr_udhr_top<k>`)
    and `per_language` ({task: {language: …}})."""
    kw = {"max_length": cfg.max_length, "batch_size": cfg.batch_size}
    out: dict[str, Any] = {"per_language": {}}
    cap = cfg.max_texts_per_language
    if StepZeroTask.mlm_heldout in cfg.tasks:
        for name, langs in (("mlm_loss_heldout", languages), ("mlm_loss_unseen_languages", unseen)):
            if langs:
                texts = _capped(corpus.texts(langs, "heldout"), cap)
                per = heldout_mlm_loss(
                    model, tokenizer, texts, seed=seed, mlm_probability=cfg.mlm_probability, **kw
                )
                out[name] = per.pop("average")
                out["per_language"][name] = per
    if StepZeroTask.sr_udhr in cfg.tasks:
        everyone = cfg.udhr_languages == UdhrLanguages.all
        queries = corpus.languages() if everyone else [*languages, *unseen]
        # queries capped; candidates stay every aligned English paragraph (query i ↔ candidate i)
        pairs = {lang: (q[:cap], e) for lang, (q, e) in corpus.heldout_pairs(queries).items()}
        scores = retrieval_scores(encoder(model), tokenizer, pairs, layer=cfg.layer, **kw)
        out.update({f"sr_udhr_{k}": v for k, v in scores.pop("average", {}).items()})
        out["per_language"]["sr_udhr"] = scores
    return out
