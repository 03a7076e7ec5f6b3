"""One run: match → factorize → copy → initialize → assemble → [pretrain] → evaluate.

`run(cfg)` is what the Hydra entry point and the tests call. It wires the objects once (the
initializer, its hypernetwork, the job's loggers), then sequences the cached stages; every stage
takes its own typed slice of the config. Every check that needs no heavy work runs first
(`preflight`).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from hyperofa.artifacts import Artifact, write_json_atomic
from hyperofa.config.enums import Stage
from hyperofa.config.schema import RunConfig
from hyperofa.init.registry import (
    build_initializer,
    needs_hypernet,
    probe_size,
    static_vectors_config,
)
from hyperofa.models import ModelFamily, family_of
from hyperofa.preflight import preflight
from hyperofa.stages import assemble, evaluate, focus, hypernet, initialize, pretrain
from hyperofa.stages.common import Keyed, read_metrics
from hyperofa.stages.copy import copy
from hyperofa.stages.extend_tokenizer import target_tokenizer
from hyperofa.stages.factorize import factorize
from hyperofa.stages.factorize import load as load_factors
from hyperofa.stages.match import match
from hyperofa.stages.sources import Sources, resolve_sources
from hyperofa.tracking import job_tracking, log_job
from hyperofa.training.seeding import seed_everything

OUTPUT = "_output"  # the untied head's artifacts and keys


def run(run: RunConfig) -> dict[str, Any]:
    """Run the pipeline up to the furthest stage in `run.stages` (earlier stages are its inputs,
    cached); returns the result rows, also written to `run_dir/result.json`."""
    seed_everything(run.seed)
    preflight(run)
    src = resolve_sources(run.model, run.word_vectors, run.langset, run.assets)
    target = target_tokenizer(run.tokenizer, run.langset, src.tokenizer, src.corpus)
    family = family_of(src.model_dir.value)
    model = Keyed(family.load(src.model_dir.value, strict=False), src.model_dir.key)
    done: dict[str, Artifact] = {
        "match_source": match(src.tokenizer, src.vectors),
        "match_target": match(target, src.vectors),
    }
    rows, primitives = _source_rows(run, src, family.source_embeddings(model.value), done)
    if run.runs(Stage.copy):
        done["copy"] = copy(src.tokenizer, target)
    if not run.runs(Stage.initialize):
        return _finish(run, [], done)
    parts = _init_parts(run, src, target, rows, primitives, done)
    if (size := probe_size(run.initializer)) is not None:
        parts = replace(parts, probe=_text_probe(run, src, family, model, target, size))
    done["initialize"] = _initialize(run, parts)
    if (head := family.output_embeddings(model.value)) is not None:
        # an untied head is a space of its own: the same initializer (and hypernet) on its rows
        rows, primitives = _source_rows(run, src, head, done, OUTPUT)
        done["initialize_output"] = _initialize(
            run, replace(parts, rows=rows, primitives=primitives, probe=None)
        )
    if not run.runs(Stage.assemble):
        return _finish(run, [], done)
    done["model"] = assemble.assemble(
        family, done["initialize"], model, target, done.get("initialize_output"), run.assemble.untie
    )
    results = _evaluate_and_pretrain(run, src, family, model, target, done)
    log_job(job_tracking(run), asdict(run), results)
    return _finish(run, results, done)


def _source_rows(
    run: RunConfig, src: Sources, E: np.ndarray, done: dict, matrix: str = ""
) -> tuple[Keyed[np.ndarray], np.ndarray | None]:
    """The rows initializers work on — coordinates F when factorized (D'), else the embeddings E
    of the tokenizer's ids — and the primitives P (None unless factorized). `matrix`: "" for
    the input embeddings, OUTPUT for an untied head's."""
    embeddings = Keyed(E[: len(src.tokenizer.value)], src.model_dir.key + matrix)
    if run.factorize.dim is None or not run.runs(Stage.factorize):
        return embeddings, None
    art = done[f"factorize{matrix}"] = factorize(embeddings, run.factorize.dim)
    coordinates, primitives = load_factors(art)
    return Keyed(coordinates, art.key), primitives


def _init_parts(
    run: RunConfig, src: Sources, target: Keyed, rows: Keyed, primitives, done: dict
) -> initialize.InitParts:
    """What the initializer reads; FOCUS's static token space computed first when it needs it."""
    parts = initialize.InitParts(
        rows, primitives, done["match_source"], done["match_target"],
        done["copy"], Keyed(src.vectors.value.vectors, src.vectors.key),
        source_tokenizer=src.tokenizer.value, target_tokenizer=target.value,
    )  # fmt: skip
    if (static := static_vectors_config(run.initializer)) is not None:
        texts = focus.focus_texts(run.pretrain.train_path, run.langset, src.corpus)
        done["focus"] = focus.static_vectors(static, target, texts)
        parts = replace(parts, static=done["focus"])
    return parts


def _text_probe(
    run: RunConfig, src: Sources, family: ModelFamily, model: Keyed, target: Keyed, size: int
):
    """The training-text probe of the initializer's candidates, `size` texts of the pre-training
    text's train side (the langset's UDHR train articles or `pretrain.train_path`)."""
    train = pretrain.pretrain_texts(run.pretrain, run.langset, src.corpus)
    texts = Keyed(train.value[0], train.key)
    return initialize.text_probe(family, model, target, texts, size, run.seed, run.eval)


def _initialize(run: RunConfig, parts: initialize.InitParts) -> Artifact:
    """Wire the initializer (training its hypernetwork first when it has one) and run it."""
    initialize.check_overrides(run.initializer, parts)
    trained = None
    if needs_hypernet(run.initializer):
        words = initialize.match_stage.load(parts.source_match)
        art = hypernet.hypernet(
            run.hypernet, run.trainer, job_tracking(run), parts.rows,
            Keyed(words, parts.source_match.key), parts.vectors,
        )  # fmt: skip
        trained = (art, hypernet.load(art, run.hypernet, parts.vectors.value))
    initializer = build_initializer(run.initializer, trained[1] if trained else None)
    return initialize.initialize(run.initializer, initializer, run.seed, parts, trained)


def _evaluate_and_pretrain(
    run: RunConfig, src: Sources, family: ModelFamily, model, target, done: dict
) -> list[dict]:
    """Rows: the source model and the step-0 model (evaluate), the pre-trained one (pretrain).
    Downstream tasks score the job's final model and the source model."""
    results = []
    final = "pretrain" if Stage.pretrain in run.stages else "step0"
    untied_source = "initialize_output" in done
    source_head = "untied" if untied_source else "tied"
    target_head = "untied" if untied_source or run.assemble.untie else "tied"
    init_name = run.initializer.label
    if Stage.evaluate in run.stages and run.eval.evaluate_source:
        ref = assemble.source_reference(family, model, src.tokenizer)
        results.append(
            _row(run, "source", "step0", _metrics(run, src, ref, True), None, source_head)
        )
    if Stage.evaluate in run.stages:
        twin = None
        if run.assemble.untie and not untied_source:
            # a head untied by copy computes the tied model's function: one step-0 evaluation
            twin = assemble.assemble(family, done["initialize"], model, target)
        metrics = _metrics(run, src, done["model"], final == "step0", twin)
        results.append(_row(run, init_name, "step0", metrics, done["initialize"], target_head))
    if Stage.pretrain in run.stages:
        texts = pretrain.pretrain_texts(run.pretrain, run.langset, src.corpus)
        # an extended tokenizer keeps the source ids first; one given by path need not
        n_source = len(src.tokenizer.value) if run.tokenizer.path is None else None
        art = done["pretrained"] = pretrain.pretrain(
            family, run.pretrain, run.trainer, job_tracking(run), done["model"], target.value,
            texts, n_source=n_source,
        )  # fmt: skip
        pretrain.copy_logs(art, Path(run.run_dir) / "pretrain")
        if Stage.evaluate in run.stages:
            metrics = _metrics(run, src, art, True)
            metrics.update({f"cpt_{k}": v for k, v in art.counts.items()})
            init = done["initialize"]
            results.append(_row(run, init_name, "pretrained", metrics, init, target_head))
    return results


def _metrics(
    run: RunConfig, src: Sources, model: Artifact, downstream: bool, twin: Artifact | None = None
) -> dict:
    return evaluate.evaluate(
        model, run.eval, run.langset, src.corpus, run.seed, run.trainer, downstream, twin
    )


def _row(
    run: RunConfig,
    initializer: str,
    stage: str,
    metrics: dict,
    init: Artifact | None = None,
    head: str = "tied",
) -> dict:
    """One table row; an extended model's row carries its initialization's metrics and counts."""
    if init is not None:
        metrics = {**metrics, **read_metrics(init)}  # e.g. hyperofa's intrinsic scores
    return {
        "model": run.model.name,
        "initializer": str(initializer),
        "dim": run.factorize.dim if init is not None else None,
        "stage": stage,
        "head": head,
        "metrics": metrics,
        "counts": init.counts if init is not None else {},
    }


def _finish(run: RunConfig, rows: list[dict], done: dict) -> dict[str, Any]:
    artifacts = {name: str(art.path) for name, art in done.items()}
    result = {"rows": rows, "artifacts": artifacts, "config": asdict(run)}
    write_json_atomic(Path(run.run_dir) / "result.json", result)
    return result
