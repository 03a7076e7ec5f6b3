"""FVT against hand-checked splits of hand-written vocabularies."""

import numpy as np
import pytest

from hyperofa.errors import IncompatibleInputsError
from hyperofa.init.base import initialize
from hyperofa.init.fvt import FVTInitializer
from hyperofa.init.provenance import Provenance
from hyperofa.init.subword import SourcePieces, surface_forms, wordpiece

from .common import byte_level_bpe, sp_pair, tokenizer_inputs, wp_pair

# Unigram scores favour longer pieces (tests/tiny.py): -10 + len
SP_SOURCE = ["▁haus", "▁ha", "us", "boot", "▁boot", "▁", "h", "a", "u", "s", "b", "o", "t"]
SP_NEW = ["▁hausboot", "sboot", "<0x41>", "<0xE3>", "ü"]


def _row(inp, *pieces: str) -> np.ndarray:
    vocab = inp.source_tokenizer.get_vocab()
    return inp.source_rows[[vocab[p] for p in pieces]].astype(np.float64).mean(0)


def _target_row(inp, result, token: str) -> np.ndarray:
    return result.rows[inp.target_tokenizer.get_vocab()[token]]


def test_sentencepiece_keeps_word_starts_and_continuations():
    inp = tokenizer_inputs(*sp_pair(SP_SOURCE, SP_NEW))
    res = initialize(FVTInitializer(), inp)
    # ` hausboot` → ▁haus (−5) + boot (−6) beats ▁ha + us + boot; `sboot` is a continuation: s + boot
    np.testing.assert_allclose(_target_row(inp, res, "▁hausboot"), _row(inp, "▁haus", "boot"), 1e-6)
    np.testing.assert_allclose(_target_row(inp, res, "sboot"), _row(inp, "s", "boot"), 1e-6)
    vocab, prov = inp.target_tokenizer.get_vocab(), res.provenance
    # <0x41> is `A`, unknown to the source; <0xE3> has no text; ü is unknown: all stay random
    for token in ("<0x41>", "<0xE3>", "ü"):
        assert prov[vocab[token]] == Provenance.RANDOM
    assert res.counts()["initialized"] == 2


def test_surface_forms_of_byte_fallback_pieces():
    _, target = sp_pair(SP_SOURCE, SP_NEW)
    ids = target.convert_tokens_to_ids(["▁hausboot", "sboot", "<0x41>", "<0xE3>"])
    assert surface_forms(target, ids) == [" hausboot", "sboot", "A", None]


def test_wordpiece_continuations_take_the_prefix():
    source, target = wp_pair(
        ["haus", "boot", "##boot", "##s", "ha", "##us"], ["hausboot", "##sboot"]
    )
    inp = tokenizer_inputs(source, target)
    res = initialize(FVTInitializer(), inp)
    np.testing.assert_allclose(_target_row(inp, res, "hausboot"), _row(inp, "haus", "##boot"), 1e-6)
    np.testing.assert_allclose(_target_row(inp, res, "##sboot"), _row(inp, "##s", "##boot"), 1e-6)


def test_wordpiece_word_starts_split_as_the_model_splits_them():
    source, _ = wp_pair(["haus", "boot", "##boot", "##s", "ha", "##us", "h", "##a"], [])
    vocab, model = source.get_vocab(), source.backend_tokenizer.model
    for word in ("hausboot", "haus", "habootus", "hx"):
        expected = [t.id for t in model.tokenize(word)]
        got = wordpiece(vocab, word, "##", continuation=False)
        assert got == ([] if expected == [vocab["[UNK]"]] else expected), word


def test_byte_level_bpe_maps_spaces_to_word_starts():
    merges = [
        ("h", "a"),
        ("Ġ", "ha"),
        ("u", "s"),
        ("Ġha", "us"),
        ("b", "o"),
        ("o", "t"),
        ("bo", "ot"),
    ]
    source = byte_level_bpe(merges)
    target = byte_level_bpe(merges, extra=["Ġhausboot", "sboot"])
    inp = tokenizer_inputs(source, target)
    res = initialize(FVTInitializer(), inp)
    assert surface_forms(target, target.convert_tokens_to_ids(["Ġhausboot"])) == [" hausboot"]
    np.testing.assert_allclose(_target_row(inp, res, "Ġhausboot"), _row(inp, "Ġhaus", "boot"), 1e-6)
    np.testing.assert_allclose(_target_row(inp, res, "sboot"), _row(inp, "s", "boot"), 1e-6)


def test_heldout_splits_a_source_token_without_itself():
    source, target = sp_pair(SP_SOURCE, SP_NEW)
    inp = tokenizer_inputs(source, target)
    held = np.array(source.convert_tokens_to_ids(["▁haus", "h"]))
    rows, covered = FVTInitializer().heldout(inp, held)
    # ` haus` without ▁haus: ▁ha + us; `h` alone has no other split
    np.testing.assert_allclose(rows[0], _row(inp, "▁ha", "us"), rtol=1e-6)
    assert covered.tolist() == [True, False]
    assert SourcePieces(source, excluded=held).ids(" haus") == source.convert_tokens_to_ids(
        ["▁ha", "us"]
    )


def test_fvt_without_a_source_tokenizer_is_a_named_error():
    inp = tokenizer_inputs(*sp_pair(SP_SOURCE, SP_NEW))
    inp.source_tokenizer = None
    with pytest.raises(IncompatibleInputsError, match="source_tokenizer"):
        FVTInitializer().covers(inp)
