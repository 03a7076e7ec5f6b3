import numpy as np
import pytest

from hyperofa.config.initializers import OFAConfig
from hyperofa.config.rules import check_tree
from hyperofa.errors import ConfigError, EmptyInputError
from hyperofa.init import ofa
from hyperofa.init.base import InitInputs, initialize, random_rows
from hyperofa.init.provenance import Provenance
from hyperofa.init.random import RandomInitializer
from hyperofa.match import TokenWordMap
from hyperofa.vocab.copy import CopyKind, CopyMap

from .common import random_map


def _inputs(seed=0, n_src=40, n_tgt=30, d=6, k=5, n_words=60):
    rng = np.random.default_rng(123)
    source_id = np.full(n_tgt, -1)
    kind = np.zeros(n_tgt, dtype=np.int8)
    source_id[:3], kind[:3] = [0, 1, 2], CopyKind.SPECIAL
    source_id[3:10], kind[3:10] = np.arange(10, 17), CopyKind.EXACT
    source_id[10:12], kind[10:12] = [20, 21], CopyKind.CASE_INSENSITIVE
    return InitInputs(
        source_rows=rng.normal(2.0, 3.0, size=(n_src, k)).astype(np.float32),
        copy=CopyMap(source_id, kind),
        source_words=random_map(rng, n_src, n_words, 0.8),
        target_words=random_map(rng, n_tgt, n_words, 0.7),
        word_vectors=rng.normal(size=(n_words, d)).astype(np.float32),
        seed=seed,
    )


def _vectors(words: TokenWordMap, word_vectors: np.ndarray, weighting: str) -> np.ndarray:
    out = np.zeros((words.num_tokens, word_vectors.shape[1]))
    for t in range(words.num_tokens):
        pairs = slice(words.indptr[t], words.indptr[t + 1])
        times = words.multiplicity[pairs] if weighting == "multiset" else 1
        rows = np.repeat(words.indices[pairs], times)
        if len(rows):
            out[t] = word_vectors[rows].astype(np.float64).mean(0)
    return out


def _public_top_k(source: np.ndarray, query: np.ndarray, top_k: int) -> tuple:
    """The public code's pick: float64 cosine to every source token (no words: 0) in id order,
    `np.argpartition` (einsum, so equal vectors give equal similarities)."""
    norm = np.linalg.norm(source, axis=1, keepdims=True)
    sims = np.einsum(
        "nd,d->n", source / np.where(norm == 0, 1, norm), query / np.linalg.norm(query)
    )
    top = np.argpartition(sims, -top_k)[-top_k:]
    return sims[top], top


def _ofa_brute_force(inp, token_ids, top_k, temperature, weighting="multiset"):
    """Dense float64 cosine against every source token, top k, softmax(sim / T)."""
    src = _vectors(inp.source_words, inp.word_vectors, weighting)
    tgt = _vectors(inp.target_words, inp.word_vectors, weighting)
    out = []
    for t in token_ids:
        sims, top = _public_top_k(src, tgt[t], top_k)
        w = np.exp(sims / temperature)
        out.append((w / w.sum()) @ inp.source_rows[top])
    return np.array(out)


@pytest.mark.parametrize("weighting", ["multiset", "set"])
def test_ofa_equals_dense_numpy_brute_force(weighting):
    inp = _inputs()
    todo = np.flatnonzero(inp.target_words.covered())
    init = ofa.OFAInitializer(
        OFAConfig(top_k=4, temperature=0.1, word_weighting=weighting, use_gpu=False)
    )
    got = init.fill(inp, todo)
    expected = _ofa_brute_force(inp, todo, 4, 0.1, weighting)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    other = "set" if weighting == "multiset" else "multiset"
    assert not np.allclose(expected, _ofa_brute_force(inp, todo, 4, 0.1, other))


def _two_dim_inputs(source: list[list[int]], target: list[list[int]], vectors) -> InitInputs:
    def as_map(rows: list[list[int]]) -> TokenWordMap:
        indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
        indices = np.array([w for r in rows for w in r], dtype=np.int64)
        return TokenWordMap(indptr, indices, np.ones(len(indices), np.int8))

    n_src = len(source)
    return InitInputs(
        source_rows=np.arange(n_src * 2, dtype=np.float32).reshape(n_src, 2),
        copy=CopyMap(np.full(len(target), -1), np.zeros(len(target), np.int8)),
        source_words=as_map(source),
        target_words=as_map(target),
        word_vectors=np.asarray(vectors, dtype=np.float32),
    )


def test_ofa_source_tokens_without_words_are_candidates_of_similarity_zero():
    # source 0, 1 have no words; 2, 3 point away from the query: the public code's zero rows win
    inp = _two_dim_inputs([[], [], [0], [0]], [[1]], [[1.0, 0.0], [-1.0, 0.1]])
    rows = ofa.OFAInitializer(OFAConfig(top_k=2, use_gpu=False)).fill(inp, np.array([0]))
    np.testing.assert_allclose(rows[0], inp.source_rows[[0, 1]].mean(0))


def test_ofa_ties_at_the_kth_neighbour_are_argpartitions_pick():
    # sources 1, 3, 4 hold the same word, so the same similarity 0.6; k = 2 keeps 0 (sim 1) and
    # whichever of them np.argpartition leaves in the top, as the public code does
    inp = _two_dim_inputs([[0], [1], [2], [1], [1]], [[0]], [[1, 0], [0.6, 0.8], [-1, 0]])
    rows = ofa.OFAInitializer(OFAConfig(top_k=2, temperature=0.1, use_gpu=False)).fill(
        inp, np.array([0])
    )
    picked = np.argpartition(np.array([1.0, 0.6, -1.0, 0.6, 0.6]), -2)[-2:]
    (tied,) = set(picked.tolist()) - {0}
    w = ofa.softmax_weights(np.array([[1.0, 0.6]]), 0.1)[0]
    np.testing.assert_allclose(rows[0], w @ inp.source_rows[[0, tied]], rtol=1e-6)


