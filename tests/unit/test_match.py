import numpy as np
import pytest

from hyperofa.errors import ConfigError, IncompatibleInputsError
from hyperofa.match import (
    TokenWordMap,
    build_token_word_map,
    pretokenized_encoder,
    token_vectors,
    tokenizer_encoder,
    word_variants,
)
from hyperofa.match.encoders import _pieces_alone, _separator
from tests.tiny import unigram_tokenizer

PIECES = [
    "\u2581haus",
    "\u2581Haus",
    "haus",
    "\u2581h",
    "aus",
    "\u2581baum",
    "\u2581B",
    "aum",
    "Haus",
    "h",
    "b",
]


def _encode(tok):
    return lambda texts: tok(texts, add_special_tokens=False)["input_ids"]


def test_word_variants_follow_the_public_code():
    assert word_variants("haus") == ["haus", " haus", " Haus"]
    # `$` becomes a space; the capitalized form is w[1].upper() + w[2:]
    assert word_variants("$haus") == [" haus", "  haus", "Haus"]
    assert word_variants("haus$baum") == ["haus baum", " haus baum", " Haus baum"]
    assert word_variants("$ab$") == [" ab ", "  ab ", "Ab "]
    assert word_variants("ärger") == ["ärger", " ärger", " Ärger"]
    assert word_variants("ßa") == ["ßa", " ßa", " SSa"]  # str.upper, as there
    # where the public code raises IndexError, the capitalized form is left out
    assert word_variants("$") == [" ", "  "]
    assert word_variants("") == ["", " "]


def test_every_form_contributes_its_subwords_once_per_form():
    tok = unigram_tokenizer(PIECES)
    ids = tok.convert_tokens_to_ids
    # row 0 = deu:haus, row 1 = deu:baum, row 2 = deu:$haus
    twm = build_token_word_map(["haus", "baum", "$haus"], _encode(tok), len(tok))

    def counted(token: str) -> dict[int, int]:
        t = ids(token)
        pairs = slice(twm.indptr[t], twm.indptr[t + 1])
        return dict(zip(twm.indices[pairs].tolist(), twm.multiplicity[pairs].tolist(), strict=True))

    # haus, " haus" → ▁haus (twice), " Haus" → ▁Haus; $haus: " haus" → ▁haus, "  haus" → <unk>
    # ▁haus, "Haus" → ▁Haus
    assert counted("\u2581haus") == {0: 2, 2: 2}
    assert counted("\u2581Haus") == {0: 1, 2: 1}
    assert counted("<unk>") == {2: 1}
    # "baum", " baum" → ▁baum; " Baum" → ▁B aum
    assert counted("\u2581baum") == {1: 2}
    assert counted("\u2581B") == {1: 1} and counted("aum") == {1: 1}
    assert twm.words_of(ids("aus")).size == 0
    assert twm.degree().sum() == len(twm.indices) == len(twm.multiplicity)
    for t in range(twm.num_tokens):  # rows are sorted and unique
        assert np.all(np.diff(twm.words_of(t)) > 0)
    assert twm.counts()["pairs_with_multiplicity"] == int(twm.multiplicity.sum())


def test_a_token_twice_in_one_form_counts_once():
    tok = unigram_tokenizer(PIECES)
    # "haus haus", " haus haus", " Haus haus": ▁haus twice in the first two forms, once in the third
    twm = build_token_word_map(["haus$haus"], _encode(tok), len(tok))
    t = tok.convert_tokens_to_ids("\u2581haus")
    assert twm.words_of(t).tolist() == [0] and twm.multiplicity[twm.indptr[t]] == 3


