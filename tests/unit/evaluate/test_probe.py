"""The training-text probe equals the loss of the model assembled by hand with the same rows, for
a masked encoder (plain and factorized) and a tied causal decoder."""

import numpy as np
import pytest

from hyperofa.errors import EmptyInputError, IncompatibleInputsError
from hyperofa.evaluate.causal import bits_per_byte
from hyperofa.evaluate.mlm import mlm_loss
from hyperofa.evaluate.probe import TextProbe, sample_texts
from hyperofa.models import CAUSAL_DECODER, MASKED_ENCODER
from hyperofa.models.build import target_bias
from hyperofa.vocab.copy import CopyKind, CopyMap
from tests.tiny import SPECIALS, tiny_xlmr, unigram_tokenizer
from tests.tiny_decoder import tiny_gemma3, tiny_llama

PIECES = [
    "▁the",
    "▁cat",
    "▁dog",
    "▁runs",
    "▁sees",
    "s",
    "e",
    "▁",
    "t",
    "h",
    "c",
    "a",
    "d",
    "o",
    "g",
]
NEW = ["▁cats", "▁dogs", "▁sees▁"]
TEXTS = ["the cats runs", "the dogs sees the cat", "dogs", "the cat sees the dogs."]


def _pair(with_mask: bool):
    source = unigram_tokenizer(PIECES, with_mask)
    target = unigram_tokenizer([*PIECES, *NEW], with_mask)
    return source, target


def _copy_map(source, target) -> CopyMap:
    vocab = source.get_vocab()
    tokens = target.convert_ids_to_tokens(list(range(len(target))))
    ids = np.array([vocab.get(t, -1) for t in tokens], dtype=np.int64)
    kind = np.where(ids >= 0, CopyKind.EXACT, CopyKind.NONE).astype(np.int8)
    kind[[vocab[s] for s in SPECIALS]] = CopyKind.SPECIAL
    return CopyMap(ids, kind)


def _rows(source_rows: np.ndarray, copy: CopyMap, new_rows: np.ndarray) -> np.ndarray:
    full = np.zeros((len(copy.kind), source_rows.shape[1]), dtype=np.float32)
    copied = copy.kind != CopyKind.NONE
    full[copied] = source_rows[copy.source_id[copied]]
    full[~copied] = new_rows
    return full


def _new_rows(n: int, k: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.5, (n, k)).astype(np.float32)


@pytest.mark.parametrize("dim", [None, 6])
def test_masked_probe_equals_the_hand_assembled_models_mlm_loss(dim):
    source_tok, target_tok = _pair(with_mask=True)
    model = tiny_xlmr(len(source_tok))
    copy = _copy_map(source_tok, target_tok)
    embeddings = MASKED_ENCODER.source_embeddings(model)
    primitives = None
    rows = embeddings
    if dim is not None:  # coordinates F and primitives P of a rank-`dim` factorization
        u, s, vt = np.linalg.svd(embeddings, full_matrices=False)
        rows, primitives = (u[:, :dim] * s[:dim]).astype(np.float32), vt[:dim].astype(np.float32)
    probe = TextProbe(MASKED_ENCODER, model, target_tok, TEXTS, seed=3).bind(copy, rows, primitives)
    new = np.flatnonzero(copy.kind == CopyKind.NONE)
    assert len(new) == len(NEW)
    candidate = _new_rows(len(new), rows.shape[1])
    full = _rows(rows, copy, candidate)
    if primitives is not None:
        full = full @ primitives  # the plain model computing the factorized one's function
    bias = target_bias(MASKED_ENCODER.output_bias(model), copy.source_id)
    by_hand = MASKED_ENCODER.assemble(model, full, None, bias)
    expected = mlm_loss(by_hand, target_tok, TEXTS, seed=3)[0]
    assert probe(new, candidate) == pytest.approx(expected, rel=1e-5)
    assert probe(new, 5 * candidate) != pytest.approx(expected, rel=1e-3)  # it reads the rows


def test_causal_probe_equals_the_hand_assembled_models_bits_per_byte():
    source_tok, target_tok = _pair(with_mask=False)
    model = tiny_gemma3(len(source_tok))
    copy = _copy_map(source_tok, target_tok)
    rows = CAUSAL_DECODER.source_embeddings(model)
    probe = TextProbe(CAUSAL_DECODER, model, target_tok, TEXTS, seed=0).bind(copy, rows, None)
    new = np.flatnonzero(copy.kind == CopyKind.NONE)
    candidate = _new_rows(len(new), rows.shape[1], seed=1)
    by_hand = CAUSAL_DECODER.assemble(model, _rows(rows, copy, candidate), None, None)
    assert probe(new, candidate) == pytest.approx(bits_per_byte(by_hand, target_tok, TEXTS)[0])


@pytest.mark.parametrize("family", [MASKED_ENCODER, CAUSAL_DECODER])
def test_a_candidate_is_scored_as_if_no_other_had_been_written_before_it(family):
    """One model serves every candidate: rows a candidate leaves out hold the mean row again."""
    source_tok, target_tok = _pair(with_mask=family.masked)
    model = (tiny_xlmr if family.masked else tiny_gemma3)(len(source_tok))
    copy = _copy_map(source_tok, target_tok)
    rows = family.source_embeddings(model)
    new = np.flatnonzero(copy.kind == CopyKind.NONE)
    fresh = TextProbe(family, model, target_tok, TEXTS, seed=3)
    first = _new_rows(1, rows.shape[1], seed=2)
    expected = fresh.bind(copy, rows, None)(new[:1], first)
    used = fresh.bind(copy, rows, None)
    used(new, _new_rows(len(new), rows.shape[1], seed=4))
    assert used(new[:1], first) == pytest.approx(expected, rel=1e-6)
    assert used.model is used.model  # assembled once


def test_copied_tokens_and_untied_heads_are_named_errors():
    source_tok, target_tok = _pair(with_mask=False)
    copy = _copy_map(source_tok, target_tok)
    tied = tiny_gemma3(len(source_tok))
    rows = CAUSAL_DECODER.source_embeddings(tied)
    probe = TextProbe(CAUSAL_DECODER, tied, target_tok, TEXTS, seed=0).bind(copy, rows, None)
    with pytest.raises(IncompatibleInputsError, match="copied"):
        probe(np.array([5]), rows[:1])
    untied = TextProbe(CAUSAL_DECODER, tiny_llama(len(source_tok)), target_tok, TEXTS, seed=0)
    with pytest.raises(IncompatibleInputsError, match="untied"):
        untied.bind(copy, rows, None)


def test_sample_texts_is_seeded_and_skips_blank_texts():
    batches = [("deu", ["a", " ", "b", "c"]), ("fra", ["", "d", "e"])]
    picked = sample_texts(batches, 3, seed=0)
    assert len(picked) == 3 and set(picked) <= set("abcde")
    assert sample_texts(batches, 3, seed=0) == picked
    assert sorted(sample_texts(batches, 10, seed=0)) == list("abcde")
    with pytest.raises(EmptyInputError, match="no non-blank text"):
        sample_texts([("deu", ["", " "])], 3, seed=0)
