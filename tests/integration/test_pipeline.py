import json
from pathlib import Path

import numpy as np
import pytest

from hyperofa import pipeline
from hyperofa.artifacts import load_artifact
from hyperofa.init.provenance import Provenance
from hyperofa.paths import cache_root
from hyperofa.stages.initialize import load as load_initialization

from .conftest import compose_run

pytestmark = pytest.mark.integration


def _manifests(stage):
    return sorted((cache_root() / stage).glob("*/manifest.json"))


@pytest.mark.parametrize("dim", [None, 8])
def test_random_and_ofa_end_to_end_on_tiny_inputs(tmp_path, tiny_overrides, dim):
    factorize = "factorize=none" if dim is None else f"factorize.dim={dim}"
    results = {}
    for init in ("random", "ofa"):
        run = compose_run([*tiny_overrides, f"initializer={init}", factorize], tmp_path / init)
        results[init] = pipeline.run(run)
        saved = json.loads((tmp_path / init / "result.json").read_text())
        assert saved["rows"] == json.loads(json.dumps(results[init]["rows"]))
    # match ran once per tokenizer and factorize once, although two initializers ran
    assert len(_manifests("match")) == 2 and len(_manifests("copy")) == 1
    assert len(_manifests("factorize")) == (0 if dim is None else 1)
    for init, res in results.items():
        source_row, row = res["rows"]
        assert source_row["initializer"] == "source" and row["initializer"] == init
        counts = row["counts"]
        art = load_artifact("initialize", Path(res["artifacts"]["initialize"]))
        loaded = load_initialization(art)
        rows, primitives, provenance = loaded.rows, loaded.primitives, loaded.provenance
        assert sum(counts.values()) == len(rows) == len(provenance)
        assert rows.shape[1] == (32 if dim is None else dim)
        assert (primitives is None) == (dim is None)
        assert counts["copied_exact"] > 250_000 - 1000  # the XLM-R vocabulary is copied
        if init == "random":
            assert counts["initialized"] == 0
        else:
            assert counts["initialized"] > 0
            assert np.all(
                provenance[provenance == Provenance.INITIALIZED] == Provenance.INITIALIZED
            )
        for key in (
            "mlm_loss_heldout",
            "mlm_loss_unseen_languages",
            "sr_udhr_top1",
            "sr_udhr_top10",
        ):
            assert np.isfinite(row["metrics"][key])


@pytest.mark.usefixtures("warm_cache")
def test_same_seed_same_coordinates_different_seed_different(tmp_path, tiny_overrides):
    def coords(seed, name):
        run = compose_run(
            [*tiny_overrides, "initializer=random", f"seed={seed}", "stages=[initialize]"],
            tmp_path / name,
        )
        res = pipeline.run(run)
        art = load_artifact("initialize", Path(res["artifacts"]["initialize"]))
        return load_initialization(art).rows

    a = coords(1, "a")
    import shutil

    shutil.rmtree(cache_root() / "initialize")
    assert np.array_equal(a, coords(1, "b"))
    assert not np.array_equal(a, coords(2, "c"))
