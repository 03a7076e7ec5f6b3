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
