import numpy as np

from hyperofa.config.initializers import OFAConfig
from hyperofa.init import ofa
from hyperofa.init.base import InitInputs, initialize
from hyperofa.init.ofa import OFAInitializer
from hyperofa.init.provenance import Provenance
from hyperofa.init.random import RandomInitializer
from hyperofa.vocab.copy import CopyKind, CopyMap


def _inputs(seed=0, n_src=40, n_tgt=30, d=6, k=5):
    rng = np.random.default_rng(123)
    src_vec = rng.normal(size=(n_src, d)).astype(np.float32)
    src_has = rng.random(n_src) > 0.2
    tgt_vec = rng.normal(size=(n_tgt, d)).astype(np.float32)
    tgt_has = rng.random(n_tgt) > 0.3
    source_id = np.full(n_tgt, -1)
    kind = np.zeros(n_tgt, dtype=np.int8)
    source_id[:3], kind[:3] = [0, 1, 2], CopyKind.SPECIAL
    source_id[3:10], kind[3:10] = np.arange(10, 17), CopyKind.EXACT
    source_id[10:12], kind[10:12] = [20, 21], CopyKind.CASE_INSENSITIVE
    return InitInputs(
        source_rows=rng.normal(2.0, 3.0, size=(n_src, k)).astype(np.float32),
        copy=CopyMap(source_id, kind),
        source_vectors=src_vec,
        source_has_vector=src_has,
        target_vectors=tgt_vec,
        target_has_vector=tgt_has,
        seed=seed,
    )


def _ofa_brute_force(inp, token_ids, top_k, temperature):
    cand = np.flatnonzero(inp.source_has_vector)
    s = inp.source_vectors[cand] / np.linalg.norm(inp.source_vectors[cand], axis=1, keepdims=True)
    out = []
    for t in token_ids:
        q = inp.target_vectors[t] / np.linalg.norm(inp.target_vectors[t])
        sims = s @ q
        top = np.argsort(-sims)[:top_k]
        w = np.exp(sims[top] / temperature)
        w /= w.sum()
        out.append(w @ inp.source_rows[cand[top]])
    return np.array(out)


def test_ofa_equals_dense_numpy_brute_force():
    inp = _inputs()
    todo = np.flatnonzero(inp.target_has_vector)
    got = OFAInitializer(OFAConfig(top_k=4, temperature=0.1, use_gpu=False)).fill(inp, todo)
    np.testing.assert_allclose(got, _ofa_brute_force(inp, todo, 4, 0.1), rtol=1e-4, atol=1e-5)


def test_ofa_weights_are_convex_and_peaked_at_low_temperature():
    sims = np.array([[0.9, 0.5, 0.1], [0.3, 0.3, 0.3]])
    w = ofa.softmax_weights(sims, 0.1)
    np.testing.assert_allclose(w.sum(1), 1.0)
    assert np.all(w >= 0) and w[0, 0] > 0.98 and np.allclose(w[1], 1 / 3)
    # a convex combination stays inside the hull of its neighbours
    inp = _inputs()
    rows = OFAInitializer(OFAConfig(top_k=3, temperature=1.0, use_gpu=False)).fill(
        inp, np.arange(5)
    )
    assert np.all(rows <= inp.source_rows.max(0) + 1e-5) and np.all(
        rows >= inp.source_rows.min(0) - 1e-5
    )


def test_initialize_copies_then_fills_then_random_and_counts_sum():
    inp = _inputs()
    for init in (RandomInitializer(), OFAInitializer(OFAConfig(use_gpu=False))):
        res = initialize(init, inp)
        assert sum(res.counts().values()) == inp.num_target
        np.testing.assert_array_equal(res.rows[3:10], inp.source_rows[10:17])
        assert np.all(res.provenance[:3] == Provenance.SPECIAL)
        assert np.all(res.provenance[10:12] == Provenance.COPIED_CI)
        rest = np.arange(12, inp.num_target)
        expect = np.where(inp.target_has_vector[rest], Provenance.INITIALIZED, Provenance.RANDOM)
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
