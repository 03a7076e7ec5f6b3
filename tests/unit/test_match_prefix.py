"""Matching encodes each distinct string once: surface forms that are the same string, or that a
tokenizer's dummy prefix makes tokenize alike, and a word held by several languages. The ids and
multiplicities stay those of one `tokenizer(form)` call per form and word (the public loop)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from hyperofa.match import (
    LeadingSpace,
    TokenizerEncoder,
    build_token_word_map,
    pretokenized_encoder,
    surface_forms,
    tokenizer_encoder,
    word_variants,
)
from tests.tiny import XLMR_SPECIALS, unigram_tokenizer
from tests.unit.test_match import PIECES, _byte_level_bpe, _wordpiece, _xlmr

# first characters a leading space could interact with: combining and spacing marks, ZWJ,
# characters NFKC maps to a space or to several letters, titlecase digraphs, `▁` itself, specials
TRICKY = [
    "haus", "Haus", "$haus", "$$x", "$x$", "haus$baum", "", "$", "ärger", "straße", "ß",
    "\u0301x", "x\u0301", "´x", "\u00a0x", "\u3000x", "\u200dx", "\u0e33x", "👍🏽x", "\tx",
    "İstanbul", "ǆemal", "ﬁx", "\u2581x", "<mask>", "a<mask>", "<s>x", "ab<pad>", "中文", "x",
    "$Haus", "$ß", "$中文", "$\u0301x", "$\u2581x", "$<mask>", "$\tx", "$ǆ", "$a$b", "$$", "$İx",
]  # fmt: skip


def _bpe(add_prefix_space: bool) -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<s>", "</s>", "<mask>"],
        show_progress=False,
    )
    tok.train_from_iterator(["haus baum Haus hausbaum ärger straße"] * 5, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, mask_token="<mask>", bos_token="<s>")


def _unigram(normalizer, pre_tokenizer) -> PreTrainedTokenizerFast:
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [(p, -10.0 + len(p)) for p in PIECES] + [("<mask>", 0.0)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer, tok.pre_tokenizer = normalizer, pre_tokenizer
    return PreTrainedTokenizerFast(tokenizer_object=tok, **XLMR_SPECIALS)


def _metaspace(scheme: str = "always") -> pre_tokenizers.Metaspace:
    return pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme=scheme)


WITH_PREFIX = {
    "xlmr": _xlmr,
    "unigram": lambda: unigram_tokenizer(PIECES),
    "wordpiece": _wordpiece,
    "bpe_prefix": lambda: _bpe(True),
    "nfkc_metaspace_first": lambda: _unigram(normalizers.NFKC(), _metaspace("first")),
}
WITHOUT_PREFIX = {
    "bpe": _byte_level_bpe,
    "metaspace_never": lambda: _unigram(None, _metaspace("never")),
    "prepend_normalizer": lambda: _unigram(
        normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")]),
        None,
    ),
    "first_after_split": lambda: _unigram(
        None, pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), _metaspace("first")])
    ),
}


@pytest.mark.parametrize("name", sorted(WITH_PREFIX))
def test_a_dummy_prefix_is_read_from_the_config(name):
    assert LeadingSpace.of(WITH_PREFIX[name]().backend_tokenizer) is not None


@pytest.mark.parametrize("name", sorted(WITHOUT_PREFIX))
def test_no_rule_where_the_config_does_not_promise_one(name):
    assert LeadingSpace.of(WITHOUT_PREFIX[name]().backend_tokenizer) is None


def test_an_added_token_matched_after_normalization_disables_the_rule():
    tok = unigram_tokenizer(PIECES)
    tok.add_tokens(["hausx"])  # a plain added token: normalized=True
    assert LeadingSpace.of(tok.backend_tokenizer) is None


def test_strings_holding_an_added_token_or_starting_oddly_keep_their_space():
    space = LeadingSpace.of(unigram_tokenizer(PIECES).backend_tokenizer)
    texts = ["haus", "<mask>x", "a<mask>", "x<s>", "", " x", "\u0301x", "\u2581x", "Haus"]
    expected = [True, False, False, False, False, False, False, False, True]
    assert space.drops(texts).tolist() == expected


def _public_counts(tok, word: str) -> Counter:
    """token id → forms of `word` whose tokenization holds it (one call per form)."""
    per_form = [set(tok(f, add_special_tokens=False)["input_ids"]) for f in word_variants(word)]
    return Counter(t for ids in per_form for t in ids)


@pytest.mark.parametrize("name", sorted(WITH_PREFIX | WITHOUT_PREFIX))
def test_surface_forms_stand_for_exactly_the_public_forms(name):
    tok = (WITH_PREFIX | WITHOUT_PREFIX)[name]()
    encoder = tokenizer_encoder(tok)
    forms = surface_forms(TRICKY, encoder.leading_space)
    assert np.bincount(forms.owners, forms.counts, len(TRICKY)).tolist() == [
        len(word_variants(w)) for w in TRICKY
    ]
    ours: list[Counter] = [Counter() for _ in TRICKY]
    for text, owner, n in zip(
        forms.texts, forms.owners.tolist(), forms.counts.tolist(), strict=True
    ):
        for t in set(tok(text, add_special_tokens=False)["input_ids"]):
            ours[owner][t] += n
    assert ours == [_public_counts(tok, w) for w in TRICKY]


def _reference(tok, words: list[str]) -> dict[tuple[int, int], int]:
    """(token, row) → multiplicity, one tokenizer call per form and word."""
    return {(t, row): n for row, w in enumerate(words) for t, n in _public_counts(tok, w).items()}


def _pairs(twm) -> dict[tuple[int, int], int]:
    tokens = np.repeat(np.arange(twm.num_tokens), twm.degree())
    return dict(
        zip(
            zip(tokens.tolist(), twm.indices.tolist(), strict=True),
            twm.multiplicity.tolist(),
            strict=True,
        )
    )


def test_a_word_of_several_languages_is_encoded_once():
    tok, calls = _xlmr(), []
    base = tokenizer_encoder(tok)

    def encode(texts: list[str]):
        calls.append(texts)
        return base.encode(texts)

    words = TRICKY + ["haus", "haus", "ärger", "$haus", "Haus", "中文"] + TRICKY[::-1]
    twm = build_token_word_map(words, TokenizerEncoder(encode, base.leading_space), len(tok), 7)
    assert _pairs(twm) == _reference(tok, words)
    sample, spaced = calls[:2]  # the rule is first checked on a sample of the first batch
    assert spaced == [" " + t for t in sample] and len(sample) > 3
    distinct = list(dict.fromkeys(words))
    encoded = sum(map(len, calls[2:]))
    assert encoded == len(surface_forms(distinct, base.leading_space).texts)
    assert encoded < 2.5 * len(distinct) and len(distinct) < len(words) / 2


def test_a_rule_the_ids_do_not_keep_is_caught_and_every_form_encoded(caplog):
    tok = _byte_level_bpe()  # "haus" and " haus" differ: no dummy prefix
    claims_all = LeadingSpace(str, frozenset(), [])
    wrong = TokenizerEncoder(pretokenized_encoder(tok.backend_tokenizer), claims_all)
    words = ["haus", "baum", "Haus", "$haus", "ärger"] * 3
    twm = build_token_word_map(words, wrong, len(tok), batch_size=4)
    assert _pairs(twm) == _reference(tok, words)
    assert "dummy prefix" in caplog.text
