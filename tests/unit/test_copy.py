import numpy as np

from hyperofa.vocab.copy import CopyKind, copy_map, overlapping_tokens, special_ids
from hyperofa.vocab.standardize import (
    DECODED,
    SENTENCEPIECE,
    WORDPIECE,
    standardize,
    standardized_vocab,
    vocab_kind,
)
from tests.tiny import unigram_tokenizer

SP = "\u2581"
SPECIALS = {"bos_token": 0, "pad_token": 1, "eos_token": 2, "unk_token": 3}


def test_vocab_kind_and_standardize_follow_ofa_heuristics():
    sp_vocab = [SP + f"w{i}" for i in range(101)] + ["ab"]
    assert vocab_kind(sp_vocab) == SENTENCEPIECE and vocab_kind(sp_vocab[1:]) == DECODED
    assert vocab_kind([f"##w{i}" for i in range(101)]) == WORDPIECE
    assert standardize(sp_vocab)[-1] == "ab" and standardize(sp_vocab)[0] == " w0"
    assert standardize(["[CLS]", "haus", "##aus"], WORDPIECE) == [" [CLS]", " haus", "aus"]
    assert standardize(["\u0120haus"], DECODED) == ["\u0120haus"]  # decoding needs the tokenizer


def _sp(tokens: list[str]) -> list[str]:
    return standardize(tokens, SENTENCEPIECE)


def test_exact_then_case_insensitive_then_none():
    source = [
        "<s>",
        "<pad>",
        "</s>",
        "<unk>",
        SP + "Haus",
        SP + "haus",
        "aus",
        SP + "BAUM",
        SP + "hAUS",
    ]
    target = [
        "<s>",
        "<pad>",
        "</s>",
        "<unk>",
        SP + "haus",
        SP + "Baum",
        "aus",
        SP + "neu",
        SP + "HAUS",
    ]
    m = overlapping_tokens(_sp(source), _sp(target), SPECIALS, SPECIALS)
    assert list(m.kind[:4]) == [CopyKind.SPECIAL] * 4
    assert (m.source_id[4], m.kind[4]) == (5, CopyKind.EXACT)  # exact beats the cased ▁Haus
    assert (m.source_id[5], m.kind[5]) == (7, CopyKind.CASE_INSENSITIVE)
    assert (m.source_id[6], m.kind[6]) == (6, CopyKind.EXACT)
    assert (m.source_id[7], m.kind[7]) == (-1, CopyKind.NONE)
    # ▁HAUS: ▁Haus (4), ▁haus (5) and ▁hAUS (8) lower-case alike; the public code keeps the last
    # in sorted string order: " Haus" < " hAUS" < " haus", so 5
    assert (m.source_id[8], m.kind[8]) == (5, CopyKind.CASE_INSENSITIVE)
    assert m.counts() == {"special": 4, "copied_exact": 2, "copied_ci": 2, "not_copied": 1}


def test_source_id_zero_never_matches_case_insensitively():
    # the public code's truthiness test `if lowercase_source_vocab.get(...)` skips id 0
    source, target = _sp([SP + "x", SP + "y"]), _sp([SP + "X", SP + "Y", SP + "x"])
    m = overlapping_tokens(source, target, {}, {})
    assert m.kind.tolist() == [CopyKind.NONE, CopyKind.CASE_INSENSITIVE, CopyKind.EXACT]
    assert m.source_id.tolist() == [-1, 1, 0]  # exact matches still reach id 0


def test_ids_that_standardize_alike_the_highest_id_stands_for_them():
    # `▁a` and ` a` both become ` a`: the public dicts keep the highest id of each vocabulary
    source, target = _sp(["<s>", SP + "a", " a"]), _sp(["<s>", " a", SP + "a", "b"])
    m = overlapping_tokens(source, target, {}, {})
    assert m.source_id.tolist() == [0, -1, 2, -1]  # target id 1 is not copied at all
    assert m.kind.tolist() == [CopyKind.EXACT, CopyKind.NONE, CopyKind.EXACT, CopyKind.NONE]


def test_unused_ids_are_never_copied():
    m = overlapping_tokens([" a", None], [None, " a"], {}, {})
    assert m.source_id.tolist() == [-1, 0]


