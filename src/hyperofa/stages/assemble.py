"""Stage `assemble`: the source model under the initialized target rows, saved in a form the
transformers Auto classes load (the source's own class when plain, `FactorizedForMaskedLM` with
its code when factorized), with its tokenizer; and the unextended source model (the reference
row)."""

from __future__ import annotations

from pathlib import Path

from transformers import PreTrainedModel

from hyperofa.artifacts import Artifact, cached_stage
from hyperofa.models import ModelFamily
from hyperofa.models.build import target_bias
from hyperofa.paths import cache_root
from hyperofa.stages import initialize as initialize_stage
from hyperofa.stages.common import Keyed

FORMAT = 2  # saved through the model family (1: the retired AssembledForMaskedLM)


def assemble(
    family: ModelFamily,
    init: Artifact,
    source: Keyed[PreTrainedModel],
    tokenizer: Keyed,
    output: Artifact | None = None,
    untie: bool = False,
) -> Artifact:
    """The assembled target model (plain or factorized, new bias when the source head has one);
    `output`: the untied head's own initialization; `untie`: a tied source's target gets a head
    of its own, starting as a copy of the input rows."""

    def build(tmp: Path) -> dict:
        rows = initialize_stage.load(init)
        head = initialize_stage.load(output) if output is not None else None
        source_bias = family.output_bias(source.value)
        bias = None if source_bias is None else target_bias(source_bias, rows.copied_from)
        model = family.assemble(
            source.value, rows.rows, rows.primitives, bias,
            output_rows=None if head is None else head.rows,
            output_primitives=None if head is None else head.primitives,
            untie=untie,
        )  # fmt: skip
        family.save(model, tokenizer.value, tmp)
        dim = None if rows.primitives is None else rows.primitives.shape[0]
        return {
            "vocab_size": len(rows.rows),
            "num_primitives": dim,
            "tied": head is None and not untie,
        }

    config = {"format": FORMAT, "untie": untie} if untie else {"format": FORMAT}
    inputs = {"initialize": init.key, "model": source.key}
    if output is not None:
        inputs["initialize_output"] = output.key
    return cached_stage(cache_root(), "assemble", config, inputs, build)


def source_reference(
    family: ModelFamily, source: Keyed[PreTrainedModel], tokenizer: Keyed
) -> Artifact:
    """The unextended source model with its own tokenizer, for a reference row."""

    def build(tmp: Path) -> dict:
        family.save(source.value, tokenizer.value, tmp)
        return {"vocab_size": len(family.source_embeddings(source.value))}

    config = {"source": True, "format": FORMAT}
    inputs = {"model": source.key, "tokenizer": tokenizer.key}
    return cached_stage(cache_root(), "assemble", config, inputs, build)
