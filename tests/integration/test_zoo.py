"""Every initializer of the zoo on the tiny real inputs: a whole run each (match → … → step-0
evaluation) with rows set by the method, intrinsic scores, and FOCUS's static vectors computed
once per setting."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from transformers import AutoTokenizer

from hyperofa import pipeline
from hyperofa.artifacts import load_artifact
from hyperofa.errors import IncompatibleInputsError
from hyperofa.init.provenance import Provenance
from hyperofa.paths import cache_root
from hyperofa.stages.common import read_metrics
from hyperofa.stages.initialize import load as load_initialization

from .conftest import compose_run

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("warm_cache")]
# fastText sized for the tiny text (4 languages × 20 articles): rarer tokens would have no vector
TINY_STATIC = [
    "initializer.static.min_count=2",
    "initializer.static.dim=16",
    "initializer.static.bucket=20000",
]
ZOO = {
    "mean": [],
    "normal": [],
    "fvt": [],
    "focus": TINY_STATIC,
    "omp": ["initializer.k=8"],
    "omp_static": ["initializer=omp", "initializer.space=static", "initializer.k=8", *TINY_STATIC],
    # 8 probe texts: each of calibrate=text's 15 candidates is one evaluation of the model
    "stacked": ["initializer.folds=2", "initializer.fit_tokens=2000", "initializer.probe_texts=8"],
}
STEP0 = ("mlm_loss_heldout", "mlm_loss_unseen_languages", "sr_udhr_top10")


def _run(args: list[str], run_dir: Path, **initializer) -> dict:
    """One run of the composed `args`, with `initializer` fields set after composing (Hydra's
    command line takes no `▁` in a dict key)."""
    run = compose_run(args, run_dir)
    for key, value in initializer.items():
        setattr(run.initializer, key, value)
    return pipeline.run(run)


@pytest.mark.parametrize("name", list(ZOO))
def test_each_zoo_initializer_runs_end_to_end(tmp_path, tiny_overrides, name):
    method = name.removesuffix("_static")
    overrides = [*tiny_overrides, f"initializer={method}", "factorize.dim=8", *ZOO[name]]
    result = _run([*overrides, "eval.evaluate_source=false"], tmp_path)
    (row,) = result["rows"]
    assert row["initializer"] == method and row["counts"]["initialized"] > 0
    for key in STEP0:
        assert np.isfinite(row["metrics"][key]), key
    m = row["metrics"]
    assert -1 <= m["intrinsic_cosine"] <= 1 and 0 < m["intrinsic_coverage"] <= 1
    assert m["intrinsic_tokens"] > 0 and m["intrinsic_l1"] > 0


@pytest.mark.parametrize("dim", ["factorize.dim=8", "factorize=none"])
def test_stacked_leaves_no_new_token_random(tmp_path, tiny_overrides, dim):
    """The real XLM-R tokenizer and its extension: every new token initialized, plain and
    factorized; its intrinsic score is on the same held-out tokens as the others'."""
    args = [*tiny_overrides, "initializer=stacked", *ZOO["stacked"], dim, "stages=[initialize]"]
    result = _run(args, tmp_path)
    art = load_artifact("initialize", Path(result["artifacts"]["initialize"]))
    init = load_initialization(art)
    assert art.counts["random"] == 0 and art.counts["initialized"] > 0
    assert not np.any(init.provenance == Provenance.RANDOM)
    metrics = read_metrics(art)
    assert metrics["intrinsic_coverage"] == 1.0 and -1 <= metrics["intrinsic_cosine"] <= 1
    assert init.rows.shape[1] == (8 if dim.endswith("8") else 32)
    assert metrics["calibration_norm"] in (0.25, 0.5, 0.75, 1.0, 1.25)  # chosen on training text


def _new_target_tokens(source_size: int, n: int) -> list[str]:
    """`n` tokens the extended target tokenizer added (the run's one extend_tokenizer entry)."""
    (entry,) = [p for p in (cache_root() / "extend_tokenizer").iterdir() if p.is_dir()]
    target = AutoTokenizer.from_pretrained(entry)
    return target.convert_ids_to_tokens(list(range(source_size, source_size + n)))


def test_manual_overrides_set_the_named_rows(tmp_path, tiny_overrides):
    base = [*tiny_overrides, "factorize.dim=8", "stages=[initialize]"]
    first = _run([*base, "initializer=random"], tmp_path / "random")
    source = load_initialization(
        load_artifact("initialize", Path(first["artifacts"]["initialize"]))
    )
    size = int((source.copied_from >= 0).sum())  # the XLM-R ids come first, all copied
    a, b = _new_target_tokens(size, 2)
    overrides = {a: "▁house", b: ["▁party", "▁dinner"]}
    result = _run([*base, "initializer=manual"], tmp_path / "manual", overrides=overrides)
    init = load_initialization(load_artifact("initialize", Path(result["artifacts"]["initialize"])))
    assert init.provenance[[size, size + 1]].tolist() == [Provenance.INITIALIZED] * 2
    assert int((init.provenance == Provenance.INITIALIZED).sum()) == 2
    ofa = _run([*base, "initializer=ofa"], tmp_path / "ofa", overrides={a: "▁house"})
    ofa_rows = load_initialization(
        load_artifact("initialize", Path(ofa["artifacts"]["initialize"]))
    )
    np.testing.assert_array_equal(ofa_rows.rows[size], init.rows[size])  # the same override row
    with pytest.raises(IncompatibleInputsError, match="not a token"):
        _run([*base, "initializer=ofa"], tmp_path / "bad", overrides={"not a token": "▁house"})


def _built(caplog, stage: str) -> int:
    return sum(r.getMessage().startswith(f"{stage}: built") for r in caplog.records)


def test_a_sweep_computes_the_focus_vectors_once(tmp_path, tiny_overrides, caplog):
    caplog.set_level(logging.INFO, logger="hyperofa")
    jobs = [
        ["initializer=focus", "factorize.dim=8"],
        ["initializer=focus", "factorize.dim=16"],
        ["initializer=omp", "initializer.space=static", "factorize.dim=8"],
    ]
    for n, job in enumerate(jobs):
        overrides = [*tiny_overrides, *job, *TINY_STATIC, "stages=[initialize]"]
        _run(overrides, tmp_path / str(n))
    assert _built(caplog, "focus") == 1  # one target tokenizer, one text, one fastText config
    assert _built(caplog, "initialize") == len(jobs)
    _run([*tiny_overrides, "initializer=focus", "stages=[initialize]"], tmp_path / "other")
    assert _built(caplog, "focus") == 2  # FOCUS's own min_count: another static space
