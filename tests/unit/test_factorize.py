import numpy as np
import pytest

from hyperofa.errors import ConfigError
from hyperofa.factorize import check_dim, factorize, relative_error


def test_reconstruction_error_decreases_with_dim_and_vanishes_at_full_rank():
    rng = np.random.default_rng(0)
    E = (
        rng.normal(size=(300, 12)) @ rng.normal(size=(12, 24)) + 0.1 * rng.normal(size=(300, 24))
    ).astype(np.float32)
    errors = [relative_error(E, *factorize(E, d)) for d in (1, 4, 8, 12, 24)]
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False))
    assert errors[-1] < 1e-5


def test_shapes_and_orthonormal_coordinates():
    E = np.random.default_rng(1).normal(size=(50, 8)).astype(np.float32)
    F, P = factorize(E, 3)
    assert F.shape == (50, 3) and P.shape == (3, 8)
    np.testing.assert_allclose(F.T @ F, np.eye(3), atol=1e-5)


@pytest.mark.parametrize("dim", [0, -3, 9, 2.5, True])
def test_bad_dim_is_a_named_error(dim):
    with pytest.raises(ConfigError, match="factorize.dim"):
        check_dim(dim, 8)


def _svd_reference(E: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The previous implementation, `np.linalg.svd`, with our sign rule applied to it."""
    u, s, vt = np.linalg.svd(E, full_matrices=False)
    v = vt[:dim].T
    flip = np.where(v[np.argmax(np.abs(v), axis=0), np.arange(dim)] < 0, -1.0, 1.0)
    return u[:, :dim] * flip, s[:dim, None] * (v * flip).T


def _embeddings(rows: int, hidden: int, seed: int) -> np.ndarray:
    """Low rank plus noise, with well separated leading singular values (as real embeddings)."""
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(hidden, hidden)) * np.geomspace(3.0, 0.05, hidden)[:, None]
    return (rng.normal(size=(rows, hidden)) @ basis).astype(np.float32)


@pytest.mark.parametrize("dim", [1, 5, 16, 24])
def test_gram_factors_equal_the_svd_up_to_the_documented_signs(dim):
    E = _embeddings(2_000, 24, seed=dim)
    F, P = factorize(E, dim)
    F_ref, P_ref = _svd_reference(E.astype(np.float64), dim)
    assert F.dtype == P.dtype == np.float32
    np.testing.assert_allclose(P, P_ref, rtol=1e-5, atol=1e-5 * np.abs(P_ref).max())
    np.testing.assert_allclose(F, F_ref, atol=1e-5)
    np.testing.assert_allclose(F @ P, F_ref @ P_ref, atol=1e-5 * np.abs(E).max())
    np.testing.assert_allclose(F.T @ F, np.eye(dim), atol=1e-5)
    peaks = P[np.arange(dim), np.argmax(np.abs(P), axis=1)]
    assert np.all(peaks > 0)  # the sign rule: each primitive's largest entry is positive


def test_a_memory_map_is_read_in_blocks_with_the_same_result(tmp_path, monkeypatch):
    import hyperofa.factorize as module

    E = _embeddings(1_000, 16, seed=3)
    np.save(tmp_path / "E.npy", E)
    mapped = np.load(tmp_path / "E.npy", mmap_mode="r")
    monkeypatch.setattr(module, "BLOCK_ROWS", 97)  # blocks that do not divide the rows
    F, P = factorize(mapped, 6)
    F_whole, P_whole = _svd_reference(E.astype(np.float64), 6)
    np.testing.assert_allclose(F, F_whole, atol=1e-5)
    np.testing.assert_allclose(P, P_whole, rtol=1e-5, atol=1e-6)
    assert abs(relative_error(mapped, F, P) - relative_error(E, F, P)) < 1e-9


def test_wide_and_rank_deficient_matrices_take_the_svd_with_the_same_signs():
    rng = np.random.default_rng(4)
    wide = rng.normal(size=(6, 10)).astype(np.float32)
    F, P = factorize(wide, 4)
    F_ref, P_ref = _svd_reference(wide, 4)
    np.testing.assert_allclose(F, F_ref, atol=1e-6)
    np.testing.assert_allclose(P, P_ref, atol=1e-6)
    deficient = (rng.normal(size=(200, 3)) @ rng.normal(size=(3, 8))).astype(np.float32)
    F, P = factorize(deficient, 5)  # singular values 4 and 5 vanish: U there is the SVD's
    np.testing.assert_allclose(F.T @ F, np.eye(5), atol=1e-5)
    assert relative_error(deficient, F, P) < 1e-5
