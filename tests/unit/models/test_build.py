import re

import numpy as np
import pytest
import torch
from transformers import BertModel

from hyperofa.errors import IncompatibleInputsError
from hyperofa.factorize import factorize
from hyperofa.models import MASKED_ENCODER, FactorizedForMaskedLM, assemble
from hyperofa.models.build import target_bias
from tests.tiny import tiny_bert
from tests.unit.models.common import EXTRA, SOURCES, batch, logits, target_rows


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_source_identical_assembly_reproduces_the_source_logits_exactly(kind):
    src = SOURCES[kind](40)
    E, bias = MASKED_ENCODER.source_embeddings(src), MASKED_ENCODER.output_bias(src)
    model = assemble(src, E, None, bias)
    ids, mask, _ = batch(40)
    assert type(model) is type(src)
    assert torch.equal(logits(model, ids, mask), logits(src, ids, mask))


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_plain_assembly_resizes_the_vocabulary_and_ties_the_decoder(kind):
    src = SOURCES[kind](40)
    rows, _, bias = target_rows(src, None)
    model = assemble(src, rows, None, bias)
    assert model.config.vocab_size == 40 + EXTRA
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight
    np.testing.assert_array_equal(MASKED_ENCODER.source_embeddings(model), rows)
    np.testing.assert_array_equal(MASKED_ENCODER.output_bias(model), bias)
    np.testing.assert_array_equal(model.get_output_embeddings().bias.detach().numpy(), bias)
    assert model.config.hidden_size == src.config.hidden_size
    assert model.config.num_hidden_layers == src.config.num_hidden_layers
    for name, param in src.named_parameters():
        if param.shape[0] != 40:  # everything but the vocabulary comes from the source
            assert torch.equal(model.get_parameter(name), param), name


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_full_rank_factorized_assembly_reproduces_the_source_logits(kind):
    src = SOURCES[kind](40)
    E, bias = MASKED_ENCODER.source_embeddings(src), MASKED_ENCODER.output_bias(src)
    model = assemble(src, *factorize(E, 16), bias)
    ids, mask, _ = batch(40)
    assert isinstance(model, FactorizedForMaskedLM)
    torch.testing.assert_close(logits(model, ids, mask), logits(src, ids, mask))


def test_assembly_leaves_the_global_rng_alone():
    src = tiny_bert(40)
    torch.manual_seed(3)
    assemble(src, *target_rows(src, 4))
    assemble(src, *target_rows(src, None))
    after = torch.rand(3)
    torch.manual_seed(3)
    assert torch.equal(after, torch.rand(3))


@pytest.mark.parametrize(
    ("rows", "primitives", "bias", "named"),
    [
        ((47, 12), None, 47, "rows (47, 12): expected (V, 16)"),
        ((47, 4), (5, 16), 47, "rows (47, 4): expected (V, 5)"),
        ((47, 4), (4, 12), 47, "primitives (4, 12): expected (D', 16)"),
        ((47, 20), (20, 16), 47, "primitives (20, 16): expected (D', 16), 0 < D' ≤ D"),
        ((47, 16), None, 46, "bias (46,): expected (47,)"),
    ],
)
def test_inputs_that_do_not_fit_raise_naming_the_shapes(rows, primitives, bias, named):
    prim = None if primitives is None else np.zeros(primitives, np.float32)
    with pytest.raises(IncompatibleInputsError, match=re.escape(named)):
        assemble(tiny_bert(40), np.zeros(rows, np.float32), prim, np.zeros(bias, np.float32))


def test_a_model_without_a_known_masked_lm_head_is_refused():
    src = tiny_bert(40)
    base = BertModel(src.config)
    with pytest.raises(IncompatibleInputsError, match="BertModel: not a masked LM"):
        assemble(base, np.zeros((40, 16), np.float32), None, np.zeros(40, np.float32))


def test_target_bias_copies_source_bias_for_shared_tokens():
    b = target_bias(np.array([1.0, 2.0, 3.0], np.float32), np.array([2, -1, 0, -1]))
    np.testing.assert_allclose(b, [3.0, 2.0, 1.0, 2.0])
