"""One run: match → factorize → copy → initialize → assemble → [pretrain] → evaluate, each a
cached stage.

`run(cfg)` is what the Hydra entry point and the tests call. Every check that needs no heavy work
(paths, sizes, dims, language text) happens before the first heavy stage.
"""

from __future__ import annotations

import logging
import random
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoConfig, AutoModelForMaskedLM

from hyperofa import stages
from hyperofa.artifacts import Artifact, cached_stage, write_json_atomic
from hyperofa.assemble.build import assemble, source_embeddings, source_head, target_bias
from hyperofa.assemble.modeling import AssembledForMaskedLM
from hyperofa.config.schema import STAGES, RunConfig, initializer_name
from hyperofa.evaluate.suite import check_tasks, evaluate_model
from hyperofa.init.base import InitInputs, build_initializer, initialize
from hyperofa.inputs import Sources, resolve_sources, target_tokenizer
from hyperofa.paths import cache_root
from hyperofa.pretrain.data import check_max_length
from hyperofa.pretrain.stage import LOGS, pretrain_config, pretrain_stage
from hyperofa.tracking import log_job, wandb_logger_builders

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _init_inputs(
    run: RunConfig, src: Sources, tgt_tok, tgt_key: str, source_rows: np.ndarray, rows_key: str
) -> InitInputs:
    wv_key = src.word_vectors_key
    s_map = stages.load_match(
        stages.match_stage(src.tokenizer, src.tokenizer_key, src.word_vectors, wv_key)
    )
    t_map = stages.load_match(stages.match_stage(tgt_tok, tgt_key, src.word_vectors, wv_key))
    copy = stages.load_copy(stages.copy_stage(src.tokenizer, src.tokenizer_key, tgt_tok, tgt_key))
    return InitInputs(
        source_rows=source_rows,
        copy=copy,
        seed=run.seed,
        source_words=s_map,
        target_words=t_map,
        word_vectors=src.word_vectors.vectors,
        extras={
            "keys": {
                "rows": rows_key,
                "source_tokenizer": src.tokenizer_key,
                "word_vectors": wv_key,
            }
        },
    )


