import random

import pytest
import torch

from hyperofa.config.evaluate import FineTuneConfig
from hyperofa.config.training import TrainerConfig
from hyperofa.errors import IncompatibleInputsError
from hyperofa.evaluate.datasets import TaggedSentence
from hyperofa.evaluate.tagging import (
    TokenClassifier,
    encode_tagged,
    first_subtoken_labels,
    pad_batch,
    predict_tags,
    zero_shot_tagging,
)
from hyperofa.evaluate.tasks import load_encoder
from hyperofa.training import IGNORE_INDEX as IGNORE

TAG_OF = {
    "cat": "NOUN",
    "dog": "NOUN",
    "kat": "NOUN",
    "hund": "NOUN",
    "runs": "VERB",
    "sees": "VERB",
    "the": "DET",
    "a": "DET",
    "big": "ADJ",
    "red": "ADJ",
    "fast": "ADJ",
}
LABELS = ["X", "ADJ", "DET", "NOUN", "VERB"]


def toy_sentences(n: int, seed: int) -> list[TaggedSentence]:
    rng = random.Random(seed)
    words = [[rng.choice(sorted(TAG_OF)) for _ in range(rng.randint(2, 6))] for _ in range(n)]
    return [TaggedSentence(tuple(w), tuple(TAG_OF[x] for x in w)) for w in words]


def test_first_subtoken_labels_by_hand():
    word_ids = [None, 0, 0, 1, 2, 2, 2, None]
    assert first_subtoken_labels(word_ids, [5, 6, 7]) == [
        IGNORE,
        5,
        IGNORE,
        6,
        7,
        IGNORE,
        IGNORE,
        IGNORE,
    ]


def test_encode_tagged_labels_the_first_piece_of_each_word(tokenizer):
    sentence = TaggedSentence(("the", "bigcat"), ("DET", "NOUN"))
    enc = encode_tagged(tokenizer, [sentence], {"DET": 0, "NOUN": 1}, max_length=16)
    pieces = tokenizer.convert_ids_to_tokens(enc.features[0]["input_ids"])
    assert pieces == ["<s>", "\u2581the", "\u2581big", "c", "a", "t", "</s>"]
    assert enc.features[0]["labels"] == [IGNORE, 0, 1, IGNORE, IGNORE, IGNORE, IGNORE]
    assert enc.label_words == [[0, 1]] and enc.word_counts == [2]
    with pytest.raises(IncompatibleInputsError, match="PROPN"):
        encode_tagged(tokenizer, [TaggedSentence(("x",), ("PROPN",))], {"DET": 0}, 16)


def test_pad_batch_pads_ids_mask_and_labels():
    batch = pad_batch(
        [{"input_ids": [5, 6, 7], "labels": [IGNORE, 1, 2]}, {"input_ids": [5], "labels": [0]}],
        pad_id=1,
    )
    assert batch["input_ids"].tolist() == [[5, 6, 7], [5, 1, 1]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[IGNORE, 1, 2], [0, IGNORE, IGNORE]]
    assert pad_batch([{"input_ids": [5], "labels": 3}], 1)["labels"].tolist() == [3]


def test_words_cut_off_by_max_length_get_the_fallback_label(tokenizer, model_dir):
    encoder, _ = load_encoder(model_dir)
    model = TokenClassifier(encoder, num_labels=3)
    with torch.no_grad():
        model.classifier.bias.copy_(torch.tensor([0.0, 0.0, 50.0]))  # always predicts label 2
    sentence = TaggedSentence(("the", "cat", "runs", "fast"), ("DET", "NOUN", "VERB", "ADJ"))
    labels = {"DET": 0, "NOUN": 1, "VERB": 2, "ADJ": 2}
    encoded = encode_tagged(tokenizer, [sentence], labels, max_length=4)  # <s> ▁the ▁cat </s>
    assert predict_tags(model, encoded, tokenizer.pad_token_id) == [[2, 2, 0, 0]]


def test_tiny_fine_tune_lowers_the_loss_and_learns_the_tags(tokenizer, model_dir):
    encoder, tok = load_encoder(model_dir)
    cfg = FineTuneConfig(
        epochs=5,
        lr=5e-3,
        batch_size=8,
        accumulate_grad_batches=1,
        max_length=16,
        dropout=0.0,
    )
    result = zero_shot_tagging(
        encoder,
        tok,
        toy_sentences(32, 0),
        toy_sentences(8, 1),
        {"xx": toy_sentences(8, 2)},
        LABELS,
        "pos",
        cfg,
        seed=0,
        hw=TrainerConfig(progress=False),
    )
    losses = result["fine_tune"]["train_losses"]
    assert (
        len(losses) == 5
        and all(a > b for a, b in zip(losses, losses[1:], strict=False))
        and losses[-1] < 0.6 * losses[0]
    )
    assert result["per_language"]["xx"]["accuracy"] > 0.8
    assert result["average"] == result["per_language"]["xx"]
    assert result["fine_tune"]["best_score"] == max(result["fine_tune"]["dev_scores"])