def test_ofa_predict_leaves_excluded_source_tokens_out():
    inp = _inputs()
    ids = np.flatnonzero(inp.source_words.covered())[:6]
    got = ofa.OFAInitializer(OFAConfig(top_k=3, use_gpu=False)).predict(
        inp, inp.source_words, ids, excluded=ids
    )
    rest = np.setdiff1d(np.arange(len(inp.source_rows)), ids)
    kept = InitInputs(
        inp.source_rows[rest],
        inp.copy,
        _submap(inp.source_words, rest),
        inp.target_words,
        inp.word_vectors,
    )
    queries = _vectors(inp.source_words, inp.word_vectors, "multiset")
    expected = []
    for t in ids:  # brute force over the kept candidates
        expected.append(_ofa_brute_force_vector(kept, queries[t], 3, 0.1))
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-5, atol=1e-5)


def _submap(words: TokenWordMap, ids: np.ndarray) -> TokenWordMap:
    slices = [slice(words.indptr[t], words.indptr[t + 1]) for t in ids]
    indptr = np.concatenate([[0], np.cumsum([s.stop - s.start for s in slices])])
    indices = np.concatenate([words.indices[s] for s in slices])
    return TokenWordMap(indptr, indices, np.concatenate([words.multiplicity[s] for s in slices]))


def _ofa_brute_force_vector(inp, query, top_k, temperature):
    sims, top = _public_top_k(
        _vectors(inp.source_words, inp.word_vectors, "multiset"), query, top_k
    )
    w = np.exp(sims / temperature)
    return (w / w.sum()) @ inp.source_rows[top]


def test_ofa_weights_are_convex_and_peaked_at_low_temperature():
    sims = np.array([[0.9, 0.5, 0.1], [0.3, 0.3, 0.3]])
    w = ofa.softmax_weights(sims, 0.1)
    np.testing.assert_allclose(w.sum(1), 1.0)
    assert np.all(w >= 0) and w[0, 0] > 0.98 and np.allclose(w[1], 1 / 3)
    # a convex combination stays inside the hull of its neighbours
    inp = _inputs()
    todo = np.flatnonzero(inp.target_words.covered())[:5]
    rows = ofa.OFAInitializer(OFAConfig(top_k=3, temperature=1.0, use_gpu=False)).fill(inp, todo)
    assert np.all(rows <= inp.source_rows.max(0) + 1e-5) and np.all(
        rows >= inp.source_rows.min(0) - 1e-5
    )


def test_ofa_config_errors_name_the_key():
    with pytest.raises(ConfigError, match="initializer.top_k"):
        check_tree(OFAConfig(top_k=0), "initializer")
    with pytest.raises(ConfigError, match="initializer.temperature"):
        check_tree(OFAConfig(temperature=float("nan")), "initializer")


def test_ofa_without_a_candidate_source_token_is_a_named_error():
    inp = _inputs()
    empty = np.zeros(inp.source_words.num_tokens + 1, dtype=np.int64)
    inp.source_words = TokenWordMap(empty, empty[:0], empty[:0].astype(np.int8))
    with pytest.raises(EmptyInputError, match="no candidate"):
        ofa.OFAInitializer(OFAConfig(use_gpu=False)).fill(inp, np.array([12]))


def test_initialize_copies_then_fills_then_random_and_counts_sum():
    inp = _inputs()
    for init in (RandomInitializer(), ofa.OFAInitializer(OFAConfig(use_gpu=False))):
        res = initialize(init, inp)
        assert sum(res.counts().values()) == inp.num_target
        np.testing.assert_array_equal(res.rows[3:10], inp.source_rows[10:17])
        assert np.all(res.provenance[:3] == Provenance.SPECIAL)
        assert np.all(res.provenance[10:12] == Provenance.COPIED_CI)
        rest = np.arange(12, inp.num_target)
        covered = inp.target_words.covered()[rest]
        expect = np.where(covered, Provenance.INITIALIZED, Provenance.RANDOM)
        if init.name == "random":
            expect[:] = Provenance.RANDOM
        np.testing.assert_array_equal(res.provenance[rest], expect)


def test_random_rows_follow_source_statistics_and_seed():
    inp = _inputs(n_src=4000, n_tgt=5000)
    inp.copy = CopyMap(np.full(5000, -1), np.zeros(5000, dtype=np.int8))
    a = initialize(RandomInitializer(), inp).rows
    np.testing.assert_allclose(a.mean(0), inp.source_rows.mean(0), atol=0.15)
    np.testing.assert_allclose(a.std(0), inp.source_rows.std(0), rtol=0.05)
    assert np.array_equal(a, initialize(RandomInitializer(), inp).rows)  # same seed, same rows
    inp.seed = 1
    assert not np.array_equal(a, initialize(RandomInitializer(), inp).rows)


@pytest.mark.parametrize("chunk", [1, 3, 1 << 14])
def test_random_rows_are_numpys_normal_draw_whatever_the_chunk(chunk):
    source = np.random.default_rng(5).normal(0.3, 2.0, size=(50, 7)).astype(np.float32)
    mean, std = source.mean(0, dtype=np.float64), source.std(0, dtype=np.float64)
    expected = np.random.default_rng(9).normal(mean, std, size=(10, 7)).astype(np.float32)
    ours = random_rows(source, 10, np.random.default_rng(9), chunk=chunk)
    np.testing.assert_array_equal(ours, expected)  # the same values, bit for bit
