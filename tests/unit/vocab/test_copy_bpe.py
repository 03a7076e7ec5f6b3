"""Copy for decoder tokenizers: byte-level tokens read from their bytes, byte-fallback pieces and
word-initial `▁x` / continuation `x` kept apart, every source id copied onto itself."""

from __future__ import annotations

import pytest

from hyperofa.vocab.byte_level import byte_level_text, byte_to_char
from hyperofa.vocab.copy import CopyKind, copy_map, overlapping_tokens, public_overlap
from hyperofa.vocab.extend import extend_tokenizer
from hyperofa.vocab.standardize import (
    BYTE_LEVEL,
    SENTENCEPIECE,
    standardize,
    standardized_vocab,
    vocab_kind,
)
from tests.bpe_tiny import ENGLISH, byte_level, gemma_style
from tests.unit.vocab.test_extend import new_language

LINES = ENGLISH.splitlines()


def spelled(text: str) -> str:
    """`text` in the byte-level spelling (`Ġ` for a space)."""
    return "".join(byte_to_char()[b] for b in text.encode())


def test_byte_level_tokens_read_back_as_text_with_bad_bytes_escaped():
    tokens = ["Ġhaus", "haus", "Ċ", spelled("п")[:1], spelled("п"), spelled(" ŋa"), "<|eot|>"]
    assert standardize(tokens, BYTE_LEVEL) == [
        " haus",
        "haus",
        "\n",
        "<0xD0>",
        "п",
        " ŋa",
        "<|eot|>",
    ]
    assert byte_level_text("plain ü text") == "plain ü text"  # a space: not in the byte alphabet
    assert vocab_kind([f"Ġw{i}" for i in range(101)]) == BYTE_LEVEL
    assert vocab_kind([f"▁w{i}" for i in range(101)] + [f"Ġw{i}" for i in range(101)]) == (
        SENTENCEPIECE
    )


def test_every_byte_sequence_keeps_its_own_form():
    """All 256 single bytes and every lead byte followed by a continuation byte (valid or not):
    no two standardize alike (public decoding gives `�` to each of the 128 bytes above 0x7F)."""
    spell = byte_to_char()
    singles = [spell[b] for b in range(256)]
    pairs = [spell[a] + spell[b] for a in range(0xC0, 0x100) for b in range(0x80, 0xC0)]
    forms = standardize(singles + pairs, BYTE_LEVEL)
    assert len(set(forms)) == len(forms)


def test_lowercasing_byte_level_text_never_turns_one_byte_into_another():
    # spelled, `Ġ` (space) lowercases to `ġ` (byte 0x7F) and `Ð` (0xD0) to `ð` (0xF0)
    source = standardize(["ġ", "ð", "Ġthe"], BYTE_LEVEL)
    target = standardize(["Ġ", "Ð", "ĠThe"], BYTE_LEVEL)
    assert public_overlap(source, target) == {2: (2, CopyKind.CASE_INSENSITIVE)}


def test_sentencepiece_without_dummy_prefix_keeps_word_start_and_continuation_apart():
    forms = standardize(["<pad>", "▁haus", "haus", "<0xC5>", "▁▁", "Haus"], SENTENCEPIECE)
    assert forms == ["<pad>", " haus", "haus", "<0xC5>", "  ", "Haus"]
    copied = public_overlap(forms, standardize(["haus", "▁Haus", "<0xC5>"], SENTENCEPIECE))
    assert copied == {
        0: (2, CopyKind.EXACT),
        1: (1, CopyKind.CASE_INSENSITIVE),
        2: (3, CopyKind.EXACT),
    }


def test_a_lone_byte_matches_the_byte_fallback_piece_across_families():
    byte_forms = standardize(["!", "Å", "Ġhaus", "ĠHaus"], BYTE_LEVEL)  # Å: byte 0xC5 alone
    sp_forms = standardize(["<0xC5>", "▁haus", "haus"], SENTENCEPIECE)
    assert public_overlap(byte_forms, sp_forms) == {
        0: (1, CopyKind.EXACT),
        1: (2, CopyKind.EXACT),
    }


@pytest.fixture(scope="module", params=["gemma", "byte_level"])
def pair(request):
    source = gemma_style(LINES) if request.param == "gemma" else byte_level(LINES, 1000)
    target, counts = extend_tokenizer(source, new_language(300, seed=1), vocab_size=120)
    return source, target, counts


def test_an_extended_tokenizer_copies_every_source_id_onto_itself(pair):
    source, target, counts = pair
    assert vocab_kind(source.get_vocab()) == vocab_kind(target.get_vocab()) != "decoded"
    copied = copy_map(source, target)
    size = counts["source_size"]
    assert copied.source_id[:size].tolist() == list(range(size))
    assert set(copied.kind[:size].tolist()) <= {CopyKind.EXACT, CopyKind.SPECIAL}
    # new pieces have no source token of the same text; any case-insensitive copy is a true one
    target_std, source_std = standardized_vocab(target), standardized_vocab(source)
    for t in range(size, len(target)):
        assert copied.kind[t] in (CopyKind.NONE, CopyKind.CASE_INSENSITIVE)
        if copied.kind[t] == CopyKind.CASE_INSENSITIVE:
            assert target_std[t].lower() == source_std[copied.source_id[t]].lower()


def test_standardized_forms_are_distinct_in_the_extended_vocabulary(pair):
    _, target, _ = pair
    forms = [f for f in standardized_vocab(target) if f is not None]
    assert len(set(forms)) == len(forms)


def test_special_roles_still_map_by_role():
    source = byte_level(LINES, 1000)
    target, _ = extend_tokenizer(source, new_language(100, seed=2), vocab_size=50)
    copied = overlapping_tokens(
        standardized_vocab(source), standardized_vocab(target), {"bos_token": 0}, {"bos_token": 0}
    )
    assert copied.kind[0] == CopyKind.SPECIAL and copied.source_id[0] == 0
