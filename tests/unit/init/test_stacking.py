"""The stacked regression's closed-form fit against numpy.linalg.lstsq; its coverage patterns."""

import numpy as np
import pytest

from hyperofa.errors import EmptyInputError
from hyperofa.init.stacking import CHUNK, Experts, fit_stack, ridge_map, usable

NAMES = ("a", "b", "c")


def _experts(rng, n: int, k: int, present: np.ndarray | None = None) -> Experts:
    rows = rng.normal(size=(len(NAMES), n, k)).astype(np.float32)
    if present is None:
        present = np.ones((len(NAMES), n), dtype=bool)
    return Experts(NAMES, rows, present)


def _lstsq_ridge(x: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """The ridge solution as plain least squares on [X; √λ I] W = [Y; 0], λ relative to the mean
    diagonal of XᵀX."""
    lam = ridge * np.sum(x * x) / x.shape[1]
    big_x = np.vstack([x, np.sqrt(lam) * np.eye(x.shape[1])])
    big_y = np.vstack([y, np.zeros((x.shape[1], y.shape[1]))])
    return np.linalg.lstsq(big_x, big_y, rcond=None)[0]


@pytest.mark.parametrize("ridge", [1e-9, 0.1, 3.0])
def test_ridge_map_equals_lstsq(ridge):
    rng = np.random.default_rng(0)
    experts = _experts(rng, 50, 4)
    y = rng.normal(size=(50, 4))
    tokens = np.arange(3, 50, 2)
    pattern = 0b101  # experts a and c
    x = np.concatenate([experts.rows[0, tokens], experts.rows[2, tokens]], axis=1)
    got = ridge_map(experts, pattern, tokens, y[tokens], ridge)
    np.testing.assert_allclose(got, _lstsq_ridge(x.astype(np.float64), y[tokens], ridge), 1e-7)


def test_ridge_map_sums_the_gram_over_chunks():
    rng = np.random.default_rng(1)
    n = CHUNK + 37
    experts = _experts(rng, n, 2)
    y = rng.normal(size=(n, 2))
    tokens = np.arange(n)
    x = np.concatenate([experts.rows[j] for j in range(3)], axis=1).astype(np.float64)
    got = ridge_map(experts, 0b111, tokens, y, 0.5)
    np.testing.assert_allclose(got, _lstsq_ridge(x, y, 0.5), 1e-6)


def test_a_pattern_is_fitted_on_every_token_holding_it_and_reads_only_its_experts():
    rng = np.random.default_rng(2)
    present = np.ones((3, 40), dtype=bool)
    present[0, :25] = False  # a: only the last 15 tokens
    fit = _experts(rng, 40, 3, present)
    y = rng.normal(size=(40, 3))
    stack = fit_stack(fit, y, np.array([0b111, 0b110]), ridge=0.1, calibrate=False)
    assert stack.fit_tokens == {0b111: 15, 0b110: 40}
    np.testing.assert_allclose(stack.maps[0b110], ridge_map(fit, 0b110, np.arange(40), y, 0.1))
    new = _experts(rng, 6, 3, np.array([[1, 1, 1, 0, 0, 0], [1] * 6, [1] * 6], dtype=bool))
    moved = Experts(NAMES, new.rows.copy(), new.present)
    moved.rows[0, 3:] += 100.0  # an absent expert's rows are never read
    pred = stack.predict(new)
    np.testing.assert_array_equal(stack.predict(moved)[3:], pred[3:])
    expected = new.features(0b111, np.arange(3)) @ stack.maps[0b111]
    np.testing.assert_allclose(pred[:3], expected, rtol=1e-5)


def test_a_pattern_without_fit_tokens_drops_its_first_experts():
    have = np.array([0b110, 0b100])
    assert usable(0b111, have) == 0b110  # a dropped: b + c fitted
    assert usable(0b101, have) == 0b100  # a dropped, c alone
    assert usable(0b001, have) == 0
    rng = np.random.default_rng(3)
    present = np.ones((3, 10), dtype=bool)
    present[0] = False  # no fit token has expert a
    stack = fit_stack(_experts(rng, 10, 2, present), rng.normal(size=(10, 2)), np.array([7]), 0.1)
    assert stack.routes == {0b111: 0b110}
    with pytest.raises(EmptyInputError, match="no fit token"):
        fit_stack(_experts(rng, 10, 2, present), rng.normal(size=(10, 2)), np.array([1]), 0.1)
    with pytest.raises(EmptyInputError, match="no source token"):
        fit_stack(_experts(rng, 0, 2), np.zeros((0, 2)), np.array([7]), 0.1)


def test_patterns_are_bitmasks_of_the_present_experts():
    present = np.array([[1, 0, 1], [0, 0, 1], [1, 1, 1]], dtype=bool)
    experts = Experts(NAMES, np.zeros((3, 3, 2), np.float32), present)
    assert experts.patterns().tolist() == [0b101, 0b100, 0b111]


def test_calibration_gives_the_fit_predictions_the_spread_of_the_true_rows():
    rng = np.random.default_rng(4)
    fit = _experts(rng, 400, 3)
    fit.rows[2] = 1.0  # a constant expert, as `mean`: the maps' intercept
    # noisy experts: least squares shrinks the predictions toward the mean row
    y = 2.0 + fit.rows[0] + 0.5 * fit.rows[1] + rng.normal(scale=2.0, size=(400, 3))
    plain = fit_stack(fit, y, np.array([0b111]), ridge=0.1, calibrate=False)
    stretched = fit_stack(fit, y, np.array([0b111]), ridge=0.1)
    center = y.mean(axis=0)
    spread_of = lambda rows: np.sum((rows - center) ** 2)  # noqa: E731
    assert spread_of(plain.predict(fit)) < 0.5 * spread_of(y)  # shrunk
    np.testing.assert_allclose(spread_of(stretched.predict(fit)), spread_of(y), rtol=1e-4)
    # a stretch about the mean: the same directions from the mean, the plain map's as it was
    np.testing.assert_allclose(stretched.centers[0b111], center)
    s = stretched.stretch[0b111]
    assert plain.stretch[0b111] == 1.0 and s > 1.4
    expected = center + s * (plain.predict(fit) - center)
    np.testing.assert_allclose(stretched.predict(fit), expected, rtol=1e-4, atol=1e-4)
