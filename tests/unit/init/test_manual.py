"""User overrides: named target tokens get named source rows, on their own or over a method."""

import numpy as np
import pytest

from hyperofa.config.initializers import ManualConfig, MeanConfig, OFAConfig
from hyperofa.config.rules import check_tree
from hyperofa.errors import ConfigError, IncompatibleInputsError
from hyperofa.init.base import initialize
from hyperofa.init.manual import ManualInitializer, WithOverrides
from hyperofa.init.provenance import Provenance
from hyperofa.init.registry import build_initializer
from hyperofa.init.statistics import MeanInitializer

from .common import sp_pair, tokenizer_inputs

SOURCE = ["▁house", "▁party", "▁feast", "▁ha"]
NEW = ["▁haus", "▁pāʻina", "▁other"]


def _inputs():
    return tokenizer_inputs(*sp_pair(SOURCE, NEW))


def _ids(tok, *tokens):
    return tok.convert_tokens_to_ids(list(tokens))


def test_manual_sets_the_named_rows_and_leaves_the_rest_random():
    inp = _inputs()
    overrides = {"▁haus": "▁house", "▁pāʻina": ["▁party", "▁feast"]}
    res = initialize(build_initializer(ManualConfig(overrides=overrides)), inp)
    src, tgt = inp.source_tokenizer, inp.target_tokenizer
    haus, paina, other = _ids(tgt, *NEW)
    np.testing.assert_array_equal(res.rows[haus], inp.source_rows[_ids(src, "▁house")[0]])
    feast = inp.source_rows[_ids(src, "▁party", "▁feast")].astype(np.float64).mean(0)
    np.testing.assert_allclose(res.rows[paina], feast, rtol=1e-6)
    assert res.provenance[[haus, paina]].tolist() == [Provenance.INITIALIZED] * 2
    assert res.provenance[other] == Provenance.RANDOM
    assert res.counts()["initialized"] == 2


def test_overrides_go_over_any_method():
    inp = _inputs()
    init = build_initializer(MeanConfig(overrides={"▁haus": "▁ha"}))
    assert isinstance(init, WithOverrides) and init.name == "mean"
    res = initialize(init, inp)
    plain = initialize(MeanInitializer(), inp)
    haus, paina, other = _ids(inp.target_tokenizer, *NEW)
    np.testing.assert_array_equal(
        res.rows[haus], inp.source_rows[_ids(inp.source_tokenizer, "▁ha")[0]]
    )
    np.testing.assert_array_equal(res.rows[[paina, other]], plain.rows[[paina, other]])
    assert res.counts() == plain.counts()  # the override replaces a mean row: still initialized
    assert hasattr(init, "heldout")  # the method's held-out view stays


def test_unknown_tokens_are_named_with_a_hint():
    inp = _inputs()
    with pytest.raises(
        IncompatibleInputsError, match=r"\['haus', 'nope'\].*'haus': did you mean \['▁haus'\]"
    ):
        ManualInitializer({"haus": "▁house", "nope": "▁house"}).covers(inp)
    with pytest.raises(IncompatibleInputsError, match=r"source tokens .*\['▁maison'\]"):
        ManualInitializer({"▁haus": "▁maison"}).covers(inp)


def test_a_copied_target_token_cannot_be_overridden():
    with pytest.raises(IncompatibleInputsError, match=r"\['▁house'\] are shared"):
        ManualInitializer({"▁house": "▁party"}).covers(_inputs())


def test_override_values_are_checked_with_their_key():
    with pytest.raises(ConfigError, match=r"initializer.overrides.▁haus"):
        check_tree(OFAConfig(overrides={"▁haus": []}), "initializer")
    with pytest.raises(ConfigError, match=r"initializer.overrides.▁x"):
        check_tree(ManualConfig(overrides={"▁x": ["▁a", 3]}), "initializer")
    check_tree(ManualConfig(overrides={"▁x": "▁a", "▁y": ["▁a", "▁b"]}), "initializer")
