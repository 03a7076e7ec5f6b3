"""Every check of a run that needs no heavy work: config values against the model's shape, the
word vectors' dim and the evaluation data's layout. They run before the first heavy stage, so a
bad input fails in seconds with a named error instead of after hours."""

from __future__ import annotations

from hyperofa.config.enums import (
    CAUSAL_ONLY_TASKS,
    MASKED_ONLY_TASKS,
    Stage,
    StepZeroTask,
    TrainOnly,
)
from hyperofa.config.schema import RunConfig
from hyperofa.errors import ConfigError, IncompatibleInputsError, require_path
from hyperofa.evaluate.tasks import check_tasks
from hyperofa.factorize import check_dim
from hyperofa.init.registry import needs_hypernet, probe_size
from hyperofa.stages.sources import ModelShape, check_paths, model_shape


def _check_layers(run: RunConfig, shape: ModelShape) -> None:
    layers = {"eval.layer": run.eval.layer}
    layers |= {
        f"eval.{n}.layer": t.layer for n, t in run.eval.downstream().items() if hasattr(t, "layer")
    }
    for key, layer in layers.items():
        if layer > shape.layers:
            raise ConfigError(
                key, layer, f"a hidden-state index in 0..{shape.layers} (the model's layers)"
            )


def _check_step0_tasks(run: RunConfig, shape: ModelShape) -> None:
    """Step-0 tasks the model's objective cannot run: MLM loss on a causal LM, bits per byte and
    continuations on a masked LM."""
    kind, wrong = ("causal", MASKED_ONLY_TASKS) if shape.causal else ("masked", CAUSAL_ONLY_TASKS)
    bad = sorted(t.value for t in run.eval.tasks if t in wrong)
    if bad:
        allowed = ", ".join(t.value for t in StepZeroTask if t not in wrong)
        raise ConfigError("eval.tasks", bad, f"step-0 tasks a {kind} LM runs: {allowed}")


def _check_hypernet(run: RunConfig, vector_dim: int) -> None:
    cfg = run.hypernet.model
    if cfg.input_dim is not None and cfg.input_dim != vector_dim:
        raise IncompatibleInputsError(
            f"word vectors have dim {vector_dim} but hypernet.model.input_dim is {cfg.input_dim}; "
            f"set hypernet.model.input_dim={vector_dim} or null (the vectors' dim)"
        )
    if cfg.architecture == "setformer" and vector_dim % cfg.num_heads:
        raise ConfigError(
            "hypernet.model.num_heads", cfg.num_heads, f"a divisor of the word dim {vector_dim}"
        )


def preflight(run: RunConfig) -> ModelShape:
    """Raise the first named error a run would hit; return the model's shape."""
    if run.tokenizer.path is not None:
        require_path(run.tokenizer.path, "tokenizer.path", "a tokenizer dir")
    user_dim = check_paths(run.model, run.word_vectors)
    shape = model_shape(run.model)
    check_dim(run.factorize.dim, shape.hidden)
    _check_layers(run, shape)
    if Stage.pretrain in run.stages and run.pretrain.max_length > shape.positions:
        raise ConfigError(
            "pretrain.max_length",
            run.pretrain.max_length,
            f"<= {shape.positions}, the model's positions",
        )
    if run.pretrain.train_only == TrainOnly.new_rows and run.tokenizer.path is not None:
        raise ConfigError(
            "pretrain.train_only",
            "new_rows",
            "all or embeddings with a tokenizer given by path (its ids need not keep the "
            "source's first, so the source rows are unknown)",
        )
    if needs_hypernet(run.initializer):
        _check_hypernet(run, user_dim if user_dim is not None else run.word_vectors.graph.dim)
    if probe_size(run.initializer) is not None and not shape.tied:
        raise ConfigError(
            "initializer.calibrate",
            "text",
            "spread or none: the model's head is untied, and the training-text probe scores "
            "the rows of a tied head only",
        )
    if run.assemble.untie and not shape.causal:
        raise ConfigError("assemble.untie", True, "false: a masked LM's head is tied")
    if Stage.evaluate in run.stages:
        _check_step0_tasks(run, shape)
        check_tasks(run.eval)
    return shape
