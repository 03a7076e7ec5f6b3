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
    family: ModelFamily, init: Artifact, source: Keyed[PreTrainedModel], tokenizer: Keyed
) -> Artifact:
    """The assembled target model (plain or factorized, tied head, new bias)."""

    def build(tmp: Path) -> dict:
        rows = initialize_stage.load(init)
        bias = target_bias(family.output_bias(source.value), rows.copied_from)
        model = family.assemble(source.value, rows.rows, rows.primitives, bias)
        family.save(model, tokenizer.value, tmp)
        dim = None if rows.primitives is None else rows.primitives.shape[0]
        return {"vocab_size": len(rows.rows), "num_primitives": dim}

    inputs = {"initialize": init.key, "model": source.key}
    return cached_stage(cache_root(), "assemble", {"format": FORMAT}, inputs, build)


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
