"""Held-out views: every method predicts held-out source tokens without their own rows, and the
intrinsic scores fall back to random rows where a method does not cover a token."""

import dataclasses

import numpy as np
import pytest

from hyperofa.config.enums import AnchorSpace
from hyperofa.config.initializers import OFAConfig, OMPConfig, StackedConfig
from hyperofa.evaluate.intrinsic import (
    HELDOUT_SEED,
    HELDOUT_SPLIT,
    heldout_source_tokens,
    intrinsic_of,
    intrinsic_scores,
)
from hyperofa.hypernet.data import split_tokens
from hyperofa.init.focus import FocusInitializer
from hyperofa.init.fvt import FVTInitializer
from hyperofa.init.manual import ManualInitializer
from hyperofa.init.ofa import OFAInitializer
from hyperofa.init.omp import OMPInitializer
from hyperofa.init.random import RandomInitializer, heldout_random
from hyperofa.init.stacked import StackedInitializer
from hyperofa.init.static_vectors import StaticVectors
from hyperofa.init.statistics import MeanInitializer, NormalInitializer

from .common import random_map, sp_pair, tokenizer_inputs

SOURCE = ["▁haus", "▁ha", "us", "boot", "▁boot", "▁", "h", "a", "u", "s", "b", "o", "t", "▁hau"]
METHODS = {
    "random": RandomInitializer(),
    "mean": MeanInitializer(),
    "normal": NormalInitializer(),
    "ofa": OFAInitializer(OFAConfig(top_k=3, use_gpu=False)),
    "fvt": FVTInitializer(),
    "focus": FocusInitializer(),
    "omp": OMPInitializer(OMPConfig(k=3)),
    "omp_static": OMPInitializer(OMPConfig(k=3, space=AnchorSpace.static)),
    "stacked": StackedInitializer(StackedConfig(ofa_top_k=3, use_gpu=False, folds=2)),
}


def _inputs():
    """Real tokenizers, random word maps and static vectors over them."""
    inp = tokenizer_inputs(*sp_pair(SOURCE, ["▁hausboot"]), k=4)
    rng = np.random.default_rng(3)
    n_s, n_t = len(inp.source_tokenizer), len(inp.target_tokenizer)
    inp.source_words, inp.target_words = (
        random_map(rng, n_s, 30, 0.9),
        random_map(rng, n_t, 30, 0.9),
    )
    inp.word_vectors = rng.normal(size=(30, 6)).astype(np.float32)
    inp.static_vectors = StaticVectors(
        rng.normal(size=(n_t, 5)).astype(np.float32), np.ones(n_t, bool)
    )
    return inp


def _held(inp) -> np.ndarray:
    return np.array(inp.source_tokenizer.convert_tokens_to_ids(["▁haus", "boot", "▁hau", "us"]))


@pytest.mark.parametrize("name", list(METHODS))
def test_heldout_predictions_never_read_the_heldout_rows(name):
    inp, method = _inputs(), METHODS[name]
    held = _held(inp)
    rows, covered = method.heldout(inp, held)
    assert rows.shape == (len(held), 4) and covered.dtype == bool and covered.any()
    moved = dataclasses.replace(inp, source_rows=inp.source_rows.copy())
    moved.source_rows[held] += 1_000.0  # a leak of the held-out rows would move the predictions
    again, _ = method.heldout(moved, held)
    np.testing.assert_allclose(again[covered], rows[covered], rtol=1e-5, atol=1e-5)


def test_intrinsic_scores_uncovered_tokens_with_the_random_rows():
    class HalfOracle:  # knows the true rows of half the tokens, covers only those
        name = "half"

        def heldout(self, inputs, ids):
            covered = np.arange(len(ids)) % 2 == 0
            return inputs.source_rows[ids], covered

    inp = _inputs()
    held = _held(inp)
    got = intrinsic_of(HalfOracle(), inp, held)
    fallback = heldout_random(inp, held)
    pred = np.where((np.arange(4) % 2 == 0)[:, None], inp.source_rows[held], fallback)
    assert got["intrinsic_cosine"] == pytest.approx(
        intrinsic_scores(pred, inp.source_rows[held])["cosine"]
    )
    assert got["intrinsic_coverage"] == 0.5 and got["intrinsic_tokens"] == 4
    assert intrinsic_of(ManualInitializer({}), inp, held) == {}  # no held-out view: no score


def test_the_heldout_tokens_are_the_hypernet_test_split_of_matched_source_tokens():
    inp = _inputs()
    matched = np.flatnonzero(inp.source_words.covered())
    expected = split_tokens(matched, HELDOUT_SPLIT, HELDOUT_SEED)[2]
    np.testing.assert_array_equal(heldout_source_tokens(inp), expected)
