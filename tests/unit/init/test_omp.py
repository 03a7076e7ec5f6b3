"""OMP against scikit-learn's OrthogonalMatchingPursuit on the same dictionary."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import OrthogonalMatchingPursuit

from hyperofa.config.enums import AnchorSpace
from hyperofa.config.initializers import OMPConfig
from hyperofa.init.base import InitInputs, initialize
from hyperofa.init.omp import OMPInitializer, omp
from hyperofa.init.provenance import Provenance
from hyperofa.match import token_vectors
from hyperofa.vocab.copy import CopyKind, CopyMap

from .common import random_map


def sklearn_omp(atoms: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    """Coefficients over all atoms (a,), as scikit-learn fits them (no intercept)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "ended prematurely" where the fit is exact
        est = OrthogonalMatchingPursuit(n_nonzero_coefs=k, fit_intercept=False)
        return est.fit(atoms.T.astype(np.float64), query.astype(np.float64)).coef_


def dense(support: np.ndarray, coef: np.ndarray, width: int) -> np.ndarray:
    out = np.zeros(width)
    np.add.at(out, support[support >= 0], coef[support >= 0])
    return out


@pytest.mark.parametrize("k", [1, 5, 12])
def test_omp_equals_scikit_learn(k):
    rng = np.random.default_rng(k)
    atoms = rng.normal(size=(80, 20)) * rng.uniform(0.2, 3.0, size=(80, 1))  # unequal norms
    queries = rng.normal(size=(9, 20))
    support, coef = omp(queries, atoms, k)
    for q in range(len(queries)):
        expected = sklearn_omp(atoms, queries[q], k)
        assert set(support[q]) == set(np.flatnonzero(expected)), q
        np.testing.assert_allclose(dense(support[q], coef[q], len(atoms)), expected, atol=1e-6)


def test_omp_stops_once_the_fit_is_exact():
    rng = np.random.default_rng(0)
    atoms, query = rng.normal(size=(30, 4)), rng.normal(size=(1, 4))
    support, coef = omp(query, atoms, 10)  # k > dim: 4 atoms already fit exactly
    assert (support[0] >= 0).sum() == 4 and np.all(coef[0][support[0] < 0] == 0)
    np.testing.assert_allclose(coef[0][:4] @ atoms[support[0][:4]], query[0], atol=1e-10)
    # the first 4 choices are scikit-learn's (it then goes on adding dependent atoms)
    assert set(support[0][:4]) == set(np.flatnonzero(sklearn_omp(atoms, query[0], 4)))


def test_omp_of_a_duplicate_atom_stops_at_the_dependence():
    atoms = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    # after atoms 0 and 2 the residual (0, 0, 0.5) is orthogonal to all; the best is the duplicate
    support, coef = omp(np.array([[2.0, 1.0, 0.5]]), atoms, 3)
    assert support[0].tolist() == [0, 2, -1] and np.allclose(coef[0], [2.0, 1.0, 0.0])


def _word_inputs() -> InitInputs:
    rng = np.random.default_rng(5)
    n_source, n_target, n_words = 60, 50, 40
    source_id = np.full(n_target, -1)
    kind = np.zeros(n_target, dtype=np.int8)
    source_id[:30], kind[:30] = rng.permutation(n_source)[:30], CopyKind.EXACT
    return InitInputs(
        source_rows=rng.normal(size=(n_source, 4)).astype(np.float32),
        copy=CopyMap(source_id, kind),
        source_words=random_map(rng, n_source, n_words, 0.8),
        target_words=random_map(rng, n_target, n_words, 0.7),
        word_vectors=rng.normal(size=(n_words, 12)).astype(np.float32),
    )


def test_omp_rows_in_word_space_apply_scikit_learns_coefficients_to_the_anchor_rows():
    inp = _word_inputs()
    res = initialize(OMPInitializer(OMPConfig(k=6)), inp)
    anchors = np.unique(inp.copy.source_id[:30])
    anchors = anchors[inp.source_words.covered()[anchors]]
    atoms = token_vectors(inp.source_words, inp.word_vectors, "multiset", anchors)
    queries = token_vectors(inp.target_words, inp.word_vectors, "multiset")
    new = np.arange(30, 50)
    for t in new[inp.target_words.covered()[new]]:
        expected = sklearn_omp(atoms, queries[t], 6) @ inp.source_rows[anchors]
        np.testing.assert_allclose(res.rows[t], expected, rtol=1e-5, atol=1e-5)
        assert res.provenance[t] == Provenance.INITIALIZED
    uncovered = new[~inp.target_words.covered()[new]]
    assert len(uncovered) and np.all(res.provenance[uncovered] == Provenance.RANDOM)


def test_omp_heldout_leaves_the_heldout_tokens_out_of_the_dictionary():
    inp = _word_inputs()
    held = np.flatnonzero(inp.source_words.covered())[:4]
    rows, covered = OMPInitializer(OMPConfig(k=3)).heldout(inp, held)
    assert covered.all()
    others = np.setdiff1d(np.flatnonzero(inp.source_words.covered()), held)
    atoms = token_vectors(inp.source_words, inp.word_vectors, "multiset", others)
    queries = token_vectors(inp.source_words, inp.word_vectors, "multiset", held)
    for n in range(len(held)):
        expected = sklearn_omp(atoms, queries[n], 3) @ inp.source_rows[others]
        np.testing.assert_allclose(rows[n], expected, rtol=1e-5, atol=1e-5)


def test_omp_in_the_static_space_covers_tokens_with_a_static_vector():
    from .test_focus import _focus_inputs

    inp = _focus_inputs()
    init = OMPInitializer(OMPConfig(k=4, space=AnchorSpace.static))
    res = initialize(init, inp)
    known, vectors = inp.static_vectors.known, inp.static_vectors.vectors
    anchors = np.flatnonzero(known[:40] & (np.arange(40) >= 2))
    rows = inp.source_rows[inp.copy.source_id[anchors]]
    for t in np.flatnonzero(known[40:]) + 40:
        expected = sklearn_omp(vectors[anchors], vectors[t], 4) @ rows
        np.testing.assert_allclose(res.rows[t], expected, rtol=1e-5, atol=1e-5)
    assert res.counts()["initialized"] == int(known[40:].sum())
