"""`stacked` on hand-written tokenizers with random word maps: every new token gets a row, each
fit token's experts are computed as if it were new, held-out tokens never reach the fit."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from hyperofa.config.enums import Calibration
from hyperofa.config.hypernet import HypernetModelConfig
from hyperofa.config.initializers import OFAConfig, StackedConfig
from hyperofa.config.rules import check_tree
from hyperofa.errors import ConfigError, IncompatibleInputsError
from hyperofa.hypernet.models import build_hypernet
from hyperofa.hypernet.train import TrainResult, predict
from hyperofa.init import stacked
from hyperofa.init.base import initialize
from hyperofa.init.ofa import OFAInitializer
from hyperofa.init.provenance import Provenance
from hyperofa.init.stacked import SourceTokens, StackedInitializer, cross_fitted, fit_sample

from .common import random_map, sp_pair, tokenizer_inputs

SOURCE = ["▁haus", "▁ha", "us", "boot", "▁boot", "▁", "h", "a", "u", "s", "b", "o", "t", "▁hau"]
SOURCE += ["▁дом", "ом", "д", "о", "м", "▁42", "4", "2"]
# a word start, a continuation, Cyrillic, a script the source lacks (Cherokee), a lone byte
NEW = ["▁hausboot", "sboot", "▁домом", "ᏣᎳᎩ", "<0xE3>"]
CFG = StackedConfig(use_gpu=False, folds=3, ofa_top_k=3, calibrate=Calibration.none)
TEXT = dataclasses.replace(
    CFG, calibrate=Calibration.text, text_norms=[0.5, 1.0, 1.5, 2.0], calibrate_groups=False
)


def _inputs(seed: int = 0):
    inp = tokenizer_inputs(*sp_pair(SOURCE, NEW), seed=seed, k=4)
    rng = np.random.default_rng(5)
    n_s, n_t = len(inp.source_tokenizer), len(inp.target_tokenizer)
    inp.source_words = random_map(rng, n_s, 30, 0.5)
    inp.target_words = random_map(rng, n_t, 30, 0.5)
    inp.word_vectors = rng.normal(size=(30, 6)).astype(np.float32)
    return inp


def _new_ids(inp) -> np.ndarray:
    return np.array(inp.target_tokenizer.convert_tokens_to_ids(NEW))


def test_every_new_token_gets_a_row_none_stays_random():
    inp = _inputs()
    res = initialize(StackedInitializer(CFG), inp)
    assert res.counts()["random"] == 0 and res.counts()["initialized"] == len(NEW)
    new = _new_ids(inp)
    assert np.all(res.provenance[new] == Provenance.INITIALIZED)
    assert np.isfinite(res.rows[new]).all() and np.abs(res.rows[new]).sum(axis=1).min() > 0


def test_fit_tokens_experts_never_read_their_own_rows():
    inp = _inputs()
    source = SourceTokens.of(inp)
    fit_ids = fit_sample(inp, source, np.zeros(0, np.int64), 10_000, seed=0)
    ofa = OFAInitializer(OFAConfig(top_k=3, use_gpu=False))
    experts = cross_fitted(inp, source, fit_ids, np.zeros(0, np.int64), 3, ofa)
    for n in (0, len(fit_ids) // 2, len(fit_ids) - 1):
        moved = dataclasses.replace(inp, source_rows=inp.source_rows.copy())
        moved.source_rows[fit_ids[n]] += 1_000.0
        again = cross_fitted(moved, source, fit_ids, np.zeros(0, np.int64), 3, ofa)
        np.testing.assert_allclose(again.rows[:, n], experts.rows[:, n], rtol=1e-5, atol=1e-5)
        assert not np.allclose(again.rows, experts.rows)  # other folds do read that row


def test_fit_sample_leaves_out_hidden_and_special_tokens_and_balances_words():
    inp = _inputs()
    source = SourceTokens.of(inp)
    hidden = np.array(inp.source_tokenizer.convert_tokens_to_ids(["▁haus", "boot"]))
    ids = fit_sample(inp, source, hidden, 10_000, seed=0)
    assert not set(ids) & set(hidden) and not set(ids) & set(inp.source_tokenizer.all_special_ids)
    small = fit_sample(inp, source, hidden, 20, seed=0)
    assert len(small) == 20 and inp.source_words.covered()[small].sum() == 10
    np.testing.assert_array_equal(small, fit_sample(inp, source, hidden, 20, seed=0))


def test_heldout_tokens_are_never_in_the_fit(monkeypatch):
    seen = []
    monkeypatch.setattr(stacked, "fit_sample", lambda *a: seen.append(fit_sample(*a)) or seen[-1])
    inp = _inputs()
    held = np.array(inp.source_tokenizer.convert_tokens_to_ids(["▁haus", "us", "▁дом"]))
    rows, covered = StackedInitializer(CFG).heldout(inp, held)
    assert covered.all() and rows.shape == (3, 4)
    (fit_ids,) = seen
    assert len(fit_ids) > 0 and not set(fit_ids) & set(held)


def test_deterministic_for_a_seed():
    first = initialize(StackedInitializer(CFG), _inputs(seed=1)).rows
    np.testing.assert_array_equal(initialize(StackedInitializer(CFG), _inputs(seed=1)).rows, first)
    other = initialize(StackedInitializer(CFG), _inputs(seed=2)).rows
    new = _new_ids(_inputs())
    assert not np.allclose(other[new], first[new])  # another seed: other folds


def _norm_probe(inp, best: float, calls: list):
    """A probe whose loss is how far the new rows' mean norm is from `best` × the source's."""
    source = np.linalg.norm(inp.source_rows, axis=1).mean()

    def probe(ids, rows):
        calls.append((ids, rows))
        return abs(np.linalg.norm(rows, axis=1).mean() / source - best)

    return probe


@pytest.mark.parametrize("best", [1.0, 2.0])
def test_text_calibration_keeps_the_norm_with_the_lowest_probe_loss(best, caplog):
    inp, calls = _inputs(), []
    inp.probe = _norm_probe(inp, best, calls)
    method = StackedInitializer(TEXT)
    res = initialize(method, inp)
    new = _new_ids(inp)
    plain = initialize(StackedInitializer(CFG), _inputs()).rows[new]
    source = np.linalg.norm(inp.source_rows, axis=1).mean()
    assert np.linalg.norm(res.rows[new], axis=1).mean() == pytest.approx(best * source, rel=1e-5)
    scale = method.calibration["calibration_scale"]
    np.testing.assert_allclose(res.rows[new], scale * plain, rtol=1e-5)  # about the origin
    assert method.calibration["calibration_norm"] == best and len(calls) == 4
    assert all(np.array_equal(np.sort(ids), np.sort(new)) for ids, _ in calls)
    assert method.calibration["calibration_loss_1"] == pytest.approx(abs(1 - best), abs=1e-5)
    assert ("is an end of initializer.text_norms" in caplog.text) == (best == 2.0)


def test_group_calibration_gives_tokens_with_and_without_words_their_own_norm():
    inp = _inputs()
    new = _new_ids(inp)
    words = inp.target_words.covered()[new]
    assert words.any() and not words.all()
    source = np.linalg.norm(inp.source_rows, axis=1).mean()
    want = {True: 2.0, False: 0.5}  # each group's best norm, in the grid

    def probe(ids, rows):
        norms = np.linalg.norm(rows, axis=1) / source
        mask = inp.target_words.covered()[ids]
        return abs(norms[mask].mean() - want[True]) + abs(norms[~mask].mean() - want[False])

    inp.probe = probe
    method = StackedInitializer(dataclasses.replace(TEXT, calibrate_groups=True))
    rows = initialize(method, inp).rows[new]
    norms = np.linalg.norm(rows, axis=1) / source
    assert norms[words].mean() == pytest.approx(2.0, rel=1e-5)
    assert norms[~words].mean() == pytest.approx(0.5, rel=1e-5)
    record = method.calibration
    assert record["calibration_norm_words"] == pytest.approx(2.0, rel=1e-5)
    assert record["calibration_norm_nowords"] == pytest.approx(0.5, rel=1e-5)
    assert record["calibration_loss"] == pytest.approx(0.0, abs=1e-5)
    assert record["calibration_loss"] <= min(
        record[f"calibration_loss_{r:g}"] for r in TEXT.text_norms
    )


def _hypernet(inp) -> TrainResult:
    torch.manual_seed(0)
    net = build_hypernet(HypernetModelConfig(hidden_size=8), inp.word_vectors, output_dim=4).eval()
    splits = {name: np.zeros(0, np.int64) for name in ("train", "val", "test")}
    return TrainResult(net, splits, {}, Path("."))


def _cosine(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.mark.parametrize("prefers", ["hypernet", "stack"])
def test_hypernet_share_is_chosen_on_the_probe_for_tokens_with_words_only(prefers):
    inp = _inputs()
    new = _new_ids(inp)
    words = inp.target_words.covered()[new]
    trained = _hypernet(inp)
    hyper = predict(trained.model, inp.target_words.indptr, inp.target_words.indices, new[words])
    plain = initialize(StackedInitializer(CFG), _inputs()).rows[new]
    want = hyper if prefers == "hypernet" else plain[words]

    def probe(ids, rows):  # the words rows' direction: 0 when it is `want`'s
        return float(1 - _cosine(rows[inp.target_words.covered()[ids]], want).mean())

    inp.probe = probe
    cfg = dataclasses.replace(TEXT, hypernet=True, hypernet_shares=[0.0, 0.5, 1.0])
    method = StackedInitializer(cfg, trained)
    rows = initialize(method, inp).rows[new]
    assert method.calibration["hypernet_share"] == (1.0 if prefers == "hypernet" else 0.0)
    np.testing.assert_allclose(_cosine(rows[words], want), 1.0, rtol=1e-5)
    np.testing.assert_allclose(_cosine(rows[~words], plain[~words]), 1.0, rtol=1e-5)
    assert method.calibration["calibration_loss"] == pytest.approx(0.0, abs=1e-5)
    held = np.flatnonzero(inp.source_words.covered()[: len(inp.source_rows)])[:3]
    assert method.heldout(inp, held)[0].shape == (3, 4)  # the chosen share, on held-out tokens


def test_hypernet_expert_needs_the_network_and_text_calibration():
    with pytest.raises(IncompatibleInputsError, match="hypernet=true needs the trained"):
        StackedInitializer(dataclasses.replace(CFG, hypernet=True))
    with pytest.raises(ConfigError, match="calibrate"):
        check_tree(dataclasses.replace(CFG, hypernet=True))
    with pytest.raises(IncompatibleInputsError, match="needs `fill` first"):
        method = StackedInitializer(dataclasses.replace(TEXT, hypernet=True), _hypernet(_inputs()))
        method.heldout(_inputs(), np.array([1]))


def test_text_calibration_without_a_probe_is_a_named_error():
    with pytest.raises(IncompatibleInputsError, match="calibrate=text needs InitInputs.probe"):
        StackedInitializer(TEXT).fill(_inputs(), _new_ids(_inputs()))


@pytest.mark.parametrize(
    "field, value",
    [
        ("folds", 1),
        ("ridge", 0.0),
        ("fit_tokens", 0),
        ("ofa_top_k", 0),
        ("text_norms", []),
        ("text_norms", [1.0, 0.0]),
        ("hypernet_shares", []),
        ("hypernet_shares", [0.5, 1.5]),
        ("probe_texts", 0),
    ],
)
def test_config_errors_name_the_key(field, value):
    with pytest.raises(ConfigError, match=f"initializer.{field}"):
        check_tree(dataclasses.replace(StackedConfig(), **{field: value}), "initializer")


def test_without_tokenizers_is_a_named_error():
    inp = dataclasses.replace(_inputs(), source_tokenizer=None)
    with pytest.raises(IncompatibleInputsError, match="source_tokenizer"):
        StackedInitializer(CFG).fill(inp, _new_ids(_inputs()))
