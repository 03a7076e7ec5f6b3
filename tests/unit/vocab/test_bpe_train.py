"""Continued BPE learning: the incremental pair counts against a brute-force learner, and the
learned merges against the `tokenizers` BPE model that applies them by rank."""

from __future__ import annotations

import json
import random
from collections import Counter
from itertools import pairwise

import pytest
from tokenizers import Tokenizer, models

from hyperofa.vocab.bpe_train import apply_merge, learn_merges


def brute_force_merges(words: dict[tuple[str, ...], int], budget: int, allowed) -> list:
    """Recount every pair after every merge; the most frequent allowed pair making a new piece
    wins, ties to the smallest pair."""
    words = dict(words)
    known = {t for w in words for t in w}
    merges = []
    banned = set()
    while len(merges) < budget:
        counts = Counter()
        for word, n in words.items():
            for pair in pairwise(word):
                counts[pair] += n
        ranked = sorted(
            ((-c, p) for p, c in counts.items() if c >= 2 and p not in banned), key=lambda x: x
        )
        chosen = None
        for _, pair in ranked:
            if pair[0] + pair[1] not in known and allowed(*pair):
                chosen = pair
                break
            banned.add(pair)
        if chosen is None:
            return merges
        banned.add(chosen)
        merges.append(chosen)
        known.add(chosen[0] + chosen[1])
        merged = Counter()
        for word, n in words.items():
            merged[apply_merge(word, chosen)] += n
        words = dict(merged)
    return merges


def random_words(seed: int, n: int = 60) -> dict[tuple[str, ...], int]:
    rng = random.Random(seed)
    words: Counter[tuple[str, ...]] = Counter()
    for _ in range(n):
        length = rng.randint(2, 7)
        words[tuple(rng.choices("aabcdde", k=length))] += rng.randint(1, 5)
    return dict(words)


def test_apply_merge_left_to_right():
    assert apply_merge(("a", "a", "a"), ("a", "a")) == ("aa", "a")
    assert apply_merge(("a", "b", "a", "b"), ("a", "b")) == ("ab", "ab")
    assert apply_merge(("x", "a", "b"), ("b", "a")) == ("x", "a", "b")


@pytest.mark.parametrize("seed", range(6))
def test_learn_merges_equals_brute_force(seed):
    words = random_words(seed)

    def no_e(a: str, b: str) -> bool:
        return "e" not in a + b

    for allowed in (lambda a, b: True, no_e):
        expected = brute_force_merges(words, 25, allowed)
        got = learn_merges(words, budget=25, known={t for w in words for t in w}, allowed=allowed)
        assert got == expected and len(got) > 3


def test_learning_stops_below_min_count_and_skips_known_pieces():
    words = {("a", "b"): 5, ("c", "d"): 1, ("x", "y"): 3}
    assert learn_merges(words, budget=9, known={"a", "b", "c", "d", "x", "y"}, allowed=_yes) == [
        ("a", "b"),
        ("x", "y"),
    ]
    assert learn_merges(words, budget=9, known={"ab"}, allowed=_yes) == [("x", "y")]
    assert learn_merges(words, budget=1, known=set(), allowed=_yes) == [("a", "b")]


def _yes(a: str, b: str) -> bool:
    return True


@pytest.mark.parametrize("seed", range(4))
def test_a_tokenizers_bpe_with_the_learned_merges_reproduces_training(seed):
    """`tokenizers` applies merges lowest rank first; learned merges replayed in order agree."""
    words = random_words(seed, n=80)
    merges = learn_merges(words, budget=30, known=set("abcde"), allowed=_yes)
    vocab = {c: i for i, c in enumerate("abcde")}
    for a, b in merges:
        vocab[a + b] = len(vocab)
    spec = json.loads(Tokenizer(models.BPE(vocab, merges)).to_str())
    model = Tokenizer.from_str(json.dumps(spec)).model
    for word in words:
        replayed = word
        for merge in merges:
            replayed = apply_merge(replayed, merge)
        assert [t.value for t in model.tokenize("".join(word))] == list(replayed)
