import re

import numpy as np
import pytest
import torch

from hyperofa.errors import IncompatibleInputsError
from hyperofa.factorize import factorize
from hyperofa.models import CAUSAL_DECODER, MASKED_ENCODER, FactorizedForCausalLM
from tests.tiny import tiny_bert
from tests.tiny_decoder import DECODERS, tiny_gemma3, tiny_llama
from tests.unit.models.causal_common import (
    EXTRA,
    KINDS,
    SOURCE_VOCAB,
    UNTIED,
    assembled,
    batch,
    logits,
    target_inputs,
)


def _source_identical(source):
    return {
        "rows": CAUSAL_DECODER.source_embeddings(source),
        "primitives": None,
        "bias": CAUSAL_DECODER.output_bias(source),
        "output_rows": CAUSAL_DECODER.output_embeddings(source),
    }


@pytest.mark.parametrize("kind", KINDS)
def test_source_identical_assembly_reproduces_the_source_logits_exactly(kind):
    source = DECODERS[kind](SOURCE_VOCAB)
    model = CAUSAL_DECODER.assemble(source, **_source_identical(source))
    ids, mask = batch(SOURCE_VOCAB)
    assert type(model) is type(source)
    assert model.config.tie_word_embeddings == source.config.tie_word_embeddings
    assert torch.equal(logits(model, ids, mask), logits(source, ids, mask))


@pytest.mark.parametrize("kind", KINDS)
def test_plain_assembly_resizes_the_vocabulary_and_keeps_the_head_as_the_source_has_it(kind):
    source = DECODERS[kind](SOURCE_VOCAB)
    inputs = target_inputs(source)
    model = CAUSAL_DECODER.assemble(source, **inputs)
    assert model.config.vocab_size == SOURCE_VOCAB + EXTRA
    np.testing.assert_array_equal(CAUSAL_DECODER.source_embeddings(model), inputs["rows"])
    tied = kind not in UNTIED
    assert (model.lm_head.weight is model.get_input_embeddings().weight) == tied
    if not tied:
        np.testing.assert_array_equal(
            CAUSAL_DECODER.output_embeddings(model), inputs["output_rows"]
        )
    if inputs["bias"] is not None:
        np.testing.assert_array_equal(CAUSAL_DECODER.output_bias(model), inputs["bias"])
    for name, param in source.named_parameters():
        if param.shape[0] != SOURCE_VOCAB:  # everything but the vocabulary comes from the source
            assert torch.equal(model.get_parameter(name), param), name
    assert model.generation_config.to_dict() == source.generation_config.to_dict()


@pytest.mark.parametrize("kind", ["gemma3_tied", "llama_tied", "qwen2_tied"])
def test_untie_gives_a_tied_source_a_head_of_its_own(kind):
    source = DECODERS[kind](SOURCE_VOCAB)
    inputs = target_inputs(source)
    copy_of_rows = CAUSAL_DECODER.assemble(source, **inputs, untie=True)
    assert copy_of_rows.config.tie_word_embeddings is False
    head, emb = copy_of_rows.lm_head.weight, copy_of_rows.get_input_embeddings().weight
    assert head is not emb and torch.equal(head, emb)
    own = inputs["rows"][::-1].copy()
    separate = CAUSAL_DECODER.assemble(source, **{**inputs, "output_rows": own}, untie=True)
    np.testing.assert_array_equal(CAUSAL_DECODER.output_embeddings(separate), own)
    np.testing.assert_array_equal(CAUSAL_DECODER.source_embeddings(separate), inputs["rows"])
    # untied from the source's own matrix, the logits are the source's
    same = CAUSAL_DECODER.assemble(source, **_source_identical(source), untie=True)
    ids, mask = batch(SOURCE_VOCAB)
    assert torch.equal(logits(same, ids, mask), logits(source, ids, mask))


