import numpy as np

from hyperofa.match import build_token_word_map, token_vectors, word_variants
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


def test_word_variants_plain_and_word_internal():
    assert word_variants("haus") == ["haus", " haus", " Haus"]
    assert word_variants("$haus") == ["haus", "Haus"]
    assert word_variants("ärger") == ["ärger", " ärger", " Ärger"]
    assert word_variants("$") == []


def test_every_variant_contributes_its_subwords():
    tok = unigram_tokenizer(PIECES)
    ids = tok.convert_tokens_to_ids
    # row 0 = deu:haus, row 1 = deu:baum, row 2 = deu:$haus
    twm = build_token_word_map(["haus", "baum", "$haus"], _encode(tok), len(tok))
    assert set(twm.words_of(ids("\u2581haus"))) == {0, 2}  # plain and word-internal
    assert set(twm.words_of(ids("\u2581Haus"))) == {0, 2}  # capitalized variants
    # "baum" → ▁baum; " Baum" → ▁B aum
    assert set(twm.words_of(ids("\u2581baum"))) == {1}
    assert set(twm.words_of(ids("\u2581B"))) == {1}
    assert set(twm.words_of(ids("aum"))) == {1}
    assert twm.words_of(ids("aus")).size == 0
    assert twm.degree().sum() == len(twm.indices)
    # rows are sorted and unique
    for t in range(twm.num_tokens):
        w = twm.words_of(t)
        assert np.all(np.diff(w) > 0)


def test_token_vectors_are_means_of_word_vectors():
    tok = unigram_tokenizer(PIECES)
    twm = build_token_word_map(["haus", "baum", "$haus"], _encode(tok), len(tok))
    wv = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 2.0]], dtype=np.float32)
    vec, has = token_vectors(twm, wv)
    haus = tok.convert_tokens_to_ids("\u2581haus")
    np.testing.assert_allclose(vec[haus], [2.0, 1.0])
    assert has[haus] and not has[tok.convert_tokens_to_ids("aus")]
    assert np.all(vec[~has] == 0)
    # brute force over every token
    for t in range(twm.num_tokens):
        words = twm.words_of(t)
        if len(words):
            np.testing.assert_allclose(vec[t], wv[words].mean(0), rtol=1e-6)


def _byte_level_bpe():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator(["haus baum Haus hausbaum don't ärger"] * 5, trainer)
    return tok


def _wordpiece():
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    vocab = ["[UNK]", "haus", "##aus", "h", "don", "'", "t", "arger", ".", "a", "b", "x"]
    tok = Tokenizer(models.WordPiece({p: i for i, p in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return tok


def test_pretokenized_encoder_gives_the_ids_of_one_call_per_string():
    from hyperofa.match import pretokenized_encoder

    texts = ["haus", " haus", "", " Haus", "a b", "don't", "ärger", "Haus.", "  x", "baum"]
    for backend in (unigram_tokenizer(PIECES).backend_tokenizer, _byte_level_bpe(), _wordpiece()):
        alone = [backend.encode(t, add_special_tokens=False).ids for t in texts]
        flat = pretokenized_encoder(backend, chunk=4)(texts)  # several chunks, one cut mid-list
        assert flat.ids.tolist() == [i for ids in alone for i in ids]
        assert flat.owners.tolist() == [j for j, ids in enumerate(alone) for _ in ids]
    assert pretokenized_encoder(_wordpiece())([]).ids.size == 0


def test_flat_and_per_string_encoders_build_the_same_map():
    from hyperofa.match import tokenizer_encoders

    tok = unigram_tokenizer(PIECES)
    words = ["haus", "baum", "$haus", "Haus", "$", "hausbaum"] * 3
    fast, _ = tokenizer_encoders(tok)
    a = build_token_word_map(words, _encode(tok), len(tok), batch_size=4)
    b = build_token_word_map(words, fast, len(tok), batch_size=4)
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)


# --- WordPiece -----------------------------------------------------------------------------------

# `haus` is a word; inside a word it is `##ha ##us`; `baum` has both forms
WORDPIECE = ["haus", "##ha", "##us", "baum", "##baum", "'", "t", "##t", "don"]


def _wordpiece_map(words: list[str]):
    from hyperofa.match import tokenizer_encoders
    from tests.wordpiece_tiny import wordpiece_tokenizer

    tok = wordpiece_tokenizer(WORDPIECE, letters="abdhmnostu")
    plain, internal = tokenizer_encoders(tok)
    assert internal is not None
    return tok, build_token_word_map(words, plain, len(tok), encode_internal=internal)


def test_wordpiece_word_internal_keys_collect_continuation_pieces():
    tok, twm = _wordpiece_map(["haus", "$haus", "baum", "$baum"])
    ids = tok.convert_tokens_to_ids
    assert set(twm.words_of(ids("haus"))) == {0}  # plain (and capitalized: uncased) only
    assert set(twm.words_of(ids("##ha"))) == {1} and set(twm.words_of(ids("##us"))) == {1}
    assert set(twm.words_of(ids("baum"))) == {2} and set(twm.words_of(ids("##baum"))) == {3}
    assert twm.words_of(ids("h")).size == 0 and twm.words_of(ids("##h")).size == 0


def test_wordpiece_word_internal_punctuation_starts_words_of_its_own():
    # BERT splits `'` off: in `don't` the `t` is word-initial, so `$'t` holds `'` and `t`, not `##t`
    tok, twm = _wordpiece_map(["$'t", "$t"])
    ids = tok.convert_tokens_to_ids
    assert set(twm.words_of(ids("'"))) == {0} and set(twm.words_of(ids("t"))) == {0}
    assert set(twm.words_of(ids("##t"))) == {1}
    assert plain_ids(tok, "don't") == ids(["don", "'", "t"])


def plain_ids(tok, text: str) -> list[int]:
    return tok(text, add_special_tokens=False)["input_ids"]


def test_wordpiece_map_equals_one_tokenizer_call_per_variant():
    """Brute force: a plain word holds the tokens of its variants, each tokenized alone; a `$` word
    those of `t<word>` after its first piece (no piece but `t` starts with t, so the rest of the
    word is segmented as a continuation)."""
    words = ["haus", "Haus", "hausbaum", "don't", "tot", "$baum", "$us", "$hadt", "$Hausbaum"]
    tok, twm = _wordpiece_map(words)
    for row, word in enumerate(words):
        if word.startswith("$"):
            expected = set(plain_ids(tok, "t" + word[1:])[1:])
        else:
            expected = {i for v in word_variants(word) for i in plain_ids(tok, v)}
        assert {t for t in range(len(tok)) if row in twm.words_of(t)} == expected, word


def test_unigram_tokenizers_get_no_word_internal_encoder():
    from hyperofa.match import tokenizer_encoders

    assert tokenizer_encoders(unigram_tokenizer(PIECES))[1] is None


def test_matching_ignores_truncation_a_previous_call_left_on_the_tokenizer():
    from hyperofa.match import tokenizer_encoders

    words = ["haus", "baum", "$haus"] * 50
    tok = unigram_tokenizer(PIECES)
    reference = build_token_word_map(words, _encode(tok), len(tok))
    tok(["haus baum haus"], truncation=True, max_length=2, padding="max_length")
    plain, internal = tokenizer_encoders(tok)
    twm = build_token_word_map(words, plain, len(tok), encode_internal=internal)
    np.testing.assert_array_equal(twm.indptr, reference.indptr)
    np.testing.assert_array_equal(twm.indices, reference.indices)
