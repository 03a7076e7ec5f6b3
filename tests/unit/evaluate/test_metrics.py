import math

import numpy as np
import pytest

from hyperofa.evaluate.metrics import (
    accuracy,
    average_over_languages,
    entity_scores,
    macro_f1,
    pos_scores,
)


def test_entity_f1_on_a_hand_checked_example():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O"]]
    # gold entities PER(0-1) LOC(3) ORG(0); predicted PER(0-1) ORG(3) ORG(0): 2 of 3 right each way
    scores = entity_scores(gold, pred)
    assert scores == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3})


def test_entity_f1_needs_exact_boundaries():
    assert entity_scores([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])["f1"] == 0.0
    assert entity_scores([["O", "O"]], [["O", "O"]])["f1"] == 0.0  # no entities: 0, no warning


def test_pos_scores_report_accuracy_and_the_xtreme_style_f1():
    gold, pred = [["NOUN", "NOUN", "VERB"]], [["NOUN", "VERB", "VERB"]]
    scores = pos_scores(gold, pred)
    assert scores["accuracy"] == pytest.approx(2 / 3)
    # seqeval on raw tags merges runs: gold spans NOUN(0-1) VERB(2), predicted NOUN(0) VERB(1-2)
    assert scores["f1"] == 0.0


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="sentence 0: 2 gold tags, 1 predicted"):
        entity_scores([["O", "O"]], [["O"]])


def test_macro_f1_on_a_hand_checked_example():
    gold, pred = [0, 0, 1, 2], [0, 1, 1, 1]
    # class 0: 2·1/(2+1); class 1: 2·1/(1+3); class 2: 0
    assert macro_f1(gold, pred) == pytest.approx((2 / 3 + 0.5 + 0.0) / 3)
    assert accuracy(gold, pred) == 0.5


def test_macro_f1_matches_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    gold, pred = rng.integers(0, 6, 200), rng.integers(0, 5, 200)
    assert macro_f1(gold, pred) == pytest.approx(metrics.f1_score(gold, pred, average="macro"))


def test_average_skips_nan_and_missing_metrics():
    per = {"a": {"f1": 0.5, "acc": 1.0}, "b": {"f1": 1.0, "acc": math.nan}, "c": {"f1": 0.0}}
    assert average_over_languages(per) == {"acc": 1.0, "f1": 0.5}
