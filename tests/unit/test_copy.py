import numpy as np

from hyperofa.vocab.copy import CopyKind, overlapping_tokens, special_ids
from hyperofa.vocab.standardize import standardize, vocab_list
from tests.tiny import unigram_tokenizer

SP = "\u2581"


def test_standardize_sentencepiece_and_wordpiece():
    sp_vocab = [SP + f"w{i}" for i in range(101)] + ["ab"]
    assert standardize(sp_vocab)[-1] == "ab" and standardize(sp_vocab)[0] == " w0"
    assert standardize(["[CLS]", "haus", "##aus"], sentencepiece=False) == ["[CLS]", " haus", "aus"]


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
        "<mask>",
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
        "<mask>",
        SP + "HAUS",
    ]
    specials = {"bos_token": 0, "pad_token": 1, "eos_token": 2, "unk_token": 3, "mask_token": 8}
    m = overlapping_tokens(source, target, specials, specials)
    assert list(m.kind[:4]) == [CopyKind.SPECIAL] * 4 and m.kind[8] == CopyKind.SPECIAL
    assert (m.source_id[4], m.kind[4]) == (5, CopyKind.EXACT)  # exact beats the cased ▁Haus
    assert (m.source_id[5], m.kind[5]) == (7, CopyKind.CASE_INSENSITIVE)
    assert (m.source_id[6], m.kind[6]) == (6, CopyKind.EXACT)
    assert (m.source_id[7], m.kind[7]) == (-1, CopyKind.NONE)
    # ▁HAUS: two source tokens lower-case to ▁haus; the lowest id wins
    assert (m.source_id[9], m.kind[9]) == (4, CopyKind.CASE_INSENSITIVE)
    assert m.counts() == {"special": 5, "copied_exact": 2, "copied_ci": 2, "not_copied": 1}


def test_special_tokens_map_by_role_even_if_ids_differ():
    src = unigram_tokenizer([SP + "a"])
    tgt = unigram_tokenizer([SP + "a", SP + "b"])
    s, t = special_ids(src), special_ids(tgt)
    assert s["mask_token"] == 5 and t["mask_token"] == 6
    m = overlapping_tokens(vocab_list(src.get_vocab()), vocab_list(tgt.get_vocab()), s, t)
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
    s_tokens, t_tokens = vocab_list(source.get_vocab()), vocab_list(target.get_vocab())
    m = overlapping_tokens(s_tokens, t_tokens, special_ids(source), special_ids(target))
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
    m = overlapping_tokens(
        vocab_list(source.get_vocab()),
        vocab_list(target.get_vocab()),
        special_ids(source),
        special_ids(target),
    )
    for text in ["haus", "baum", "hhaus", "bbaum", "ahaus baum"]:
        s_ids = source(text, add_special_tokens=False)["input_ids"]
        t_ids = target(text, add_special_tokens=False)["input_ids"]
        copied = [int(m.source_id[t]) if m.kind[t] != CopyKind.NONE else None for t in t_ids]
        if None not in copied:  # every target token has a source row: the same segmentation
            assert copied == s_ids, text
    assert m.kind[target.convert_tokens_to_ids("##baum")] == CopyKind.NONE


def test_standardize_wordpiece_keeps_continuation_apart_from_word_start():
    tokens = ["[PAD]", "[unused3]", "haus", "##haus", "#", "###", "##"]
    assert standardize(tokens, sentencepiece=False) == [
        "[PAD]",
        "[unused3]",
        " haus",
        "haus",
        " #",
        "#",  # `###` is the continuation piece `#`
        " ##",
    ]