@pytest.mark.parametrize("kind", KINDS)
def test_full_rank_factorized_assembly_reproduces_the_source_logits(kind):
    source = DECODERS[kind](SOURCE_VOCAB)
    inputs = _source_identical(source)
    rows, primitives = factorize(inputs.pop("rows"), 16)
    output = inputs.pop("output_rows")
    out_rows, out_primitives = (None, None) if output is None else factorize(output, 16)
    model = CAUSAL_DECODER.assemble(
        source, rows, primitives, inputs["bias"], out_rows, out_primitives
    )
    ids, mask = batch(SOURCE_VOCAB)
    assert isinstance(model, FactorizedForCausalLM)
    assert model.config.tied == (kind not in UNTIED)
    torch.testing.assert_close(logits(model, ids, mask), logits(source, ids, mask))


def test_factorized_untie_copies_the_input_factors_into_the_head():
    model = assembled("gemma3_tied", dim=4, untie=True)
    emb, head = model.get_input_embeddings(), model.head
    assert model.config.output_num_primitives == 4
    assert torch.equal(head.coordinates.weight, emb.coordinates.weight)
    assert head.coordinates.weight is not emb.coordinates.weight


def test_assembly_leaves_the_global_rng_alone():
    untied, tied = tiny_llama(SOURCE_VOCAB), tiny_gemma3(SOURCE_VOCAB)
    torch.manual_seed(3)
    CAUSAL_DECODER.assemble(untied, **target_inputs(untied))
    CAUSAL_DECODER.assemble(tied, **target_inputs(tied, 4))
    after = torch.rand(3)
    torch.manual_seed(3)
    assert torch.equal(after, torch.rand(3))


def _fails(source, named, **changes):
    inputs = {**target_inputs(source), **changes}
    with pytest.raises(IncompatibleInputsError, match=re.escape(named)):
        CAUSAL_DECODER.assemble(source, **inputs)


def test_a_tied_head_takes_no_output_rows_and_an_untied_one_needs_them():
    tied, untied = tiny_gemma3(SOURCE_VOCAB), tiny_llama(SOURCE_VOCAB)
    rows = target_inputs(tied)["rows"]
    _fails(tied, "output_rows need untie=True", output_rows=rows)
    _fails(untied, "give output_rows", output_rows=None)
    primitives = np.zeros((4, 16), np.float32)
    named = "output_primitives given without output_rows"
    _fails(untied, named, output_rows=None, output_primitives=primitives)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"rows": np.zeros((47, 12), np.float32)}, "rows (47, 12): expected (V, 16)"),
        ({"output_rows": np.zeros((46, 16), np.float32)}, "expected 47 rows, as rows"),
        ({"bias": np.zeros(47, np.float32)}, "bias (47,): expected None, the source head"),
        (
            {"primitives": np.zeros((4, 16), np.float32)},
            "output_primitives must be given exactly when primitives are",
        ),
    ],
)
def test_inputs_that_do_not_fit_an_untied_llama_raise_naming_them(changes, named):
    _fails(tiny_llama(SOURCE_VOCAB), named, **changes)


def test_a_head_with_a_bias_needs_one_of_the_new_vocabulary():
    phi = DECODERS["phi_biased"](SOURCE_VOCAB)
    _fails(phi, "bias None: expected (47,)", bias=None)
    _fails(phi, "bias (40,): expected (47,)", bias=np.zeros(40, np.float32))


def test_a_masked_lm_is_not_a_causal_source_nor_takes_output_rows():
    bert = tiny_bert(SOURCE_VOCAB)
    rows = MASKED_ENCODER.source_embeddings(bert)
    with pytest.raises(IncompatibleInputsError, match="weights outside the base decoder"):
        CAUSAL_DECODER.assemble(bert, rows, None, None)
    bias = MASKED_ENCODER.output_bias(bert)
    with pytest.raises(IncompatibleInputsError, match="do not apply"):
        MASKED_ENCODER.assemble(bert, rows, None, bias, untie=True)
    assert MASKED_ENCODER.output_embeddings(bert) is None