def test_token_vectors_multiset_and_set_means():
    tok = unigram_tokenizer(PIECES)
    twm = build_token_word_map(["haus", "baum", "$haus"], _encode(tok), len(tok))
    wv = np.array([[1.0, 0.0], [0.0, 1.0], [4.0, 2.0]], dtype=np.float32)
    haus, unk = tok.convert_tokens_to_ids("\u2581haus"), tok.convert_tokens_to_ids("<unk>")
    multiset, as_set = token_vectors(twm, wv), token_vectors(twm, wv, "set")
    assert multiset.dtype == np.float64 and multiset.shape == (len(tok), 2)
    np.testing.assert_allclose(multiset[haus], [2.5, 1.0])  # (2·w0 + 2·w2) / 4
    np.testing.assert_allclose(as_set[haus], [2.5, 1.0])
    np.testing.assert_allclose(multiset[unk], [4.0, 2.0])
    B = tok.convert_tokens_to_ids("\u2581B")
    np.testing.assert_allclose(multiset[B], [0.0, 1.0])
    assert np.all(multiset[~twm.covered()] == 0)
    for t in range(twm.num_tokens):  # brute force
        words, m = twm.words_of(t), twm.multiplicity[twm.indptr[t] : twm.indptr[t + 1]]
        if len(words):
            np.testing.assert_allclose(multiset[t], wv[np.repeat(words, m)].mean(0))
            np.testing.assert_allclose(as_set[t], wv[words].mean(0))
    with pytest.raises(ConfigError, match="word_weighting"):
        token_vectors(twm, wv, "mean")


def test_token_word_map_checks_its_arrays():
    with pytest.raises(IncompatibleInputsError, match="multiplicities"):
        TokenWordMap(np.array([0, 2]), np.array([0, 1]), np.array([1], dtype=np.int8))


# --- the fast encoder: the ids of one tokenizer call per string ----------------------------------


def _byte_level_bpe():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<s>", "</s>", "<mask>"],
        show_progress=False,
    )
    tok.train_from_iterator(["haus baum Haus hausbaum don't ärger"] * 5, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, mask_token="<mask>", bos_token="<s>")


def _wordpiece():
    from tests.wordpiece_tiny import wordpiece_tokenizer

    return wordpiece_tokenizer(["haus", "##aus", "don", "'", "t", "arger", "."], letters="abhx")


def _xlmr():
    from tests.integration.conftest import xlmr_tokenizer

    return xlmr_tokenizer()


WORDS = ["haus", "$haus", "haus$baum", "$aus$", "don't", "ärger", "Haus.", "x", "$", "straße"]
ODD = ["", " ", "  x", "a b  c", "<mask>", "a<mask>b", "[MASK]", "<s>", "𝔘ñï😀", "中文 字", "\t\n"]
ODD += ["＜s＞"]  # NFKC makes it `<s>`, which XLM-R's model then reads as its piece, id 0


def _prefix_first():
    """A Metaspace that prefixes only where the input starts: a piece after a special token is
    not a string alone to it."""
    from tokenizers import pre_tokenizers

    tok = unigram_tokenizer(PIECES)
    tok.backend_tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first")
    return tok


@pytest.mark.parametrize(
    ("make", "joined"),
    [(unigram_tokenizer, True), (_byte_level_bpe, True), (_wordpiece, True), (_xlmr, True)]
    + [(_prefix_first, False)],
)
def test_fast_encoder_gives_the_ids_of_one_tokenizer_call_per_string(make, joined):
    tok = make(PIECES) if make is unigram_tokenizer else make()
    texts = [form for w in WORDS for form in word_variants(w)] + ODD
    alone = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    assert alone == [tok.encode(t, add_special_tokens=False) for t in texts]  # the public call
    assert _separator(tok.backend_tokenizer) is not None  # the strings go in between separators
    assert _pieces_alone(tok.backend_tokenizer) == joined  # ... of one string, or as words
    flat = pretokenized_encoder(tok.backend_tokenizer, chunk=4)(texts)  # chunks cut mid-list
    assert flat.ids.tolist() == [i for ids in alone for i in ids]
    assert flat.owners.tolist() == [j for j, ids in enumerate(alone) for _ in ids]
    assert pretokenized_encoder(tok.backend_tokenizer)([]).ids.size == 0
    special = {tok.mask_token_id} & {i for ids in alone for i in ids}
    assert special, "a special token's text gives its id, as `tokenizer.encode` does"


