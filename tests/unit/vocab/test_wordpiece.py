"""WordPiece extension: source ids and English tokenization kept, pieces respelled, protection."""

from __future__ import annotations

import json

import pytest
from tokenizers import Tokenizer
from transformers import AutoTokenizer

from hyperofa.vocab.extend import extend_tokenizer, save_tokenizer
from hyperofa.vocab.wordpiece import (
    bare_spec,
    drop_pieces_changing,
    to_wordpiece,
    wordpiece_spec,
)
from tests.unit.vocab.test_extend import new_language
from tests.wordpiece_tiny import wordpiece_tokenizer

ENGLISH = "The cat sat on the mat, and the dog sat on the log."
LETTERS = "abcdefghijklmnopqrstuvwxyzŋɛɖɔé"


def english_source():
    """A tiny uncased BERT: a few English words, every letter in both forms (so no [UNK])."""
    words = ["the", "cat", "sat", "on", "mat", "and", "dog", "log", ",", ".", "##s", "##ing"]
    return wordpiece_tokenizer(words, letters=LETTERS)


def ids(tok, text: str) -> list[int]:
    return tok(text, add_special_tokens=False)["input_ids"]


@pytest.fixture(scope="module")
def source():
    return english_source()


@pytest.fixture(scope="module")
def extended(source):
    return extend_tokenizer(source, new_language(300, seed=1), vocab_size=120)


def test_every_source_piece_keeps_its_id_and_new_ones_follow(source, extended):
    target, counts = extended
    old, new = source.get_vocab(), target.get_vocab()
    assert {piece: new[piece] for piece in old} == old
    assert sorted(new.values()) == list(range(len(target)))
    assert counts["source_size"] == len(old) and counts["target_size"] == len(target)
    assert counts["added"] == len(target) - len(old) > 20
    assert target.all_special_ids == source.all_special_ids
    assert target.mask_token_id == source.mask_token_id == 4


def test_appended_pieces_are_wordpiece_spelled(source, extended):
    target, counts = extended
    appended = target.convert_ids_to_tokens(range(counts["source_size"], counts["target_size"]))
    assert not any("\u2581" in p for p in appended)
    bodies = [p.removeprefix("##") for p in appended]
    assert all(bodies) and not any(b.startswith("#") for b in bodies)
    assert any(p.startswith("##") for p in appended) and any(
        not p.startswith("##") for p in appended
    )


def test_new_language_gets_shorter_and_english_is_unchanged(source, extended):
    target, _ = extended
    heldout = new_language(50, seed=2)
    before = sum(len(ids(source, t)) for t in heldout)
    after = sum(len(ids(target, t)) for t in heldout)
    assert after < 0.6 * before
    assert ids(target, ENGLISH) == ids(source, ENGLISH)
    assert target(ENGLISH)["input_ids"][0] == source.cls_token_id  # post-processor kept


def test_protected_words_keep_their_tokenization(source, extended):
    target, counts = extended
    new_bare = [
        p
        for p in target.convert_ids_to_tokens(range(counts["source_size"], counts["target_size"]))
        if not p.startswith("##") and len(p) >= 3 and p.isascii()
    ]
    # an English-looking word that begins with a learned piece: greedy longest match takes it
    word = new_bare[0] + "ing"
    assert ids(target, word) != ids(source, word)
    protected, pcounts = extend_tokenizer(
        source, new_language(300, seed=1), vocab_size=120, protected_texts=[ENGLISH, word]
    )
    assert ids(protected, word) == ids(source, word)
    assert new_bare[0] not in protected.get_vocab()
    assert pcounts["dropped_for_protected"] >= 1
    assert pcounts["added"] == counts["added"] - pcounts["dropped_for_protected"]
    assert sorted(protected.get_vocab().values()) == list(range(len(protected)))


def test_drop_pieces_changing_brute_force(source, extended):
    """Every protected word, whatever it is, tokenizes as with the source afterwards."""
    target, counts = extended
    texts = new_language(40, seed=9)
    words = sorted(
        {w for t in texts for w in t.split()} | {w + "s" for t in texts for w in t.split()}
    )
    spec, dropped = drop_pieces_changing(wordpiece_spec(target), counts["source_size"], words)
    assert dropped > 0
    backend = Tokenizer.from_str(json.dumps(bare_spec(spec)))
    for word in words:
        assert backend.encode(word, add_special_tokens=False).ids == ids(source, word), word


def test_to_wordpiece_respells_and_completes_the_alphabet():
    pieces = [("▁ab", -1.0), ("cd", -2.0), ("▁", -3.0), ("a", -4.0), ("x▁y", -5.0)]
    # respelled in order (`▁` and the inner-`▁` piece left out), then each character's missing form
    assert to_wordpiece(pieces) == ["ab", "##cd", "##a", "a", "b", "##b", "c", "##c", "d", "##d"]


def test_same_inputs_give_an_identical_tokenizer(source):
    texts = new_language(200, seed=4)
    first, _ = extend_tokenizer(source, texts, vocab_size=100, seed=7)
    second, _ = extend_tokenizer(source, iter(texts), vocab_size=100, seed=7)
    assert first.backend_tokenizer.to_str() == second.backend_tokenizer.to_str()


def test_saved_dir_reloads_with_identical_ids(extended, tmp_path):
    target, _ = extended
    out = save_tokenizer(target, tmp_path / "tok")
    reloaded = AutoTokenizer.from_pretrained(out)
    texts = [ENGLISH + " [MASK]", *new_language(5, seed=3), "kaluŋa [MASK] ro xyz"]
    assert reloaded(texts)["input_ids"] == target(texts)["input_ids"]
    assert reloaded.get_vocab() == target.get_vocab()


def test_truncation_left_on_the_source_is_not_baked_into_the_target():
    source = english_source()
    source(["the cat sat"], truncation=True, max_length=3, padding="max_length")
    target, _ = extend_tokenizer(source, new_language(100, seed=5), vocab_size=100)
    long = " ".join(["the cat"] * 20)
    assert len(target(long)["input_ids"]) == len(source(long)["input_ids"]) == 42