def test_special_tokens_map_by_role_even_if_ids_differ():
    src = unigram_tokenizer([SP + "a"])
    tgt = unigram_tokenizer([SP + "a", SP + "b"])
    s, t = special_ids(src), special_ids(tgt)
    assert s["mask_token"] == 5 and t["mask_token"] == 6
    m = copy_map(src, tgt)
    assert m.source_id[6] == 5 and m.kind[6] == CopyKind.SPECIAL
    assert m.source_id[4] == 4 and m.kind[4] == CopyKind.EXACT
    assert m.kind[5] == CopyKind.NONE
    assert np.all((m.source_id >= 0) == (m.kind != CopyKind.NONE))


# --- WordPiece -----------------------------------------------------------------------------------


def test_wordpiece_continuation_and_word_initial_pieces_are_different_tokens():
    from tests.wordpiece_tiny import wordpiece_tokenizer

    source = wordpiece_tokenizer(["haus", "##aus", "##haus", "[unused0]", "aus"], letters="ab")
    # target: the same pieces in another order, plus `baum` and `##baum`, which the source lacks
    target = wordpiece_tokenizer(["##haus", "aus", "haus", "[unused0]", "##aus", "baum", "##baum"])
    s_tokens = source.convert_ids_to_tokens(list(range(len(source))))
    t_tokens = target.convert_ids_to_tokens(list(range(len(target))))
    m = copy_map(source, target)
    for t_id, token in enumerate(t_tokens):
        s_id = int(m.source_id[t_id])
        if m.kind[t_id] in (CopyKind.EXACT, CopyKind.SPECIAL):
            assert s_tokens[s_id] == token  # `##aus` never stands in for `aus`, nor the reverse
        else:
            assert token not in s_tokens and m.kind[t_id] == CopyKind.NONE
    assert t_tokens[int(np.flatnonzero(m.kind == CopyKind.NONE)[0])] == "baum"
    assert m.counts() == {"special": 5, "copied_exact": 5, "copied_ci": 0, "not_copied": 2}


def test_wordpiece_copy_agrees_with_what_the_tokenizers_produce():
    """A copied pair is the same surface in the same position: both tokenizers emit it for the
    same word, word-initially or inside the word."""
    from tests.wordpiece_tiny import wordpiece_tokenizer

    source = wordpiece_tokenizer(["haus", "##haus", "baum"], letters="abhmsu")
    target = wordpiece_tokenizer(["##baum", "haus", "baum", "##haus"], letters="abhmsu")
    m = copy_map(source, target)
    for text in ["haus", "baum", "hhaus", "bbaum", "ahaus baum"]:
        s_ids = source(text, add_special_tokens=False)["input_ids"]
        t_ids = target(text, add_special_tokens=False)["input_ids"]
        copied = [int(m.source_id[t]) if m.kind[t] != CopyKind.NONE else None for t in t_ids]
        if None not in copied:  # every target token has a source row: the same segmentation
            assert copied == s_ids, text
    assert m.kind[target.convert_tokens_to_ids("##baum")] == CopyKind.NONE


def test_standardize_wordpiece_keeps_continuation_apart_from_word_start():
    tokens = ["[PAD]", "[unused3]", "haus", "##haus", "#", "###", "##"]
    assert standardize(tokens, WORDPIECE) == [
        " [PAD]",
        " [unused3]",
        " haus",
        "haus",
        " #",
        "#",  # `###` is the continuation piece `#`
        "",  # `##` alone: the public code strips it to nothing
    ]


def test_standardized_vocab_decodes_as_the_public_code():
    from tests.wordpiece_tiny import wordpiece_tokenizer

    tok = wordpiece_tokenizer(["haus", "##haus"], letters="abcdefghijklmnopqrstuvwxyz")
    assert vocab_kind(tok.get_vocab()) == DECODED  # 26 `##` letters + 1: not > 100
    std = standardized_vocab(tok)
    assert std == [tok.decode(i) for i in range(len(tok))]
    assert std[tok.convert_tokens_to_ids("##haus")] == "##haus"
