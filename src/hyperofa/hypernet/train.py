"""Train the hypernetwork on source tokens, resumably; predict rows; intrinsic scores.

A run directory holds `checkpoints/{best,last}.ckpt`, `csv/version_*/metrics.csv`,
`run.json` (its claim), and once finished `splits.npz` + `result.json`. Rerunning with the same
directory resumes from `last.ckpt` (saved every `checkpoint_every_n_steps` steps) and ends with
the same weights as an uninterrupted run; a finished run is loaded, not retrained.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import Logger
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from hyperofa.artifacts import cache_key, write_json_atomic
from hyperofa.config.hypernet import HypernetModelConfig, HypernetTrainConfig
from hyperofa.config.rules import check_tree
from hyperofa.config.training import TrainerConfig
from hyperofa.errors import ConfigError, EmptyInputError, IncompatibleInputsError
from hyperofa.hypernet.data import (
    Augmentation,
    LengthGroupedSampler,
    TokenWordSets,
    collate,
    eval_batches,
    split_tokens,
)
from hyperofa.hypernet.models import build_hypernet
from hyperofa.hypernet.module import CHECKPOINTS, HypernetModule, hypernet_trainer, predictions
from hyperofa.training.rundir import claim_run_dir
from hyperofa.training.seeding import scoped_global_state

RESULT, SPLITS = "result.json", "splits.npz"
PREDICT_MAX_WORDS = 1 << 16  # padded words per inference pass: ~0.5 GB for a BiLSTM h800
_NOT_IN_KEY = ("num_workers", "checkpoint_every_n_steps")  # leave results as they are


@dataclass
class TrainResult:
    """model: best weights by val loss, eval mode; splits: source token ids per split;
    metrics: best_val_loss, epochs (completed), seconds and samples_per_s (this process's fit,
    validation included), {train,val,test}_tokens."""

    model: nn.Module
    splits: dict[str, np.ndarray]
    metrics: dict[str, Any]
    run_dir: Path


def validate_inputs(
    indptr: np.ndarray,
    indices: np.ndarray,
    word_vectors: np.ndarray,
    targets: np.ndarray,
    model_cfg: HypernetModelConfig,
) -> np.ndarray:
    """Check the CSR map, word vectors and targets agree; return the tokens with matched words.

    Raises IncompatibleInputsError or EmptyInputError naming the mismatch.
    """
    dim = model_cfg.input_dim if model_cfg.input_dim is not None else word_vectors.shape[-1]
    if word_vectors.ndim != 2 or word_vectors.shape[1] != dim:
        raise IncompatibleInputsError(
            f"word vectors have shape {word_vectors.shape} but hypernet.model.input_dim ="
            f" {model_cfg.input_dim}: expected (N, {dim}); null takes the vectors' dim"
        )
    if indptr.ndim != 1 or len(indptr) < 1 or indptr[0] != 0 or indptr[-1] != len(indices):
        raise IncompatibleInputsError(
            f"token→word CSR: indptr must start at 0 and end at len(indices)={len(indices)}"
        )
    if np.any(np.diff(indptr) < 0):
        raise IncompatibleInputsError("token→word CSR: indptr must be non-decreasing")
    if len(indices) and (indices.min() < 0 or indices.max() >= len(word_vectors)):
        raise IncompatibleInputsError(
            f"token→word CSR: word indices must lie in [0, {len(word_vectors)}) (the word table)"
        )
    n_tokens = len(indptr) - 1
    if targets.ndim != 2 or targets.shape[0] < n_tokens:
        raise IncompatibleInputsError(
            f"targets have shape {targets.shape}: expected ≥ {n_tokens} rows, one per CSR row"
        )
    if model_cfg.output_dim is not None and model_cfg.output_dim != targets.shape[1]:
        raise IncompatibleInputsError(
            f"hypernet.model.output_dim = {model_cfg.output_dim} but targets have {targets.shape[1]}"
        )
    matched = np.flatnonzero(np.diff(indptr) > 0)
    if len(matched) == 0:
        raise EmptyInputError("no source token has a matched word: nothing to train on")
    return matched


def _check_split(splits: dict[str, np.ndarray], batch_size: int) -> None:
    if len(splits["train"]) < batch_size:
        raise ConfigError(
            "hypernet.train.batch_size",
            batch_size,
            f"at most the {len(splits['train'])} training tokens (batches drop the remainder)",
        )
    if len(splits["val"]) == 0:
        raise EmptyInputError("the validation split is empty: more matched tokens are needed")


def _fingerprint(arrays: dict[str, np.ndarray], model_cfg, train_cfg) -> str:
    """Key of (configs, inputs); the word table is sampled (it can be GBs), the rest hashed."""

    def digest(a: np.ndarray) -> str:
        return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]

    wv = arrays.pop("word_vectors")
    inputs = {k: digest(a) for k, a in arrays.items()}
    inputs["word_vectors"] = f"{wv.shape}:{digest(wv[:: max(1, len(wv) // 1000)])}"
    train = {k: v for k, v in asdict(train_cfg).items() if k not in _NOT_IN_KEY}
    return cache_key("hypernet-train", {"model": asdict(model_cfg), "train": train}, inputs)


def _loaders(data: dict[str, Any], splits: dict[str, np.ndarray], model_cfg, cfg):
    """Training loader (length-grouped, augmented) with its sampler, and the validation loader."""
    csr = (data["indptr"], data["indices"])
    aug = Augmentation(cfg.augment_p, cfg.augment_min_words, cfg.augment_keep, cfg.seed)
    train = TokenWordSets(*csr, splits["train"], data["targets"], model_cfg.max_context, aug)
    val = TokenWordSets(*csr, splits["val"], data["targets"], model_cfg.max_context)
    sampler = LengthGroupedSampler(
        train.lengths(), cfg.batch_size, cfg.length_group_chunk, cfg.seed, cfg.group_by_length
    )
    common = {"collate_fn": collate, "num_workers": cfg.num_workers}
    # own generator: creating an iterator must not consume the global RNG
    gen = torch.Generator().manual_seed(cfg.seed)
    train_loader = DataLoader(train, batch_sampler=sampler, generator=gen, **common)
    val_loader = DataLoader(
        val, batch_sampler=eval_batches(val.lengths(), cfg.batch_size), **common
    )
    return train_loader, val_loader, sampler


def load_weights(net: nn.Module, checkpoint: Path) -> nn.Module:
    """Load a HypernetModule checkpoint's `net.*` weights into `net`; return it in eval mode."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    net.load_state_dict({k.removeprefix("net."): v for k, v in state.items()})
    return net.eval()


