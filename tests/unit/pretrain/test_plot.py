from pathlib import Path

from hyperofa.pretrain.plot import plot_loss_curves, read_metrics


def _write(path: Path, rows: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("step,train/loss,val/loss\n" + "\n".join(rows) + "\n")
    return path


def test_later_versions_win_where_a_resumed_run_redid_steps(tmp_path):
    _write(tmp_path / "csv" / "version_0" / "metrics.csv", ["0,,5.0", "1,4.0,", "2,3.5,", "3,3.4,"])
    _write(tmp_path / "csv" / "version_1" / "metrics.csv", ["3,3.3,", "4,3.0,", "4,,3.1"])
    metrics = read_metrics(tmp_path / "csv")
    assert metrics["train/loss"] == [(1, 4.0), (2, 3.5), (3, 3.3), (4, 3.0)]
    assert metrics["val/loss"] == [(0, 5.0), (4, 3.1)]
    first = read_metrics(tmp_path / "csv" / "version_0" / "metrics.csv")
    assert first["train/loss"][-1] == (3, 3.4)


def test_plot_writes_a_png_with_one_curve_per_initializer(tmp_path):
    runs = {
        name: _write(tmp_path / name / "metrics.csv", ["0,,6.0", "1,5.5,", "2,5.0,", "2,,5.2"])
        for name in ("random", "ofa")
    }
    out = plot_loss_curves(runs, tmp_path / "plots" / "loss.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
