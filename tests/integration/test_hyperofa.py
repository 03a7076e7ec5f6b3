import numpy as np
import pytest

from hyperofa import pipeline
from hyperofa.errors import IncompatibleInputsError
from hyperofa.paths import cache_root

from .conftest import compose_run

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("warm_cache")]

TINY_HYPERNET = [
    "initializer=hyperofa",
    "hypernet.model.input_dim=12",
    "hypernet.model.hidden_size=16",
    "hypernet.train.max_epochs=3",
    "hypernet.train.batch_size=32",
    "hypernet.train.split=[0.8,0.1,0.1]",
]


@pytest.mark.parametrize("arch", ["bilstm", "setformer"])
def test_hyperofa_trains_once_and_reports_intrinsic_scores(tmp_path, tiny_overrides, arch):
    overrides = [*tiny_overrides, f"hypernet={arch}", *TINY_HYPERNET, "factorize.dim=8"]
    if arch == "setformer":
        overrides += [
            "hypernet.model.num_heads=2",
            "hypernet.model.ff_dim=16",
            "hypernet.model.num_layers=1",
        ]
    row = pipeline.run(compose_run(overrides, tmp_path / "a"))["rows"][-1]
    assert row["initializer"] == "hyperofa" and row["counts"]["initialized"] > 0
    m = row["metrics"]
    for name in ("hyperofa", "ofa", "random"):
        assert -1 <= m[f"intrinsic_cosine_{name}"] <= 1 and m[f"intrinsic_l1_{name}"] > 0
    # the job's own score, on the same test tokens, is the hypernet's (every one has words)
    assert m["intrinsic_cosine"] == pytest.approx(m["intrinsic_cosine_hyperofa"])
    assert m["intrinsic_coverage"] == 1.0
    assert np.isfinite(m["mlm_loss_heldout"])
    runs = sorted(p for p in (cache_root() / "hypernet").iterdir() if p.is_dir())
    assert len(runs) == 1 and (runs[0] / "result.json").exists()
    assert (runs[0] / "checkpoints" / "best.ckpt").exists() and (runs[0] / "csv").is_dir()
    # another seed for the rest of the run reuses the trained hypernet
    pipeline.run(compose_run([*overrides, "seed=7"], tmp_path / "b"))
    assert sorted(p for p in (cache_root() / "hypernet").iterdir() if p.is_dir()) == runs


def test_word_vector_dim_must_match_the_hypernet_input(tmp_path, tiny_overrides):
    overrides = [*tiny_overrides, *TINY_HYPERNET, "hypernet.model.input_dim=13"]
    with pytest.raises(IncompatibleInputsError, match="13"):
        pipeline.run(compose_run(overrides, tmp_path / "a"))


def test_stacked_hypernet_shares_the_trained_network_and_records_its_share(
    tmp_path, tiny_overrides
):
    """`stacked_hypernet` after `hyperofa`: the same hypernet artifact (trained once), every new
    token initialized, its rows labelled `stacked+hypernet` with the share chosen on text."""
    base = [*tiny_overrides, *TINY_HYPERNET, "factorize.dim=8", "eval.evaluate_source=false"]
    pipeline.run(compose_run([*base, "stages=[match,factorize,copy,initialize]"], tmp_path / "a"))
    ours = [
        *base,
        "initializer=stacked_hypernet",
        "initializer.folds=2",
        "initializer.probe_texts=8",
    ]
    second = pipeline.run(compose_run([*ours, "initializer.fit_tokens=2000"], tmp_path / "b"))
    assert len([p for p in (cache_root() / "hypernet").iterdir() if p.is_dir()]) == 1
    (row,) = second["rows"]
    assert row["initializer"] == "stacked+hypernet" and row["counts"]["random"] == 0
    m = row["metrics"]
    assert m["hypernet_share"] in (0.0, 0.25, 0.5, 0.75, 1.0)
    shares = {t: m[f"calibration_loss_hypernet_{t:g}"] for t in (0.0, 0.25, 0.5, 0.75, 1.0)}
    assert m["hypernet_share"] == min(shares, key=shares.get)
    assert m["calibration_loss"] <= shares[m["hypernet_share"]] and np.isfinite(
        m["mlm_loss_heldout"]
    )