def _save_splits(path: Path, splits: dict[str, np.ndarray]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}.npz")
    np.savez(tmp, **splits)
    os.replace(tmp, path)


def load_trained(
    run_dir: Path, model_cfg: HypernetModelConfig, word_vectors: np.ndarray
) -> TrainResult:
    """The finished run in `run_dir` (result.json, splits.npz, checkpoints/best.ckpt)."""
    result = json.loads((run_dir / RESULT).read_text())
    with np.load(run_dir / SPLITS) as f:
        splits = {k: f[k] for k in ("train", "val", "test")}
    net = build_hypernet(model_cfg, word_vectors, result["model"]["output_dim"])
    best = load_weights(net, run_dir / CHECKPOINTS / "best.ckpt")
    return TrainResult(best, splits, result["metrics"], run_dir)


def train_hypernet(
    indptr: np.ndarray,
    indices: np.ndarray,
    word_vectors: np.ndarray,
    targets: np.ndarray,
    model_cfg: HypernetModelConfig,
    train_cfg: HypernetTrainConfig,
    run_dir: Path,
    hw: TrainerConfig | None = None,
    loggers: Sequence[Logger] | None = None,
    callbacks: Sequence[pl.Callback] = (),
) -> TrainResult:
    """Train on source tokens with matched words: CSR rows → `targets` rows [V_src, D_out].

    indptr [V+1], indices [nnz] (rows of `word_vectors` [N, d]). Splits the matched tokens
    (train_cfg.split, split_seed), trains with validation every epoch, keeps the best weights by
    val loss. Resumes from `run_dir/checkpoints/last.ckpt` if present. `callbacks` are extra
    Lightning callbacks (e.g. for tests).
    """
    check_tree(model_cfg, "hypernet.model")
    check_tree(train_cfg, "hypernet.train")
    matched = validate_inputs(indptr, indices, word_vectors, targets, model_cfg)
    model_cfg = replace(model_cfg, output_dim=int(targets.shape[1]))
    run_dir = Path(run_dir)
    data = {"indptr": indptr, "indices": indices, "targets": targets, "word_vectors": word_vectors}
    parts = split_tokens(matched, train_cfg.split, train_cfg.split_seed)
    splits = dict(zip(("train", "val", "test"), parts, strict=True))
    _check_split(splits, train_cfg.batch_size)
    claim_run_dir(run_dir, {"key": _fingerprint(dict(data), model_cfg, train_cfg)}, "hypernet")
    if (run_dir / RESULT).exists():
        return load_trained(run_dir, model_cfg, word_vectors)
    extras = {"hw": hw or TrainerConfig(), "loggers": loggers, "callbacks": callbacks}
    net, metrics, best_path = _fit(data, splits, model_cfg, train_cfg, run_dir, extras)
    _save_splits(run_dir / SPLITS, splits)
    write_json_atomic(run_dir / RESULT, {"metrics": metrics, "model": asdict(model_cfg)})
    return TrainResult(load_weights(net, best_path), splits, metrics, run_dir)


