"""Train only the new rows at first (DESIGN §3.6): the source tokens' rows take no gradient.

Every vocabulary-indexed parameter gets a tensor hook that zeroes the gradient of rows
< n_source: the input matrix (or, factorized, its coordinates), an untied head's own matrix (or
coordinates) and a head bias. Zero gradients keep plain SGD and Adam's moments off those rows and
out of a clipped gradient norm, but decoupled weight decay (AdamW) still shrinks them: `protect`
an optimizer to put them back after each step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle
from transformers import PreTrainedModel

import hyperofa.models.decoder as parts
from hyperofa.errors import IncompatibleInputsError
from hyperofa.models.modeling_factorized import MODEL_TYPE as MASKED_FACTORIZED


def _unique(params: list[Tensor | None]) -> list[nn.Parameter]:
    seen: dict[int, nn.Parameter] = {}
    for p in params:
        if p is not None:
            seen.setdefault(id(p), p)
    return list(seen.values())


def vocabulary_parameters(model: PreTrainedModel) -> list[nn.Parameter]:
    """The parameters whose rows are tokens: input matrix or coordinates, an untied head's own,
    a head bias (a tied head is counted once)."""
    emb = model.get_input_embeddings()
    if parts.is_factorized_causal(model):
        head = None if model.head is None else model.head.coordinates.weight
        return _unique([emb.coordinates.weight, head, model.bias])
    if getattr(model.config, "model_type", None) == MASKED_FACTORIZED:
        return _unique([emb.coordinates.weight, model.bias])
    out = model.get_output_embeddings()  # a native masked LM's decoder bias is its output bias
    return _unique([emb.weight, out.weight, out.bias])


def primitive_parameters(model: PreTrainedModel) -> list[nn.Parameter]:
    """The primitives of a factorized model (shared by all rows), else none."""
    return [m.weight for name, m in model.named_modules() if name.endswith("primitives")]


@dataclass
class FrozenRows:
    """What `freeze_source_rows` did; `remove()` undoes it."""

    n_source: int
    params: list[nn.Parameter]
    handles: list[RemovableHandle] = field(default_factory=list)
    stopped: list[nn.Parameter] = field(default_factory=list)  # requires_grad turned off
    saved: list[Tensor] = field(default_factory=list)

    def protect(self, optimizer: torch.optim.Optimizer) -> None:
        """After every `optimizer.step()`, put the source rows back as they are now (undoing
        weight decay and any momentum from before the freeze). Holds a copy of those rows."""
        self.saved = [p.detach()[: self.n_source].clone() for p in self.params]
        self.handles.append(optimizer.register_step_post_hook(lambda *_: self.restore()))

    @torch.no_grad()
    def restore(self) -> None:
        """Copy the saved source rows back (a no-op before `protect`)."""
        for param, rows in zip(self.params, self.saved, strict=False):
            param[: self.n_source].copy_(rows)

    def remove(self) -> None:
        """Drop the hooks and turn gradients of frozen primitives back on."""
        for handle in self.handles:
            handle.remove()
        for param in self.stopped:
            param.requires_grad_(True)
        self.handles, self.stopped, self.saved = [], [], []


def _zero_rows_hook(n_source: int):
    def hook(grad: Tensor) -> Tensor:
        grad = grad.clone()
        grad[:n_source] = 0
        return grad

    return hook


def freeze_source_rows(
    model: PreTrainedModel, n_source: int, freeze_primitives: bool = False
) -> FrozenRows:
    """Zero the gradient of rows < `n_source` of every vocabulary-indexed parameter.

    A factorized model's primitives are shared by all rows, so they still train (moving the
    source embeddings through them) unless `freeze_primitives`, which turns their gradient off.
    IncompatibleInputsError unless 0 ≤ n_source ≤ the vocabulary size.
    """
    params = vocabulary_parameters(model)
    vocab = len(params[0])
    if not 0 <= n_source <= vocab:
        raise IncompatibleInputsError(
            f"n_source {n_source}: expected 0 ≤ n_source ≤ {vocab}, the model's vocabulary size"
        )
    frozen = FrozenRows(n_source, params)
    frozen.handles = [p.register_hook(_zero_rows_hook(n_source)) for p in params]
    if freeze_primitives:
        frozen.stopped = [p for p in primitive_parameters(model) if p.requires_grad]
        for p in frozen.stopped:
            p.requires_grad_(False)
    return frozen
