"""Stage `assemble`: the source model under the initialized target rows, saved as a model dir with
its tokenizer; and the unextended source model in the same form (the reference row)."""

from __future__ import annotations

from pathlib import Path

from transformers import PreTrainedModel

from hyperofa.artifacts import Artifact, cached_stage
from hyperofa.assemble.build import assemble as build_model
from hyperofa.assemble.build import source_embeddings, source_head, target_bias
from hyperofa.paths import cache_root
from hyperofa.stages import initialize as initialize_stage
from hyperofa.stages.common import Keyed


def assemble(init: Artifact, source: Keyed[PreTrainedModel], tokenizer: Keyed) -> Artifact:
    """The assembled target model (plain or factorized, tied head, new bias)."""

    def build(tmp: Path) -> dict:
        rows = initialize_stage.load(init)
        bias = target_bias(source_head(source.value).bias.detach().numpy(), rows.copied_from)
        model = build_model(source.value, rows.rows, rows.primitives, bias)
        model.save_pretrained(tmp)
        tokenizer.value.save_pretrained(tmp)
        return {"vocab_size": len(rows.rows), "num_primitives": model.num_primitives}

    inputs = {"initialize": init.key, "model": source.key}
    return cached_stage(cache_root(), "assemble", {}, inputs, build)


def source_reference(source: Keyed[PreTrainedModel], tokenizer: Keyed) -> Artifact:
    """The unextended source model in assembled form (identical logits), for a reference row."""

    def build(tmp: Path) -> dict:
        E = source_embeddings(source.value)
        bias = source_head(source.value).bias.detach().numpy()
        build_model(source.value, E, None, bias).save_pretrained(tmp)
        tokenizer.value.save_pretrained(tmp)
        return {"vocab_size": len(E)}

    inputs = {"model": source.key, "tokenizer": tokenizer.key}
    return cached_stage(cache_root(), "assemble", {"source": True}, inputs, build)