def _fit(data, splits, model_cfg, train_cfg, run_dir: Path, extras: dict[str, Any]):
    """Build net, loaders and trainer; fit (resuming from last.ckpt); return net, metrics, best."""
    with scoped_global_state():
        torch.manual_seed(train_cfg.seed)
        net = build_hypernet(model_cfg, data["word_vectors"])
        module = HypernetModule(net, model_cfg, train_cfg)
        train_loader, val_loader, sampler = _loaders(data, splits, model_cfg, train_cfg)
        trainer, best = hypernet_trainer(run_dir, train_cfg, sampler=sampler, **extras)
        last = run_dir / CHECKPOINTS / "last.ckpt"
        started = time.perf_counter()
        resume = last if last.exists() else None
        trainer.fit(module, train_loader, val_loader, ckpt_path=resume, weights_only=True)
        seconds = time.perf_counter() - started
    metrics = {
        "best_val_loss": float(best.best_model_score),
        "epochs": int(trainer.current_epoch),
        "seconds": round(seconds, 3),
        "samples_per_s": round(module.samples_seen / max(seconds, 1e-9), 1),
        **{f"{k}_tokens": len(v) for k, v in splits.items()},
    }
    return net, metrics, Path(best.best_model_path)


def predict(
    model: nn.Module,
    indptr: np.ndarray,
    indices: np.ndarray,
    token_ids: np.ndarray,
    batch_size: int = 1024,
    max_words: int | None = PREDICT_MAX_WORDS,
) -> np.ndarray:
    """Rows for `token_ids` (each with ≥ 1 matched word) → float32 [len(token_ids), D_out].

    Eval mode, no augmentation, the model's `max_context` truncation; batches sorted by length,
    each run in slices of at most `max_words` padded words (None: whole).
    """
    data = TokenWordSets(
        indptr, indices, np.asarray(token_ids, dtype=np.int64), None, model.max_context
    )
    lengths = data.lengths()
    if np.any(lengths == 0):
        empty = data.token_ids[lengths == 0][:8].tolist()
        raise IncompatibleInputsError(f"tokens without matched words cannot be predicted: {empty}")
    out = np.empty((len(data), model.output_dim), dtype=np.float32)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    batches = eval_batches(lengths, batch_size, by_length=True)
    with torch.inference_mode():
        for positions in tqdm(batches, desc="hypernet predict", disable=len(batches) < 50):
            batch = collate([data[i] for i in positions])
            batch = batch._replace(word_ids=batch.word_ids.to(device))
            out[positions] = predictions(model, batch, max_words).float().cpu().numpy()
    model.train(was_training)
    return out
