"""The script prior: scripts of surface forms and group means against a brute-force loop."""

import numpy as np

from hyperofa.init.script_prior import ScriptGroups, ScriptPrior, script_keys, script_of


def test_script_of_the_first_letter_else_the_character_class():
    assert script_of(" haus") == "LATIN"
    assert script_of("ку") == "CYRILLIC"
    assert script_of(" 12ab") == "LATIN"  # the first letter decides
    assert script_of("ᏣᎳᎩ") == "CHEROKEE"
    assert script_of(" 42") == "N" and script_of(",") == "P"
    assert script_of(" ") is None and script_of(None) is None


def test_keys_carry_the_word_position():
    assert script_keys([" haus", "us", None]) == [("LATIN", "1"), ("LATIN", "0"), None]


def test_group_means_equal_a_loop_and_back_off_to_the_script():
    forms = [" haus", "us", " boot", " дом", "ом", " 42", " ", " ᏣᎳᎩ"]
    keys = script_keys(forms)
    rows = np.random.default_rng(0).normal(size=(len(forms), 3)).astype(np.float32)
    visible = np.array([0, 1, 2, 3, 5, 6])  # 4 (Cyrillic continuation) and 7 (Cherokee) hidden
    prior = ScriptPrior(ScriptGroups(keys), visible, rows)
    queries = script_keys([" hausboot", "ts", "ом", " ᏣᏃ", " 7", "  "])
    got, present = prior.rows(queries)
    assert present.tolist() == [True, True, True, False, True, False]
    np.testing.assert_allclose(got[0], rows[[0, 2]].mean(0), rtol=1e-6)  # Latin word starts
    np.testing.assert_allclose(got[1], rows[1], rtol=1e-6)  # Latin continuations
    np.testing.assert_allclose(got[2], rows[3], rtol=1e-6)  # no Cyrillic continuation: any
    np.testing.assert_allclose(got[4], rows[5], rtol=1e-6)
    assert not got[[3, 5]].any()


def test_no_visible_token_gives_no_prior():
    keys = script_keys([" haus"])
    got, present = ScriptPrior(ScriptGroups(keys), np.zeros(0, np.int64), np.ones((1, 2))).rows(
        keys
    )
    assert not present.any() and got.shape == (1, 2)
