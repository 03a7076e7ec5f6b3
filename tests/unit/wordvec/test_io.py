"""Word-vector files: round trips, format sniffing, and a named error for each malformed case."""

from __future__ import annotations

import numpy as np
import pytest

from hyperofa.errors import BadFileError, IncompatibleInputsError, MissingPathError
from hyperofa.wordvec.io import (
    WordVectors,
    key_words,
    load_word_vectors,
    peek_word_vectors,
    save_word_vectors,
    split_key,
)

KEYS = ["eng:house", "deu:haus", "deu:$haus", "hin:हिन्दी", "fra:l'été"]


@pytest.fixture
def wv() -> WordVectors:
    rng = np.random.default_rng(0)
    return WordVectors(list(KEYS), rng.standard_normal((len(KEYS), 7)).astype(np.float32) * 3)


def write(tmp_path, text: str, name: str = "v.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip_is_exact(tmp_path, wv, binary, suffix):
    path = save_word_vectors(wv, tmp_path / f"v.w2v{suffix}", binary=binary)
    assert peek_word_vectors(path) == (5, 7)
    for fmt in ("auto", "word2vec_binary" if binary else "word2vec"):
        back = load_word_vectors(path, fmt=fmt, expected_dim=7)
        assert back.keys == wv.keys
        np.testing.assert_array_equal(back.vectors, wv.vectors)
    assert not list(tmp_path.glob(".*tmp*"))  # the temp file was renamed, not left behind


@pytest.mark.parametrize(
    "keys",
    [
        ["deu:$haus", "eng:a:b", "xyz:", "eng:wo rd"],  # all prefixed: the sliced path
        ["deu:haus", "house", "eng:x"],  # one without a prefix
        ["deu:haus", "abcd:x", "Eng:y"],  # prefixes that only look like one
        ["deu:a\nxyz:b", "eng:c"],  # a newline inside a key hides nothing
        ["deu:a", ""],  # an empty last key
        [],
    ],
)
def test_key_words_are_split_keys_words(keys):
    assert key_words(keys) == [split_key(k)[1] for k in keys]


def test_word_vectors_container(wv):
    assert (len(wv), wv.dim) == (5, 7)
    assert wv.index["deu:$haus"] == 2
    assert split_key("deu:$haus") == ("deu", "$haus")
    assert split_key("house") == ("eng", "house")
    with pytest.raises(IncompatibleInputsError, match="keys"):
        WordVectors(["eng:a"], np.zeros((2, 3)))


def test_reads_what_gensim_writes(tmp_path, wv):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=wv.dim)
    kv.add_vectors(wv.keys, wv.vectors)
    for binary in (False, True):
        path = tmp_path / f"g{int(binary)}.bin"
        kv.save_word2vec_format(str(path), binary=binary)
        back = load_word_vectors(path)
        assert back.keys == wv.keys
        np.testing.assert_allclose(back.vectors, wv.vectors, rtol=1e-6)


def test_trailing_spaces_and_crlf_are_accepted(tmp_path):
    path = write(tmp_path, "2 2\r\neng:a 1 2 \r\neng:b 3 4\r\n\n")
    np.testing.assert_array_equal(load_word_vectors(path).vectors, [[1, 2], [3, 4]])


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("2 x\neng:a 1 2\n", 1, "count dim"),
        ("eng:a 1 2\n", 1, "count dim"),
        ("2 2\neng:a 1 2\neng:b 3\n", 3, "1 values after the key; expected 2"),
        ("2 2\neng:a 1 2 5\neng:b 3 4\n", 2, "3 values after the key; expected 2"),
        ("2 2\neng:a 1 2\neng:b 3 x4\n", 3, "not a number"),
        ("3 2\neng:a 1 2\neng:b 3 4\n", 4, "2 rows; the header says 3"),
        ("1 2\neng:a 1 2\neng:b 3 4\n", 3, "more rows than the header's 1"),
        ("2 2\neng:a 1 2\n\neng:b 3 4\n", 3, "blank line"),
        ("2 2\neng:a 1 2\neng:a 3 4\n", None, "duplicate key 'eng:a'"),
        ("2 2\neng:a 1 2\neng:b nan 4\n", None, "NaN"),
    ],
)
def test_malformed_text_files_name_the_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(BadFileError, match=message) as err:
        load_word_vectors(path, fmt="word2vec")
    assert err.value.line == line
    assert str(path) in str(err.value)
    if line is not None:
        assert f"{path}:{line}:" in str(err.value)


def test_malformed_binary_files(tmp_path, wv):
    path = save_word_vectors(wv, tmp_path / "v.bin", binary=True)
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(BadFileError, match="record 5 is cut short"):
        load_word_vectors(path, fmt="word2vec_binary")
    path.write_bytes(data + b"eng:extra " + bytes(28))
    with pytest.raises(BadFileError, match="more rows than the header"):
        load_word_vectors(path)


def test_unprefixed_keys_are_an_error_or_english(tmp_path):
    path = write(tmp_path, "3 2\ndeu:haus 1 2\nhouse 3 4\n$ing 5 6\n")
    with pytest.raises(BadFileError, match="'house' .2 such keys. lacks a 3-letter") as err:
        load_word_vectors(path)
    assert err.value.line == 3 and "unprefixed_keys: english" in str(err.value)
    wv = load_word_vectors(path, unprefixed_keys="english")
    assert wv.keys == ["deu:haus", "eng:house", "eng:$ing"]


def test_expected_dim_mismatch(tmp_path):
    path = write(tmp_path, "1 2\neng:a 1 x\n")  # the header alone decides: rows are not read
    with pytest.raises(IncompatibleInputsError, match=r"v.txt:1: .*dimension 2, expected 3"):
        load_word_vectors(path, expected_dim=3)


def test_missing_file(tmp_path):
    with pytest.raises(MissingPathError, match="word vectors"):
        load_word_vectors(tmp_path / "absent.wv")


def test_gensim_pickle_needs_trust(tmp_path, wv):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=wv.dim)
    kv.add_vectors(wv.keys, wv.vectors)
    path = tmp_path / "colex.wv"
    kv.save(str(path))
    with pytest.raises(BadFileError, match="trust_pickle: true") as err:
        load_word_vectors(path)
    assert "word2vec format" in str(err.value)
    back = load_word_vectors(path, trust_pickle=True)
    assert back.keys == wv.keys
    np.testing.assert_array_equal(back.vectors, wv.vectors)


def test_peek_a_gensim_pickle_through_its_vectors_file(tmp_path):
    path = tmp_path / "big.wv"
    path.write_bytes(b"\x80\x04not really a pickle")
    np.save(tmp_path / "big.wv.vectors.npy", np.zeros((4, 3), dtype=np.float32))
    assert peek_word_vectors(path) == (4, 3)  # no unpickling happened


def test_save_refuses_keys_with_whitespace(tmp_path):
    wv = WordVectors(["eng:new york"], np.zeros((1, 2), dtype=np.float32))
    with pytest.raises(BadFileError, match="whitespace"):
        save_word_vectors(wv, tmp_path / "v.txt")
    assert not list(tmp_path.iterdir())