def _source_rows(
    run: RunConfig, src: Sources, embeddings: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(rows to initialize from, primitives or None, key of those rows)."""
    if run.factorize.dim is None:
        return embeddings, None, src.model_key
    art = stages.factorize_stage(embeddings, src.model_key, run.factorize.dim)
    coordinates, primitives = stages.load_factors(art)
    return coordinates, primitives, art.key


def _initialize_stage(run: RunConfig, src: Sources, tgt_tok, tgt_key: str, model) -> Artifact:
    embeddings = source_embeddings(model)[: len(src.tokenizer)]
    rows, primitives, rows_key = _source_rows(run, src, embeddings)
    initializer = build_initializer(run.initializer)
    if hasattr(initializer, "loggers"):  # a trained initializer logs its curves to W&B too
        initializer.loggers = wandb_logger_builders(run, Path(run.run_dir) / "hypernet", "hypernet")

    def build(tmp: Path) -> dict:
        inputs = _init_inputs(run, src, tgt_tok, tgt_key, rows, rows_key)
        result = initialize(initializer, inputs)
        stages.save_initialization(tmp, result, primitives, inputs.copy.source_id)
        write_json_atomic(tmp / "metrics.json", result.metrics)
        return result.counts()

    config = {"initializer": run.initializer, "dim": run.factorize.dim, "seed": run.seed}
    inputs = {
        "rows": rows_key,
        "source_tokenizer": src.tokenizer_key,
        "target_tokenizer": tgt_key,
        "word_vectors": src.word_vectors_key,
    }
    return cached_stage(cache_root(), "initialize", config, inputs, build)


def _assemble_stage(init_art: Artifact, src: Sources, tgt_tok, model) -> Artifact:
    def build(tmp: Path) -> dict:
        rows, primitives, _ = stages.load_initialization(init_art)
        copied = stages.load_copied_from(init_art)
        bias = target_bias(source_head(model).bias.detach().numpy(), copied)
        assembled = assemble(model, rows, primitives, bias)
        assembled.save_pretrained(tmp)
        tgt_tok.save_pretrained(tmp)
        return {"vocab_size": len(rows), "num_primitives": assembled.num_primitives}

    return cached_stage(
        cache_root(), "assemble", {}, {"initialize": init_art.key, "model": src.model_key}, build
    )


def _source_model_stage(src: Sources, model) -> Artifact:
    """The unextended source model in assembled form (identical logits), for a reference row."""

    def build(tmp: Path) -> dict:
        E = source_embeddings(model)
        assembled = assemble(model, E, None, source_head(model).bias.detach().numpy())
        assembled.save_pretrained(tmp)
        src.tokenizer.save_pretrained(tmp)
        return {"vocab_size": len(E)}

    return cached_stage(
        cache_root(),
        "assemble",
        {"source": True},
        {"model": src.model_key, "tokenizer": src.tokenizer_key},
        build,
    )


def run(run: RunConfig) -> dict[str, Any]:
    """Run the pipeline up to the furthest stage in `run.stages` (earlier stages are its inputs,
    cached); returns the result rows, also written to `run_dir/result.json`."""
    seed_everything(run.seed)
    initializer = build_initializer(run.initializer)  # a bad value fails here, before any work
    cpt = pretrain_config(run) if "pretrain" in run.stages else None
    check_tasks(run.eval)
    last = max(STAGES.index(s) for s in run.stages)
    src = resolve_sources(run)
    if hasattr(initializer, "check"):
        initializer.check(src.word_vectors.dim)
    if cpt is not None:
        check_max_length(cpt.max_length, AutoConfig.from_pretrained(src.model_dir))
    tgt_tok, tgt_key = target_tokenizer(run, src)
    model = AutoModelForMaskedLM.from_pretrained(src.model_dir).eval()
    artifacts: dict[str, str] = {}
    if last < STAGES.index("initialize"):
        _early_stages(run, src, tgt_tok, tgt_key, model, last, artifacts)
        return _finish(run, [], artifacts)
    init_art = _initialize_stage(run, src, tgt_tok, tgt_key, model)
    artifacts["initialize"] = str(init_art.path)
    if last < STAGES.index("assemble"):
        return _finish(run, [], artifacts)
    model_art = _assemble_stage(init_art, src, tgt_tok, model)
    artifacts["model"] = str(model_art.path)
    evaluate = "evaluate" in run.stages
    rows = []
    if evaluate and run.eval.evaluate_source:
        rows.append(_row(run, "source", "step0", _source_model_stage(src, model), src))
    if evaluate:
        rows.append(_row(run, initializer_name(run), "step0", model_art, src, init_art))
    if cpt is not None:
        run_dir = Path(run.run_dir)
        cpt_art = pretrain_stage(model_art, tgt_tok, run, src, cpt, run_dir / "pretrain")
        artifacts["pretrained"] = str(cpt_art.path)
        _copy_logs(cpt_art, run_dir / "pretrain")
        if evaluate:
            row = _row(run, initializer_name(run), "pretrained", cpt_art, src, init_art)
            row["metrics"].update({f"cpt_{k}": v for k, v in cpt_art.counts.items()})
            rows.append(row)
    log_job(run, rows)
    return _finish(run, rows, artifacts)


def _row(
    run: RunConfig, initializer: str, stage: str, model_art: Artifact, src, init_art=None
) -> dict:
    """One table row. Downstream tasks score the job's final model (after `pretrain` if listed)
    and the source model."""
    downstream = stage != "step0" or "pretrain" not in run.stages or init_art is None
    metrics = stages.read_metrics(evaluate_model(model_art, run, src, downstream=downstream))
    if init_art is not None:
        metrics.update(stages.read_metrics(init_art))  # e.g. hyperofa's intrinsic scores
    return {
        "model": run.model.name,
        "initializer": initializer,
        "dim": run.factorize.dim if init_art is not None else None,
        "stage": stage,
        "metrics": metrics,
        "counts": init_art.counts if init_art is not None else {},
    }


def _copy_logs(art: Artifact, out: Path) -> None:
    """Copy the small pre-training logs (CSV curves, figures, plot) into the job's run dir."""
    logs = art.path / LOGS
    if logs.is_dir():
        shutil.copytree(logs, out, dirs_exist_ok=True)


def _early_stages(
    run: RunConfig, src: Sources, tgt_tok, tgt_key: str, model, last: int, artifacts: dict
) -> None:
    """`stages=[match]`, `[match, factorize]` or `[…, copy]`: only those artifacts."""
    wv, wv_key = src.word_vectors, src.word_vectors_key
    artifacts["match_source"] = str(
        stages.match_stage(src.tokenizer, src.tokenizer_key, wv, wv_key).path
    )
    artifacts["match_target"] = str(stages.match_stage(tgt_tok, tgt_key, wv, wv_key).path)
    if last >= STAGES.index("factorize") and run.factorize.dim is not None:
        embeddings = source_embeddings(model)[: len(src.tokenizer)]
        artifacts["factorize"] = str(
            stages.factorize_stage(embeddings, src.model_key, run.factorize.dim).path
        )
    if last >= STAGES.index("copy"):
        artifacts["copy"] = str(
            stages.copy_stage(src.tokenizer, src.tokenizer_key, tgt_tok, tgt_key).path
        )


def _finish(run: RunConfig, rows: list[dict], artifacts: dict[str, str]) -> dict[str, Any]:
    result = {"rows": rows, "artifacts": artifacts, "config": asdict(run)}
    write_json_atomic(Path(run.run_dir) / "result.json", result)
    return result


def load_assembled(art: Artifact) -> AssembledForMaskedLM:
    return AssembledForMaskedLM.from_pretrained(art.path)
