"""The step-0 evaluation of a model on the embedded default's held-out UDHR articles: masked-LM
loss (masked LMs) or bits per byte and greedy continuations (causal LMs) per language, the
tokenizer's fertility, and paragraph retrieval into English (mean-pooled hidden states)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hyperofa.config.enums import StepZeroTask, UdhrLanguages
from hyperofa.config.evaluate import EvalConfig
from hyperofa.corpus import UDHRCorpus
from hyperofa.evaluate.causal import fertility, greedy_continuations, heldout_bpb
from hyperofa.evaluate.mlm import heldout_mlm_loss
from hyperofa.evaluate.retrieval import retrieval_scores
from hyperofa.models import ModelFamily

# flat key of the langset's / the unseen languages' average
SPLITS = (("heldout", "languages"), ("unseen_languages", "unseen"))


def _capped(texts: dict[str, list[str]], cap: int | None) -> dict[str, list[str]]:
    return {lang: ts[:cap] for lang, ts in texts.items()}


def _per_language(
    out: dict[str, Any],
    name: str,
    texts: Callable[[Sequence[str]], dict[str, list[str]]],
    groups: dict[str, Sequence[str]],
    score: Callable[[dict[str, list[str]]], dict[str, float]],
) -> None:
    """`<name>_heldout` / `<name>_unseen_languages`: each group's average, per language too."""
    for suffix, group in SPLITS:
        if groups[group]:
            per = score(texts(groups[group]))
            out[f"{name}_{suffix}"] = per.pop("average")
            out["per_language"][f"{name}_{suffix}"] = per


def _fertility(tokenizer: Any, texts: dict[str, list[str]]) -> dict[str, Any]:
    """Tokens per word of every language (+ their mean under `average`)."""
    per = {lang: fertility(tokenizer, ts)["tokens_per_word"] for lang, ts in texts.items()}
    return {**per, "average": sum(per.values()) / len(per)}


def _continuations(
    model: Any, tokenizer: Any, cfg: EvalConfig, texts: dict[str, list[str]]
) -> dict[str, dict[str, str]]:
    """Per language: the first `continuation_words` words of its first held-out paragraph and the
    model's greedy continuation."""
    prompts = {
        lang: " ".join(ts[0].split()[: cfg.continuation_words]) for lang, ts in texts.items()
    }
    outs = greedy_continuations(model, tokenizer, list(prompts.values()), cfg.continuation_tokens)
    return {
        lang: {"prompt": p, "continuation": o}
        for (lang, p), o in zip(prompts.items(), outs, strict=True)
    }


def _retrieval(
    encoder: Any, tokenizer: Any, cfg: EvalConfig, corpus: UDHRCorpus, languages: list[str]
) -> dict[str, Any]:
    queries = corpus.languages() if cfg.udhr_languages == UdhrLanguages.all else languages
    cap = cfg.max_texts_per_language
    # queries capped; candidates stay every aligned English paragraph (query i ↔ candidate i)
    pairs = {lang: (q[:cap], e) for lang, (q, e) in corpus.heldout_pairs(queries).items()}
    return retrieval_scores(
        encoder, tokenizer, pairs, layer=cfg.layer, max_length=cfg.max_length,
        batch_size=cfg.batch_size,
    )  # fmt: skip


def step0_metrics(
    model: Any,
    family: ModelFamily,
    tokenizer: Any,
    cfg: EvalConfig,
    corpus: UDHRCorpus,
    languages: Sequence[str],
    unseen: Sequence[str],
    seed: int,
) -> dict[str, Any]:
    """Flat headline figures (`mlm_loss_heldout`, `bpb_heldout`, `fertility_heldout`,
    `sr_udhr_top<k>`, each `_unseen_languages` too), `per_language` ({metric: {language: …}})
    and `details` (greedy continuations)."""
    kw = {"max_length": cfg.max_length, "batch_size": cfg.batch_size}
    out: dict[str, Any] = {"per_language": {}}
    groups = {"languages": languages, "unseen": unseen}
    texts = lambda langs: _capped(corpus.texts(langs, "heldout"), cfg.max_texts_per_language)  # noqa: E731
    tasks = set(cfg.tasks)
    if StepZeroTask.mlm_heldout in tasks:
        mlm = lambda t: heldout_mlm_loss(  # noqa: E731
            model, tokenizer, t, seed=seed, mlm_probability=cfg.mlm_probability, **kw
        )
        _per_language(out, "mlm_loss", texts, groups, mlm)
    if StepZeroTask.bpb_heldout in tasks:
        _per_language(out, "bpb", texts, groups, lambda t: heldout_bpb(model, tokenizer, t, **kw))
    if StepZeroTask.fertility in tasks:
        _per_language(out, "fertility", texts, groups, lambda t: _fertility(tokenizer, t))
    if StepZeroTask.continuations in tasks:
        both = texts([*languages, *unseen])
        out["details"] = {"continuations": _continuations(model, tokenizer, cfg, both)}
    if StepZeroTask.sr_udhr in tasks:
        found = _retrieval(family.encoder(model), tokenizer, cfg, corpus, [*languages, *unseen])
        out.update({f"sr_udhr_{k}": v for k, v in found.pop("average", {}).items()})
        out["per_language"]["sr_udhr"] = found
    return out
