"""The causal-decoder family (Gemma 3, Llama, Qwen2, … — DESIGN §3.6): next-token prediction,
tied or untied heads, plain or factorized embeddings.

Tied heads (Gemma, Qwen2.5-0.5B) are one matrix, initialized once: `assemble` takes `rows` only.
Untied heads (Llama) are a space of their own: `assemble` takes `output_rows` as well, which the
caller initializes on the source's `output_embeddings` as it did the input rows on
`source_embeddings`. `untie=True` gives a tied source's target a head of its own, starting as a
copy of `output_rows` (default: `rows`).
"""

from __future__ import annotations

import numpy as np
from torch import Tensor
from transformers import AutoModelForCausalLM, PreTrainedModel

import hyperofa.models.build_causal as build
import hyperofa.models.decoder as parts
from hyperofa.errors import IncompatibleInputsError
from hyperofa.models.chunked_loss import LOGITS_BUDGET, causal_lm_loss, chunk_tokens
from hyperofa.models.common import LossOutput, SavedModels
from hyperofa.models.modeling_factorized_causal import MODEL_TYPE, FactorizedForCausalLM

Factors = tuple[np.ndarray, np.ndarray | None]  # rows (V, D) or coordinates (V, D') + primitives


def _matrix_problems(
    what: str, hidden_size: int, rows: np.ndarray, primitives: np.ndarray | None
) -> list[str]:
    width = hidden_size if primitives is None else primitives.shape[0]
    problems = []
    if rows.ndim != 2 or rows.shape[1] != width:
        kind = "hidden size" if primitives is None else "primitives' rows D'"
        problems.append(f"{what} {rows.shape}: expected (V, {width}), the {kind}")
    if primitives is not None and (
        primitives.ndim != 2 or primitives.shape[1] != hidden_size or not 0 < width <= hidden_size
    ):
        problems.append(
            f"{what} primitives {primitives.shape}: expected (D', {hidden_size}), 0 < D' ≤ D"
        )
    return problems


def check_shapes(
    source: PreTrainedModel, inputs: Factors, bias: np.ndarray | None, output: Factors | None
) -> None:
    """Input (and untied output) rows (V, D), or coordinates (V, D') with primitives (D', D);
    bias (V,) exactly when the source head has one. IncompatibleInputsError naming the shapes."""
    hidden, rows = source.config.hidden_size, inputs[0]
    problems = _matrix_problems("rows", hidden, *inputs)
    if output is not None:
        problems += _matrix_problems("output rows", hidden, *output)
        if len(output[0]) != len(rows):
            problems.append(f"output rows {output[0].shape}: expected {len(rows)} rows, as rows")
    has_bias = parts.head_bias(source) is not None
    if has_bias and (bias is None or bias.shape != (len(rows),)):
        got = None if bias is None else bias.shape
        problems.append(f"bias {got}: expected ({len(rows)},), the source head has a bias")
    elif not has_bias and bias is not None:
        problems.append(f"bias {bias.shape}: expected None, the source head has no bias")
    if problems:
        raise IncompatibleInputsError(
            f"assembly inputs do not fit {type(source).__name__} (hidden size {hidden}): "
            + "; ".join(problems)
        )


def output_matrices(
    source: PreTrainedModel, inputs: Factors, output: Factors | None, untie: bool
) -> Factors | None:
    """The target head's own (rows, primitives), or None for a head tied to the input matrix."""
    name, tied = type(source).__name__, parts.is_tied(source)
    if output is not None and output[0] is None:
        if output[1] is not None:
            raise IncompatibleInputsError("output_primitives given without output_rows")
        output = None
    if tied and not untie:
        if output is not None:
            raise IncompatibleInputsError(
                f"{name} ties its head to the input matrix (one matrix, initialized once): "
                "output_rows need untie=True"
            )
        return None
    if output is None:
        if not tied:
            raise IncompatibleInputsError(
                f"{name} has an untied head, a space of its own: give output_rows, initialized "
                "on the source's output embeddings"
            )
        return inputs  # a tied source untied: the head starts as a copy of the input matrix
    if (inputs[1] is None) != (output[1] is None):
        raise IncompatibleInputsError(
            "output_primitives must be given exactly when primitives are (a factorized model "
            "factorizes both matrices)"
        )
    return output


