"""FOCUS: sparsemax against a brute-force projection onto the simplex; FOCUS rows against a dense
brute-force computation; fastText static vectors seeded and thresholded."""

import numpy as np
import pytest

from hyperofa.config.initializers import StaticVectorsConfig
from hyperofa.errors import EmptyInputError
from hyperofa.init.base import InitInputs, initialize
from hyperofa.init.focus import FocusInitializer, sparsemax
from hyperofa.init.provenance import Provenance
from hyperofa.init.static_vectors import StaticVectors, fasttext_word, train_static_vectors
from hyperofa.vocab.copy import CopyKind, CopyMap

from .common import empty_map


def projection(z: np.ndarray) -> np.ndarray:
    """argmin_p ||p − z||² over the simplex, by bisection on τ in Σ max(z − τ, 0) = 1."""
    lo, hi = z.max() - 1.0, z.max()
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.maximum(z - mid, 0).sum() > 1 else (lo, mid)
    return np.maximum(z - (lo + hi) / 2, 0)


def dense(cols: np.ndarray, weights: np.ndarray, width: int) -> np.ndarray:
    out = np.zeros((len(cols), width))
    np.put_along_axis(out, cols, weights, axis=1)
    return out


@pytest.mark.parametrize("scale", [0.05, 1.0, 20.0])
@pytest.mark.parametrize("width", [1, 7, 300])
def test_sparsemax_is_the_euclidean_projection_onto_the_simplex(scale, width):
    z = np.random.default_rng(width).normal(size=(40, width)) * scale
    cols, weights = sparsemax(z, top=4)  # a small start: the support often outgrows it
    got = dense(cols, weights, width)
    expected = np.array([projection(row) for row in z])
    np.testing.assert_allclose(got, expected, atol=1e-9)
    np.testing.assert_allclose(got.sum(1), 1.0, atol=1e-12)
    assert np.all(got >= 0)
    if scale == 20.0 and width > 1:
        assert (got > 0).sum(1).max() < width  # sparse: most similarities get weight 0


def test_sparsemax_of_ties_is_uniform_over_them():
    cols, weights = sparsemax(np.full((2, 600), 0.3), top=256)
    np.testing.assert_allclose(dense(cols, weights, 600), 1 / 600)
    cols, weights = sparsemax(np.array([[1.0, 1.0, -5.0]]))
    np.testing.assert_allclose(dense(cols, weights, 3), [[0.5, 0.5, 0.0]])


def _focus_inputs(seed: int = 0) -> InitInputs:
    """60 target tokens: 0-1 special, 2-39 shared (exact / case-insensitive), 40-59 new; about
    one in five without a static vector."""
    rng = np.random.default_rng(seed)
    n_target, n_source = 60, 50
    kind = np.zeros(n_target, dtype=np.int8)
    kind[:2], kind[2:30], kind[30:40] = CopyKind.SPECIAL, CopyKind.EXACT, CopyKind.CASE_INSENSITIVE
    source_id = np.full(n_target, -1)
    source_id[:40] = rng.permutation(n_source)[:40]
    known = rng.random(n_target) > 0.2
    known[:2] = True  # specials with vectors must still not be anchors
    vectors = rng.normal(size=(n_target, 5)).astype(np.float32) * known[:, None]
    return InitInputs(
        source_rows=rng.normal(size=(n_source, 3)).astype(np.float32),
        copy=CopyMap(source_id, kind),
        source_words=empty_map(n_source),
        target_words=empty_map(n_target),
        word_vectors=np.zeros((1, 2), dtype=np.float32),
        static_vectors=StaticVectors(vectors, known),
    )


def _brute_focus(inp: InitInputs, query: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """Dense cosine to every anchor, projection onto the simplex, weighted source rows."""
    vecs = inp.static_vectors.vectors[anchors].astype(np.float64)
    sims = vecs @ query / (np.linalg.norm(vecs, axis=1) * np.linalg.norm(query))
    return projection(sims) @ inp.source_rows[inp.copy.source_id[anchors]].astype(np.float64)


def test_focus_rows_equal_a_dense_brute_force():
    inp = _focus_inputs()
    res = initialize(FocusInitializer(), inp)
    known, static = inp.static_vectors.known, inp.static_vectors.vectors
    anchors = np.flatnonzero(known[:40] & (np.arange(40) >= 2))
    for t in range(40, 60):
        if known[t]:
            expected = _brute_focus(inp, static[t].astype(np.float64), anchors)
            np.testing.assert_allclose(res.rows[t], expected, rtol=1e-5, atol=1e-6)
            assert res.provenance[t] == Provenance.INITIALIZED
        else:
            assert res.provenance[t] == Provenance.RANDOM  # no static vector: random, as deepfocus
    assert res.counts()["initialized"] == int(known[40:].sum())


def test_focus_heldout_queries_the_copying_token_against_the_other_anchors():
    inp = _focus_inputs(1)
    held = inp.copy.source_id[[5, 6, 7]]
    inp.static_vectors.known[[5, 6, 7]] = [True, True, False]  # 7 has no vector: not covered
    inp.static_vectors.vectors[[5, 6]] = np.random.default_rng(2).normal(size=(2, 5))
    rows, covered = FocusInitializer().heldout(inp, held)
    assert covered.tolist() == [True, True, False]
    known = inp.static_vectors.known
    anchors = np.flatnonzero(known[:40] & (np.arange(40) >= 2) & ~np.isin(np.arange(40), [5, 6, 7]))
    for n, t in enumerate([5, 6]):
        query = inp.static_vectors.vectors[t].astype(np.float64)
        np.testing.assert_allclose(rows[n], _brute_focus(inp, query, anchors), rtol=1e-5, atol=1e-6)


def test_static_vectors_are_seeded_and_leave_rare_tokens_out():
    rng = np.random.default_rng(0)
    tokens = [f"▁t{i}" for i in range(30)] + ["x\ny", "▁rare"]
    texts = [rng.integers(0, 31, size=20).tolist() for _ in range(100)] + [[31]]  # ▁rare once
    cfg = StaticVectorsConfig(dim=6, epochs=2, min_count=3, bucket=500)
    a, b = train_static_vectors(texts, tokens, cfg), train_static_vectors(texts, tokens, cfg)
    np.testing.assert_array_equal(a.vectors, b.vectors)
    assert a.known[:31].all() and not a.known[31] and not a.vectors[31].any()
    assert fasttext_word("x\ny") == "x<U+000A>y"
    other = train_static_vectors(texts, tokens, StaticVectorsConfig(**{**vars(cfg), "seed": 1}))
    assert not np.array_equal(a.vectors, other.vectors)
    with pytest.raises(EmptyInputError, match="min_count"):
        train_static_vectors(texts[-1:], tokens, cfg)


def test_focus_text_is_the_pretrain_train_path_when_set(tmp_path):
    from hyperofa.config.schema import LangsetConfig
    from hyperofa.stages.common import Keyed
    from hyperofa.stages.focus import focus_texts

    (tmp_path / "mlt.txt").write_text("Il-bniedem\n\nxi ħaġa\n", encoding="utf-8")
    (tmp_path / "quy.txt").write_text("runa\n", encoding="utf-8")
    texts = focus_texts(str(tmp_path), LangsetConfig(languages=["mlt"]), Keyed(None, "corpus"))
    assert texts.value == ["Il-bniedem", "xi ħaġa", "runa"]  # by language, blank lines dropped
    assert texts.key != "corpus"