class _Calls:
    """A tokenizers backend that records the chunks each batch call encodes."""

    def __init__(self, backend):
        self.backend, self.calls = backend, []

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def encode_batch(self, parts, **kw):
        self.calls.append(("word_ids", [p[0] for p in parts]))
        return self.backend.encode_batch(parts, **kw)

    def encode_batch_fast(self, parts, **kw):
        if kw.get("is_pretokenized"):
            self.calls.append(("separators", [p[0] for p in parts]))
        else:
            self.calls.append(("joined", list(parts)))
        return self.backend.encode_batch_fast(parts, **kw)


@pytest.mark.parametrize("specials_as_text", [False, True])
def test_only_chunks_whose_separators_are_off_are_encoded_again(specials_as_text):
    tok = _xlmr()
    texts = ["haus", "baum", "＜s＞", "x", "a<s>b", "Haus", "don't", ""]
    call = {"add_special_tokens": False, "split_special_tokens": specials_as_text}
    alone = [tok(t, **call)["input_ids"] for t in texts]
    # a call splitting specials as text leaves that on: then there is no separator
    assert tok.backend_tokenizer.encode_special_tokens == specials_as_text
    backend = _Calls(tok.backend_tokenizer)
    flat = pretokenized_encoder(backend, chunk=2)(texts)
    assert flat.ids.tolist() == [i for ids in alone for i in ids]
    assert flat.owners.tolist() == [j for j, ids in enumerate(alone) for _ in ids]
    if specials_as_text:
        assert backend.calls == [("word_ids", ["haus", "＜s＞", "a<s>b", "don't"])]
    else:
        assert alone[2][-1] == 0 and alone[4][1] == 0  # the separator's id, from the strings
        assert backend.calls == [
            ("joined", ["haus<s>baum", "＜s＞<s>x", "a<s>b<s>Haus", "don't<s>"]),
            ("word_ids", ["＜s＞", "a<s>b"]),
        ]


def test_fast_and_per_string_encoders_build_the_same_map():
    tok = unigram_tokenizer(PIECES)
    words = ["haus", "baum", "$haus", "Haus", "$", "hausbaum", "haus$baum"] * 3
    a = build_token_word_map(words, _encode(tok), len(tok), batch_size=4)
    b = build_token_word_map(words, tokenizer_encoder(tok), len(tok), batch_size=4)
    for field in ("indptr", "indices", "multiplicity"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_wordpiece_map_equals_one_tokenizer_call_per_form():
    """`$` is a space for WordPiece too (the public code): `$aus` holds the pieces of ` aus`."""
    tok = _wordpiece()
    words = ["haus", "Haus", "hausbaum", "don't", "$aus", "$haus$", "ab$x"]
    twm = build_token_word_map(words, tokenizer_encoder(tok), len(tok))
    for row, word in enumerate(words):
        forms = [tok(f, add_special_tokens=False)["input_ids"] for f in word_variants(word)]
        expected: dict[int, int] = {}
        for ids in forms:
            for t in set(ids):
                expected[t] = expected.get(t, 0) + 1
        got = {
            t: int(twm.multiplicity[twm.indptr[t] + np.searchsorted(twm.words_of(t), row)])
            for t in range(len(tok))
            if row in twm.words_of(t)
        }
        assert got == expected, word
    assert twm.words_of(tok.convert_tokens_to_ids("##aus")).size == 0  # no continuation pieces


@pytest.mark.parametrize("encoder_first", [False, True])
def test_matching_ignores_truncation_a_previous_call_left_on_the_tokenizer(encoder_first):
    words = ["haus", "baum", "$haus"] * 50
    tok = unigram_tokenizer(PIECES)
    reference = build_token_word_map(words, _encode(tok), len(tok))
    encoder = tokenizer_encoder(tok) if encoder_first else None
    tok(["haus baum haus"], truncation=True, max_length=2, padding="max_length")
    twm = build_token_word_map(words, encoder or tokenizer_encoder(tok), len(tok))
    np.testing.assert_array_equal(twm.indptr, reference.indptr)
    np.testing.assert_array_equal(twm.indices, reference.indices)
    np.testing.assert_array_equal(twm.multiplicity, reference.multiplicity)
