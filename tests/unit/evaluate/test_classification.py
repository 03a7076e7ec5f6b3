import random

import pytest

from hyperofa.config.evaluate import FineTuneConfig
from hyperofa.config.training import TrainerConfig
from hyperofa.errors import IncompatibleInputsError
from hyperofa.evaluate.classification import encode_texts, zero_shot_classification
from hyperofa.evaluate.datasets import LabelledText
from hyperofa.evaluate.tasks import load_encoder

KEYWORD = {"Faith": "dog", "Sin": "cat", "Grace": "red"}
FILLER = ["the", "a", "big", "fast", "runs", "sees"]


def toy_rows(n: int, seed: int) -> list[LabelledText]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = rng.choice(sorted(KEYWORD))
        words = [rng.choice(FILLER) for _ in range(3)]
        words.insert(rng.randint(0, 3), KEYWORD[label])
        rows.append(LabelledText(str(i), label, " ".join(words)))
    return rows


def test_encode_texts_truncates_and_maps_labels(tokenizer):
    features = encode_texts(
        tokenizer, [LabelledText("1", "Sin", "the big red dog")], {"Faith": 0, "Sin": 1}, 4
    )
    assert features == [{"input_ids": tokenizer("the big")["input_ids"], "labels": 1}]
    with pytest.raises(IncompatibleInputsError, match="Hope"):
        encode_texts(tokenizer, [LabelledText("1", "Hope", "x")], {"Sin": 1}, 8)


def test_tiny_fine_tune_learns_the_keyword_classes(model_dir):
    encoder, tok = load_encoder(model_dir)
    cfg = FineTuneConfig(
        epochs=20,
        lr=3e-3,
        batch_size=8,
        accumulate_grad_batches=1,
        max_length=16,
        dropout=0.0,
    )
    classes = ["Faith", "Sin", "Grace"]
    result = zero_shot_classification(
        encoder,
        tok,
        toy_rows(40, 0),
        toy_rows(12, 1),
        {"aaa": toy_rows(12, 2), "bbb": toy_rows(12, 3)},
        classes,
        cfg,
        seed=0,
        hw=TrainerConfig(progress=False),
    )
    losses = result["fine_tune"]["train_losses"]
    assert losses[-1] < 0.5 * losses[0]
    assert set(result["per_language"]) == {"aaa", "bbb"}
    assert set(result["average"]) == {"macro_f1", "accuracy"}
    assert result["average"]["macro_f1"] > 0.6  # chance is ~0.33