def assemble(
    source: PreTrainedModel,
    rows: np.ndarray,
    primitives: np.ndarray | None,
    bias: np.ndarray | None,
    output_rows: np.ndarray | None = None,
    output_primitives: np.ndarray | None = None,
    untie: bool = False,
) -> PreTrainedModel:
    """The source decoder under a new vocabulary: its own class when `primitives` is None, else a
    `FactorizedForCausalLM`.

    Args:
        rows: input embeddings (V_t, D) as stored (before Gemma's √hidden scale), or coordinates
            (V_t, D') when primitives (D', D) are given.
        bias: the head's bias (V_t,) when the source head has one, else None.
        output_rows, output_primitives: the untied head's rows (or coordinates and primitives of
            its own); required for an untied source, refused for a tied one unless `untie`.
        untie: give a tied source's target a separate head (`output_rows` default to `rows`).
    """
    parts.check_layout(source)
    inputs = (rows, primitives)
    output = output_matrices(source, inputs, (output_rows, output_primitives), untie)
    check_shapes(source, inputs, bias, output)
    if primitives is None:
        return build.assemble_plain(source, rows, bias, None if output is None else output[0])
    return build.assemble_factorized(source, rows, primitives, bias, output)


def _numpy(tensor: Tensor | None) -> np.ndarray | None:
    return None if tensor is None else tensor.detach().float().cpu().numpy()


class CausalDecoderFamily(SavedModels):
    """Causal LMs. Plain models are their source's own class; factorized ones are
    `FactorizedForCausalLM`, saved with their code so the Auto classes load them anywhere.

    `logits_budget`: bytes of fp32 logits the training loss holds at once (one chunk of
    positions; see `chunked_loss`)."""

    name = "causal_decoder"
    masked = False
    factorized_type, factorized, auto = MODEL_TYPE, FactorizedForCausalLM, AutoModelForCausalLM

    def __init__(self, logits_budget: int = LOGITS_BUDGET):
        self.logits_budget = logits_budget

    def source_embeddings(self, model: PreTrainedModel) -> np.ndarray:
        """The stored input matrix, float32 (V, D) (unscaled: Gemma multiplies by √hidden)."""
        return _numpy(parts.input_rows(model))

    def output_embeddings(self, model: PreTrainedModel) -> np.ndarray | None:
        """The head's own matrix, float32 (V, D); None when tied (one matrix)."""
        return _numpy(parts.output_rows(model))

    def output_bias(self, model: PreTrainedModel) -> np.ndarray | None:
        """The head's per-token bias, float32 (V,); None when it has none."""
        return _numpy(parts.head_bias(model))

    assemble = staticmethod(assemble)  # see `causal.assemble`

    def training_loss(self, model: PreTrainedModel, batch: dict[str, Tensor]) -> LossOutput:
        """Next-token cross-entropy over `input_ids`, `attention_mask` and optional `labels`
        (aligned with the inputs, −100 = not scored; default: every attended token). Per-token
        losses instead of logits (`LossOutput.token_losses`); positions mark predicting ones."""
        out = causal_lm_loss(
            parts.decoder(model),
            parts.logits_fn(model),
            batch["input_ids"],
            batch.get("attention_mask"),
            batch.get("labels"),
            chunk_tokens(model.config.vocab_size, self.logits_budget),
        )
        return LossOutput(out.loss, None, out.targets, out.positions, out.token_losses)

    def encoder(self, model: PreTrainedModel) -> PreTrainedModel:
        """The base decoder (hidden states for evaluation)."""
        return parts.decoder(model)


CAUSAL_DECODER = CausalDecoderFamily()
