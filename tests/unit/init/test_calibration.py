"""Choices on training text: the common norm, a second prediction's share, each group's norm
(kept only where it lowers the probe's loss)."""

import numpy as np
import pytest

from hyperofa.init.calibration import common_norm, group_norms, mix, mixed_share

NORMS = [0.5, 1.0, 2.0]


def _rows(seed, n=12, k=4):
    return np.random.default_rng(seed).normal(size=(n, k)).astype(np.float32)


def _norm(rows, mask=slice(None)):
    return np.linalg.norm(rows[mask], axis=1).mean()


def test_common_norm_keeps_the_ratio_with_the_lowest_loss_scaling_about_the_origin(caplog):
    rows, ids, calls = _rows(0), np.arange(12), []

    def probe(_, scaled):  # best: the rows' mean norm at 2× the source's 1.5
        calls.append(scaled)
        return abs(_norm(scaled) - 3.0)

    out, record = common_norm(probe, ids, rows, NORMS, 1.5)
    assert record["calibration_norm"] == 2.0 and _norm(out) == pytest.approx(3.0, rel=1e-6)
    np.testing.assert_allclose(out, rows * record["calibration_scale"], rtol=1e-6)
    assert record["calibration_loss"] == pytest.approx(record["calibration_loss_2"])
    assert len(calls) == len(NORMS) and out.dtype == np.float32
    assert "end of initializer.text_norms" in caplog.text  # 2.0 is the grid's end


def test_mixed_share_mixes_the_other_prediction_at_the_rows_norm():
    rows, other, ids = _rows(1), _rows(2)[:5] * 10, np.arange(12)
    mask = np.arange(12) < 5
    target = mix(rows[mask], other, 0.5)
    np.testing.assert_allclose(
        target, 0.5 * rows[mask] + 0.5 * other * (_norm(rows, mask) / _norm(other)), rtol=1e-5
    )
    probe = lambda _, r: float(np.abs(r[:5] - target).sum())  # noqa: E731
    out, record = mixed_share(probe, ids, rows, mask, other, [0.0, 0.5, 1.0], "net")
    assert record["net_share"] == 0.5 and record["calibration_loss"] == pytest.approx(0.0, abs=1e-5)
    np.testing.assert_allclose(out[mask], target, rtol=1e-6)
    np.testing.assert_array_equal(out[~mask], rows[~mask])  # the other rows are untouched
    assert set(record) >= {"calibration_loss_net_0", "calibration_loss_net_1"}


def test_each_group_gets_its_own_ratio_where_it_helps_and_odd_groups_are_skipped():
    rows, ids = _rows(3), np.arange(12)
    group = np.arange(12) % 3 == 0
    want = (0.5 * 1.5, 2.0 * 1.5)

    def probe(_, scaled):
        return abs(_norm(scaled, group) - want[0]) + abs(_norm(scaled, ~group) - want[1])

    groups = {"a": group, "b": ~group, "none": np.zeros(12, bool), "all": np.ones(12, bool)}
    out, record = group_norms(probe, ids, rows, groups, NORMS, 1.5, probe(ids, rows))
    assert _norm(out, group) == pytest.approx(want[0], rel=1e-5)
    assert _norm(out, ~group) == pytest.approx(want[1], rel=1e-5)
    assert record["calibration_norm_a"] == pytest.approx(0.5, rel=1e-5)
    assert "calibration_norm_none" not in record and "calibration_norm_all" not in record
    assert record["calibration_loss"] == pytest.approx(0.0, abs=1e-5)


def test_a_group_that_does_not_lower_the_loss_keeps_its_rows():
    rows, ids = _rows(4), np.arange(12)
    group = np.arange(12) < 6
    probe = lambda _, scaled: abs(_norm(scaled) - _norm(rows))  # noqa: E731  # rows are best
    out, record = group_norms(probe, ids, rows, {"a": group}, NORMS, 1.5, probe(ids, rows))
    np.testing.assert_array_equal(out, rows)
    assert record["calibration_norm_a"] == pytest.approx(_norm(rows, group) / 1.5)
    assert record["calibration_loss"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("shares, warns", [([0.0, 0.5, 1.0], False), ([0.0, 0.25, 0.5], True)])
def test_a_share_warns_at_its_grid_end_only_below_one(shares, warns, caplog):
    rows, other, ids = _rows(5), _rows(6)[:5], np.arange(12)
    mask = np.arange(12) < 5
    probe = lambda _, r: float(np.abs(r[:5] - mix(rows[mask], other, 1.0)).sum())  # noqa: E731
    _, record = mixed_share(probe, ids, rows, mask, other, shares, "net")
    assert record["net_share"] == max(shares)
    assert ("end of initializer.hypernet_shares" in caplog.text) == warns
