"""What every model family shares: the loss output and reading a saved model dir."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor
from transformers import PreTrainedModel

from hyperofa.errors import BadFileError, MissingPathError, require_path

log = logging.getLogger(__name__)
LEGACY_KEY = "hyperofa"  # the config section of dirs written by the old AssembledForMaskedLM


@dataclass
class LossOutput:
    """A batch's training loss and what it was computed from.

    `targets` (M,) are the M scored tokens, found at `positions` (B, T) — so per-token losses can
    be grouped by sequence (e.g. per language) without knowing the family. A family gives the
    scored tokens' `logits` (M, V) (masked encoders), or their losses `token_losses` (M,) fp32 when
    it never holds all logits at once (causal decoders: `logits` is None then).
    """

    loss: Tensor
    logits: Tensor | None
    targets: Tensor
    positions: Tensor
    token_losses: Tensor | None = None


def stored_rows(model: PreTrainedModel) -> Tensor:
    """The parameter an assembled model holds its `rows` in: the input embeddings (V, D), or a
    factorized model's coordinates (V, D')."""
    embeddings = model.get_input_embeddings()
    factors = getattr(embeddings, "coordinates", None)
    return embeddings.weight if factors is None else factors.weight


def read_config(directory: str | Path) -> dict[str, Any]:
    """config.json of a model dir; MissingPathError, or BadFileError for the old format."""
    path = require_path(directory, "model dir", "a dir written by save_pretrained")
    if not (path / "config.json").is_file():
        raise MissingPathError("model config", path / "config.json", "a dir with config.json")
    config = json.loads((path / "config.json").read_text())
    if LEGACY_KEY in config:
        raise BadFileError(
            path / "config.json",
            f"written by the old AssembledForMaskedLM (a `{LEGACY_KEY}` section): assemble it again",
        )
    return config


def checked_load(loader: Any, path: Path, strict: bool, **kwargs: Any) -> PreTrainedModel:
    """Load; weights that do not fit the model are a BadFileError when `strict` (our own outputs),
    else a warning (a user's source checkpoint may carry stale buffers such as position_ids)."""
    model, info = loader.from_pretrained(path, output_loading_info=True, **kwargs)
    bad = {k: sorted(v) for k, v in info.items() if k != "error_msgs" and v}
    if bad and strict:
        raise BadFileError(path / "config.json", f"weights do not fit the model: {bad}")
    if bad:
        log.warning("%s: weights that do not fit the model: %s", path, bad)
    return model.eval()


class SavedModels:
    """Loading and saving, alike for every family: a dir whose `model_type` is the family's
    factorized one loads as `factorized`, any other through the family's transformers Auto class."""

    factorized_type: str
    factorized: type[PreTrainedModel]
    auto: Any  # AutoModelForMaskedLM / AutoModelForCausalLM

    def load(self, directory: str | Path, strict: bool = True) -> PreTrainedModel:
        """A saved model in eval mode; with `strict`, BadFileError if any weight is missing or
        unexpected."""
        config, path = read_config(directory), Path(directory)
        if config.get("model_type") == self.factorized_type:
            return checked_load(self.factorized, path, strict)
        return checked_load(self.auto, path, strict)

    def save(self, model: PreTrainedModel, tokenizer: Any, directory: str | Path) -> None:
        """Weights, config (+ generation config, the modeling file of a factorized model) and
        tokenizer."""
        model.save_pretrained(directory)
        if tokenizer is not None:
            tokenizer.save_pretrained(directory)
