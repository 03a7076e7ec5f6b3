"""What continued pre-training updates (`pretrain.train_only`): every parameter, the token
embeddings only, or only the new tokens' rows of them (DESIGN §3.6).

The token embeddings are the vocabulary-indexed parameters (`models.freeze`: the input matrix or
its coordinates, an untied head's own matrix or coordinates, a head bias) and a factorized
model's primitives. Everything else gets `requires_grad=False`, so the optimizer never holds it.
`new_rows` also zeroes the gradient of the source rows (< n_source: the tokenizer extension
appends the new pieces after the source ids) and freezes the primitives, which every row shares.
"""

from __future__ import annotations

from torch import nn
from transformers import PreTrainedModel

from hyperofa.config.enums import TrainOnly
from hyperofa.errors import ConfigError
from hyperofa.models.freeze import FrozenRows, freeze_source_rows, primitive_parameters
from hyperofa.models.freeze import vocabulary_parameters as vocabulary


def embedding_parameters(model: PreTrainedModel) -> list[nn.Parameter]:
    """The token embeddings of `model`: vocabulary-indexed parameters and primitives."""
    return vocabulary(model) + primitive_parameters(model)


def restrict_training(
    model: PreTrainedModel,
    train_only: TrainOnly,
    n_source: int | None = None,
    sharded: bool = False,
) -> FrozenRows | None:
    """Freeze what `train_only` leaves out; for `new_rows` the frozen source rows (rows <
    `n_source`), whose `protect(optimizer)` undoes weight decay on them, else None.

    ConfigError when `new_rows` comes without `n_source` or with `sharded` parameters (FSDP:
    the hooks and the restored rows act on whole matrices); IncompatibleInputsError (from
    `freeze_source_rows`) when n_source exceeds the vocabulary."""
    train_only = TrainOnly(train_only)
    if train_only == TrainOnly.all:
        return None
    if train_only == TrainOnly.new_rows and (n_source is None or sharded):
        why = "sharded parameters (FSDP)" if sharded else "no source vocabulary size (n_source)"
        raise ConfigError("pretrain.train_only", train_only.value, f"all or embeddings with {why}")
    keep = {id(p) for p in embedding_parameters(model)}
    for param in model.parameters():
        if id(param) not in keep:
            param.requires_grad_(False)
    if train_only == TrainOnly.embeddings:
        return None
    return freeze_source_rows(model, n_source, freeze_primitives=True)


def trainable_count(model: nn.Module) -> int:
    """Parameters the optimizer holds (a tied matrix counted once; under `new_rows` whole
    matrices, whose source rows stay as they are)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
