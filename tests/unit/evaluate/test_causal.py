import math
import string

import pytest
import torch

from hyperofa.errors import EmptyInputError, IncompatibleInputsError
from hyperofa.evaluate.causal import (
    bits_per_byte,
    encode_for_scoring,
    fertility,
    greedy_continuations,
    heldout_bpb,
)
from tests.tiny import unigram_tokenizer
from tests.tiny_decoder import tiny_gemma3, tiny_llama

WORDS = ["cat", "dog", "runs", "sees", "the", "big", "é"]
CHARS = ["\u2581", *string.ascii_lowercase, "é", "."]
TEXTS = ["the cat runs.", "a big dog sees the cat", "é", "dog", "the big red cat sees a dog."]


@pytest.fixture(scope="module")
def chars():
    return unigram_tokenizer(CHARS, with_mask=False)


@pytest.fixture(scope="module")
def words():
    return unigram_tokenizer([*CHARS, *[f"\u2581{w}" for w in WORDS]], with_mask=False)


def _brute_force_bits(model, tokenizer, text: str) -> float:
    """−log2 p of every token of the text after BOS, one text at a time, from full logits."""
    ids = torch.tensor(
        [[tokenizer.bos_token_id, *tokenizer(text, add_special_tokens=False)["input_ids"]]]
    )
    with torch.no_grad():
        log_probs = model(input_ids=ids).logits[0, :-1].double().log_softmax(-1)
    return float(-log_probs.gather(1, ids[0, 1:, None]).sum()) / math.log(2)


@pytest.mark.parametrize("make", [tiny_gemma3, tiny_llama])
def test_bits_per_byte_equal_a_per_text_brute_force(words, make):
    model = make(len(words))
    bpb, counts = bits_per_byte(model, words, TEXTS, batch_size=2, max_length=64)
    n_bytes = sum(len(t.encode()) for t in TEXTS)
    expected = sum(_brute_force_bits(model, words, t) for t in TEXTS) / n_bytes
    assert bpb == pytest.approx(expected, rel=1e-6)
    tokens = sum(len(words(t, add_special_tokens=False)["input_ids"]) for t in TEXTS)
    assert counts == {"texts": 5, "tokens": tokens, "bytes": n_bytes, "truncated": 0}


def test_chunked_evaluation_equals_unchunked(chars):
    model = tiny_gemma3(len(chars), softcap=2.0)
    one_position = bits_per_byte(model, chars, TEXTS, batch_size=3, logits_budget=1)
    all_at_once = bits_per_byte(model, chars, TEXTS, batch_size=3, logits_budget=2**40)
    assert one_position[0] == pytest.approx(all_at_once[0], rel=1e-6)
    assert one_position[1] == all_at_once[1]


def test_a_cut_text_counts_the_bytes_its_kept_tokens_cover(words):
    [(ids, n_bytes, cut)] = encode_for_scoring(words, ["the big dog"], max_length=3)
    assert cut and len(ids) == 3 and ids[0] == words.bos_token_id
    assert n_bytes == len("the big")  # ASCII: one byte a character
    model = tiny_llama(len(words))
    bpb, counts = bits_per_byte(model, words, ["the big dog"], max_length=3)
    assert counts["truncated"] == 1 and counts["bytes"] == 7
    assert bpb == pytest.approx(_brute_force_bits(model, words, "the big") / 7, rel=1e-6)


def test_the_start_token_is_bos_else_eos_else_an_error(words):
    no_bos = unigram_tokenizer(CHARS, with_mask=False)
    no_bos.bos_token = None
    [(ids, _, _)] = encode_for_scoring(no_bos, ["cat"], 8)
    assert ids[0] == no_bos.eos_token_id
    no_bos.eos_token = None
    with pytest.raises(IncompatibleInputsError, match="no BOS or EOS"):
        encode_for_scoring(no_bos, ["cat"], 8)


def test_a_tokenizer_larger_than_the_model_is_refused(words):
    with pytest.raises(IncompatibleInputsError, match="the tokenizer is not the model's"):
        bits_per_byte(tiny_llama(10), words, ["the big dog"])


def test_heldout_bpb_gives_each_language_and_their_mean(words):
    model = tiny_gemma3(len(words))
    scores = heldout_bpb(model, words, {"en": TEXTS[:2], "xx": TEXTS[2:]}, batch_size=2)
    assert scores["en"] == pytest.approx(bits_per_byte(model, words, TEXTS[:2])[0])
    assert scores["average"] == pytest.approx((scores["en"] + scores["xx"]) / 2)


def test_a_tokenizer_with_longer_tokens_has_lower_fertility(chars, words):
    texts = ["the red cat", "dog"]  # 4 words, 14 bytes; "red" is no word piece: ▁ r e d
    by_char, by_word = fertility(chars, texts), fertility(words, texts)
    assert by_word == {"tokens_per_word": 7 / 4, "tokens_per_byte": 7 / 14}
    assert by_char == {"tokens_per_word": 16 / 4, "tokens_per_byte": 16 / 14}
    with pytest.raises(EmptyInputError):
        fertility(words, ["", "  "])


def test_greedy_continuations_follow_the_argmax(words):
    model = tiny_gemma3(len(words))
    (got,) = greedy_continuations(model, words, ["the cat"], max_new_tokens=5)
    ids = [words.bos_token_id, *words("the cat", add_special_tokens=False)["input_ids"]]
    for _ in range(5):
        with torch.no_grad():
            ids.append(int(model(input_ids=torch.tensor([ids])).logits[0, -1].argmax()))
    assert got == words.decode(ids[-5:], skip_special_tokens=True)
