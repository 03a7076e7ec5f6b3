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
