import numpy as np

from hyperofa.init.base import InitInputs, initialize
from hyperofa.init.provenance import Provenance
from hyperofa.init.statistics import MeanInitializer, NormalInitializer, covariance

from .common import empty_map, plain_copy


def _inputs(rows: np.ndarray, n_target: int, seed: int = 0) -> InitInputs:
    copied = {0: 0, 1: 5}  # two shared tokens, the rest new
    return InitInputs(
        source_rows=rows,
        copy=plain_copy(n_target, copied),
        source_words=empty_map(len(rows)),
        target_words=empty_map(n_target),
        word_vectors=np.zeros((1, 2), dtype=np.float32),
        seed=seed,
    )


def _correlated(n: int, seed: int = 0) -> np.ndarray:
    """Rows with unequal means, scales and correlated dimensions."""
    rng = np.random.default_rng(seed)
    mix = np.array([[2.0, 0, 0, 0], [1.5, 0.5, 0, 0], [0, -1, 3, 0], [0.2, 0, 0, 0.1]])
    return (rng.normal(size=(n, 4)) @ mix.T + [1, -2, 0.5, 3]).astype(np.float32)


def test_mean_gives_every_new_token_exactly_the_source_mean():
    rows = _correlated(500)
    inp = _inputs(rows, 40)
    res = initialize(MeanInitializer(), inp)
    expected = rows.astype(np.float64).sum(0) / len(rows)
    np.testing.assert_array_equal(res.rows[2:], np.tile(expected.astype(np.float32), (38, 1)))
    np.testing.assert_array_equal(res.rows[:2], rows[[0, 5]])  # copies stay copies
    assert res.counts()["initialized"] == 38 and res.counts()["random"] == 0


def test_normal_draws_have_the_source_mean_and_covariance():
    rows, n = _correlated(3_000), 40_000
    drawn = NormalInitializer().fill(_inputs(rows, n), np.arange(n)).astype(np.float64)
    mu = rows.astype(np.float64).mean(0)
    sigma = np.cov(rows.astype(np.float64).T, bias=True)  # population covariance, brute force
    np.testing.assert_allclose(covariance(rows), sigma, rtol=1e-10, atol=1e-12)
    # tolerances from the sample size: 5 standard errors of a mean / of a covariance entry
    np.testing.assert_array_less(np.abs(drawn.mean(0) - mu), 5 * np.sqrt(np.diag(sigma) / n))
    var = np.diag(sigma)
    cov_se = np.sqrt((sigma**2 + np.outer(var, var)) / n)
    np.testing.assert_array_less(np.abs(np.cov(drawn.T, bias=True) - sigma), 5 * cov_se)


def test_normal_is_seeded_and_covers_every_new_token():
    rows = _correlated(200)
    a = initialize(NormalInitializer(), _inputs(rows, 30, seed=3))
    assert np.array_equal(a.rows, initialize(NormalInitializer(), _inputs(rows, 30, seed=3)).rows)
    assert not np.array_equal(a.rows, initialize(NormalInitializer(), _inputs(rows, 30)).rows)
    assert np.all(a.provenance[2:] == Provenance.INITIALIZED)


def test_normal_takes_a_singular_covariance():
    rows = _correlated(300)
    rows[:, 3] = 2 * rows[:, 0]  # rank 3 of 4
    drawn = NormalInitializer().fill(_inputs(rows, 2_000), np.arange(2_000)).astype(np.float64)
    assert np.all(np.isfinite(drawn))
    np.testing.assert_allclose(drawn[:, 3], 2 * drawn[:, 0], atol=1e-4)  # stays in the span


def test_heldout_statistics_leave_the_heldout_rows_out():
    rows = _correlated(100)
    rows[:10] += 1_000  # held-out rows far away: any leak would show
    inp, held = _inputs(rows, 20), np.arange(10)
    mean_rows, covered = MeanInitializer().heldout(inp, held)
    np.testing.assert_allclose(mean_rows[0], rows[10:].astype(np.float64).mean(0), rtol=1e-6)
    assert covered.all() and mean_rows.shape == (10, 4)
    normal_rows, _ = NormalInitializer().heldout(inp, held)
    assert np.abs(normal_rows).max() < 100
