"""Matching with decoder tokenizers (Gemma-style without dummy prefix, byte-level): the fast encoder
equals one tokenizer call per form, and the token → word map equals a brute-force one."""

from __future__ import annotations

from collections import Counter

import pytest
from tokenizers import Regex, Tokenizer, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from hyperofa.match import FlatIds, build_token_word_map, tokenizer_encoder, word_variants
from hyperofa.vocab.extend import extend_tokenizer
from tests.bpe_tiny import ENGLISH, byte_level, gemma_style
from tests.unit.vocab.test_extend import new_language

LINES = ENGLISH.splitlines()
LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
WORDS = ["haus", "$haus", "rights", "Everyone", "ŋawiro", "wiŋatsi", "a$b", "it's", "tab\tx", "ça"]


def llama3_style() -> PreTrainedTokenizerFast:
    backend = Tokenizer.from_str(byte_level(LINES, 1000).backend_tokenizer.to_str())
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    return PreTrainedTokenizerFast(tokenizer_object=backend)


def build(kind: str) -> PreTrainedTokenizerFast:
    source = {
        "gemma": lambda: gemma_style(LINES),
        "byte_level": lambda: byte_level(LINES, 1000),
        "llama3": llama3_style,
    }[kind.removesuffix("_extended")]()
    if kind.endswith("_extended"):
        return extend_tokenizer(source, new_language(300, seed=1), vocab_size=120)[0]
    return source


KINDS = ["gemma", "gemma_extended", "byte_level", "byte_level_extended", "llama3_extended"]


@pytest.fixture(scope="module", params=KINDS)
def tokenizer(request) -> PreTrainedTokenizerFast:
    return build(request.param)


def test_fast_encoder_equals_one_call_per_form(tokenizer):
    forms = [f for w in WORDS for f in word_variants(w)]
    expected = tokenizer(forms, add_special_tokens=False)["input_ids"]
    flat = tokenizer_encoder(tokenizer)(forms)
    assert isinstance(flat, FlatIds)
    got: list[list[int]] = [[] for _ in forms]
    for token_id, owner in zip(flat.ids.tolist(), flat.owners.tolist(), strict=True):
        got[owner].append(token_id)
    assert got == expected


def test_token_word_map_equals_brute_force(tokenizer):
    words = WORDS + sorted({w for line in new_language(30, seed=2) for w in line.split()})
    token_words = build_token_word_map(words, tokenizer_encoder(tokenizer), len(tokenizer))
    expected: Counter[tuple[int, int]] = Counter()
    for row, word in enumerate(words):
        for form in word_variants(word):
            for token_id in set(tokenizer(form, add_special_tokens=False)["input_ids"]):
                expected[token_id, row] += 1
    got = {
        (t, int(w)): int(m)
        for t in range(token_words.num_tokens)
        for w, m in zip(
            token_words.words_of(t),
            token_words.multiplicity[token_words.indptr[t] : token_words.indptr[t + 1]],
            strict=True,
        )
    }
    assert got == dict(expected)


@pytest.mark.parametrize(("kind", "space"), [("gemma_extended", "▁"), ("byte_level_extended", "Ġ")])
def test_without_dummy_prefix_word_start_and_continuation_pieces_both_collect_the_word(kind, space):
    """`w` and `' ' + w` tokenize differently (no dummy prefix): the new word-initial piece gets
    the word from `' ' + w`, the pieces of the bare form from `w`; the public rule counts both."""
    tokenizer = build(kind)
    token_words = build_token_word_map(["wiŋatsi"], tokenizer_encoder(tokenizer), len(tokenizer))
    piece = space + ("wiŋatsi" if space == "▁" else "wiÅĭatsi")
    initial = tokenizer.convert_tokens_to_ids(piece)
    assert tokenizer(" wiŋatsi", add_special_tokens=False)["input_ids"] == [initial]
    bare = tokenizer("wiŋatsi", add_special_tokens=False)["input_ids"]
    assert initial not in bare
    assert token_words.words_of(initial).tolist() == [0]
    assert all(token_words.words_of(t).tolist() == [0] for t in bare)
