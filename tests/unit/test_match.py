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
