"""A held-out Unigram view splits a batch of forms exactly as the whole vocabulary rebuilt without
the excluded pieces does (the public tokenizer's model is the reference)."""

import json

import numpy as np
import pytest
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from hyperofa.init.subword import EXCLUDED_SCORE, SourcePieces, surface_forms
from tests.tiny import XLMR_SPECIALS
from tests.unit.init.common import SP_FILLER, sp_pair


def _rebuilt_split(tokenizer, excluded: set[int], forms: list[str | None]) -> list[list[int]]:
    """The reference: the whole tokenizer JSON with the `excluded` pieces scored EXCLUDED_SCORE,
    tokenized form by form (in the model's own alphabet: ` ` → `▁`)."""
    data = json.loads(tokenizer.backend_tokenizer.to_str())
    for i in excluded:
        data["model"]["vocab"][i][1] = EXCLUDED_SCORE
    model = Tokenizer.from_str(json.dumps(data)).model
    out = []
    for form in forms:
        found = [t.id for t in model.tokenize(form.replace(" ", "▁"))] if form else []
        out.append([i for i in found if i != tokenizer.unk_token_id and i not in excluded])
    return out


def test_a_held_out_view_of_the_xlmr_vocabulary_splits_as_the_rebuilt_model():
    from hyperofa.assets.e5 import embedded_e5_files

    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(embedded_e5_files()[1]), **XLMR_SPECIALS)
    rng = np.random.default_rng(0)
    held = rng.choice(np.arange(5, len(tokenizer)), 3_000, replace=False)
    forms = surface_forms(tokenizer, held[:1_500])  # held-out tokens split without themselves
    forms += surface_forms(tokenizer, rng.choice(len(tokenizer), 500, replace=False))
    forms += [" ☃☃ haus", "𒀀𒀁x", " ʻōlelo", "", None, " Ⴀ"]  # unknown characters, no text
    excluded = {int(i) for i in held}
    got = SourcePieces(tokenizer, excluded=held).split(forms)
    assert got == _rebuilt_split(tokenizer, excluded, forms)
    assert sum(len(p) == 0 for p in got) < len(forms) // 10  # most forms have another split
    assert not excluded & {i for p in got for i in p}


def _unigram(pieces: list[tuple[str, float]], byte_fallback: bool = False):
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), *pieces]
    vocab += [(p, -10.0 + len(p)) for p in SP_FILLER]
    backend = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=byte_fallback))
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    return PreTrainedTokenizerFast(tokenizer_object=backend, **XLMR_SPECIALS)


def test_the_unknown_character_penalty_is_the_held_out_models():
    """`x` has no piece of its own, so `xyz` is `xy`+`z` (−62) or <unk>+`yz`: the penalty of an
    unknown character follows the lowest score, −1e10 once anything is excluded, so <unk> loses."""
    tokenizer = _unigram([("xy", -50.0), ("z", -12.0), ("yz", -1.0), ("y", -9.0), ("q", -1.0)])
    held = tokenizer.convert_tokens_to_ids(["q"])
    got = SourcePieces(tokenizer, excluded=held).split(["xyz"])
    assert got == _rebuilt_split(tokenizer, set(held), ["xyz"])
    assert got == [tokenizer.convert_tokens_to_ids(["xy", "z"])]


def test_a_byte_fallback_unigram_keeps_its_byte_pieces_in_a_held_out_view():
    bytes_ = [(f"<0x{b:02X}>", -20.0) for b in range(256)]
    pieces = ["▁ha", "us", "▁haus", "▁", "h", "a", "u", "s", "é"]
    tokenizer = _unigram([*bytes_, *((p, -10.0 + len(p)) for p in pieces)], byte_fallback=True)
    held = tokenizer.convert_tokens_to_ids(["▁haus", "é"])
    forms = [" haus", "hé", " ñu"]  # é and ñ only as bytes
    got = SourcePieces(tokenizer, excluded=held).split(forms)
    assert got == _rebuilt_split(tokenizer, set(held), forms)
    assert got[0] == tokenizer.convert_tokens_to_ids(["▁ha", "us"])
    assert got[2] == tokenizer.convert_tokens_to_ids(["▁", "<0xC3>", "<0xB1>", "u"])


@pytest.mark.parametrize("excluded", [(), (7,)])
def test_ids_is_split_of_one_form(excluded):
    source, _ = sp_pair(["▁haus", "▁ha", "us"], [])
    split = SourcePieces(source, excluded=excluded)
    assert split.ids(" haus") == split.split([" haus", None])[0]
    assert split.split([None, ""]) == [[], []]
