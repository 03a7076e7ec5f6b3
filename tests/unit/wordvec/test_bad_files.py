"""Bad word-vector files each raise one named error naming the file and what was expected; good
files that used to be refused (binary under an explicit text format, small gensim models) load."""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import yaml

from hyperofa.errors import BadFileError, ConfigError, EmptyInputError, MissingPathError
from hyperofa.wordvec.io import (
    WordVectors,
    load_word_vectors,
    peek_word_vectors,
    save_word_vectors,
)
from tests.unprivileged import run_unprivileged, shared_tmp

CONF = Path(__file__).resolve().parents[3] / "conf" / "word_vectors"
BOTH = pytest.mark.parametrize("read", [peek_word_vectors, load_word_vectors])


def small() -> WordVectors:
    vectors = np.array([[1.5, -2.0, 3e-5], [7.0, 8.0, -9.25]], dtype=np.float32)
    return WordVectors(["eng:a", "deu:b"], vectors)


def gensim_file(path: Path, wv: WordVectors, sidecar: bool) -> Path:
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=wv.dim)
    if len(wv):
        kv.add_vectors(wv.keys, wv.vectors)
    # sep_limit: arrays above it go to `<name>.vectors.npy`; small models keep them in the pickle
    kv.save(str(path), sep_limit=0 if sidecar else 10**9)
    assert path.with_name(path.name + ".vectors.npy").exists() == sidecar
    return path


def raises(error: type[Exception], call, path: Path, *expected: str) -> Exception:
    """`call()` raises exactly `error`, whose message names `path` and each `expected` text."""
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error
    message = str(info.value)
    assert str(path) in message, message
    for text in expected:
        assert text in message, message
    return info.value


@BOTH
def test_gz_name_without_gzip_data(tmp_path, read):
    path = tmp_path / "v.txt.gz"
    path.write_text("1 2\neng:a 1 2\n")
    raises(BadFileError, lambda: read(path), path, "not gzip data", "expected a gzip file")


def test_truncated_gzip(tmp_path):
    path = save_word_vectors(small(), tmp_path / "v.txt.gz")
    path.write_bytes(path.read_bytes()[:-12])
    raises(BadFileError, lambda: load_word_vectors(path), path, "cut short", "expected a whole")


@BOTH
def test_directory_instead_of_a_file(tmp_path, read):
    save_word_vectors(small(), tmp_path / "inside.bin", binary=True)
    err = raises(
        BadFileError, lambda: read(tmp_path), tmp_path, "a directory", "expected a word2vec"
    )
    assert "inside.bin" in str(err)  # names the file the user probably meant


def test_fifo_is_not_a_regular_file(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    raises(BadFileError, lambda: load_word_vectors(path), path, "not a regular file")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (np.array([{"a": 1}, None], dtype=object), "Python objects"),
        (np.zeros(4, dtype=np.float32), "shape (4,)"),
        (np.zeros((2, 3), dtype=np.int64), "int64"),
        (b"not an npy file", "not a readable .npy array"),
    ],
)
def test_bad_gensim_sidecar_is_named(tmp_path, content, problem):
    path = gensim_file(tmp_path / "g.wv", small(), sidecar=True)
    npy = tmp_path / "g.wv.vectors.npy"
    if isinstance(content, bytes):
        npy.write_bytes(content)
    else:
        np.save(npy, content, allow_pickle=True)
    expected = "expected gensim's float vectors of shape (count, dim)"
    raises(BadFileError, lambda: peek_word_vectors(path), npy, problem, expected)
    raises(BadFileError, lambda: load_word_vectors(path, trust_pickle=True), npy, problem)


@pytest.mark.parametrize("suffix", [".txt", ".bin", ".txt.gz"])
def test_header_of_zero_vectors(tmp_path, suffix):
    path = tmp_path / f"v{suffix}"
    (gzip.open if suffix.endswith(".gz") else open)(path, "wb").write(b"0 100\n")
    for read in (peek_word_vectors, load_word_vectors):
        raises(EmptyInputError, lambda r=read: r(path), path, "0 word vectors", "at least one")


@pytest.mark.parametrize("sidecar", [False, True])
def test_empty_gensim_model(tmp_path, sidecar):
    path = gensim_file(tmp_path / "e.wv", WordVectors([], np.zeros((0, 3))), sidecar)
    for read in (peek_word_vectors, load_word_vectors):
        call = lambda r=read: r(path, trust_pickle=True)  # noqa: E731
        raises(EmptyInputError, call, path, "0 word vectors", "at least one")


def test_binary_file_under_the_defaults_loads(tmp_path):
    path = save_word_vectors(small(), tmp_path / "v.bin", binary=True)
    for group in sorted(CONF.glob("*.yaml")):
        fmt = yaml.safe_load(group.read_text())["format"]
        assert fmt == "auto", group
        assert peek_word_vectors(path, fmt) == (2, 3)
        np.testing.assert_array_equal(load_word_vectors(path, fmt).vectors, small().vectors)


@pytest.mark.parametrize(
    ("kind", "fmt", "looks_like"),
    [
        ("binary", "word2vec", "word2vec_binary"),
        ("text", "word2vec_binary", "word2vec"),
        ("text", "gensim", "word2vec"),
        ("gensim", "word2vec", "gensim"),
        ("gensim", "word2vec_binary", "gensim"),
    ],
)
@BOTH
def test_explicit_format_the_bytes_contradict(tmp_path, kind, fmt, looks_like, read):
    if kind == "gensim":
        path = gensim_file(tmp_path / "g.wv", small(), sidecar=True)
    else:
        path = save_word_vectors(small(), tmp_path / "v.w2v", binary=kind == "binary")
    err = raises(
        ConfigError,
        lambda: read(path, fmt),
        path,
        "looks like",
        f"set `word_vectors.format: {looks_like}` (or `auto`)",
    )
    assert err.key == "word_vectors.format" and err.value == fmt


def test_explicit_format_is_kept_when_the_bytes_cannot_tell(tmp_path):
    path = tmp_path / "short.bin"
    path.write_bytes(b"1 3\neng:a 1 2 3")  # one text line, or the start of a binary record
    assert load_word_vectors(path, "word2vec").keys == ["eng:a"]
    raises(BadFileError, lambda: load_word_vectors(path, "word2vec_binary"), path, "cut short")


@pytest.mark.parametrize("dim", [1, 2, 3, 8])
def test_auto_tells_binary_from_text_for_tiny_dimensions(tmp_path, dim):
    rng = np.random.default_rng(dim)
    for trial in range(40):
        scale = [1e-3, 1.0, 100.0][trial % 3]
        vectors = (rng.standard_normal((2, dim)) * scale).astype(np.float32)
        wv = WordVectors(["eng:a", "deu:b"], vectors)
        for binary in (False, True):
            path = save_word_vectors(wv, tmp_path / f"v{int(binary)}", binary=binary)
            np.testing.assert_array_equal(load_word_vectors(path).vectors, vectors)


def test_trusted_gensim_without_sidecar_peeks_by_loading(tmp_path):
    path = gensim_file(tmp_path / "small.wv", small(), sidecar=False)
    assert peek_word_vectors(path, trust_pickle=True) == (2, 3)
    assert load_word_vectors(path, "gensim", trust_pickle=True).keys == small().keys
    raises(BadFileError, lambda: peek_word_vectors(path), path, "trust_pickle: true", "word2vec")


@pytest.mark.parametrize(
    ("data", "line", "expected"),
    [
        (b"1 3\neng:new york 1 2 3\n", 2, "space inside the key 'eng:new york'"),
        (b"1 3\neng:a 0x1 2 3\n", 2, "'0x1' is not a number; expected 3 floats"),
        (b"1 3\n eng:a 1 2 3\n", 2, "empty key or blank line; expected 'key v1"),
        (b"1 3\neng:\xff 1 2 3\n", 2, "not valid UTF-8"),
        (b"2.0 3\neng:a 1 2 3\n", 1, "expected 'count dim' (two integers)"),
        (b"1 x\neng:a 1 2 3\n", 1, "expected 'count dim' (two integers)"),
        (b"99999999999999999999 3\neng:a 1 2 3\n", 1, "the file is too small"),
        (b"1 99999999999999\neng:a 1 2 3\n", 1, "the file is too small"),
    ],
)
def test_malformed_text_is_named_under_auto(tmp_path, data, line, expected):
    path = tmp_path / "v.txt"
    path.write_bytes(data)
    err = raises(BadFileError, lambda: load_word_vectors(path), path, expected)
    assert err.line == line


def test_header_the_file_cannot_hold_fails_at_peek(tmp_path):
    path = tmp_path / "v.bin.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"99999999999999999999 300\n")
    raises(BadFileError, lambda: peek_word_vectors(path), path, "too small")


def test_byte_order_mark_and_tabs_are_accepted(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"\xef\xbb\xbf2 2\neng:a\t1 2\ndeu:b 3\t4\n")
    wv = load_word_vectors(path)
    assert wv.keys == ["eng:a", "deu:b"]
    np.testing.assert_array_equal(wv.vectors, [[1, 2], [3, 4]])


@pytest.mark.parametrize(
    ("locked", "expected"),
    [("file", "cannot be read (Permission denied)"), ("dir", "cannot be accessed")],
)
def test_a_file_this_user_may_not_read(locked, expected):
    with shared_tmp() as top:
        path = save_word_vectors(small(), top / "d" / "v.txt")
        (path if locked == "file" else path.parent).chmod(0)
        for read in (peek_word_vectors, load_word_vectors):
            kind, message = run_unprivileged(lambda r=read: r(path))
            assert kind == "BadFileError" and str(path) in message and expected in message


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (pickle.dumps({"a": 1}, protocol=4), "expected KeyedVectors saved by gensim"),
        (b"\x80\x04 not a pickle at all", "cannot be loaded as a gensim model"),
    ],
)
def test_trusted_pickle_that_is_not_keyed_vectors(tmp_path, payload, expected):
    path = tmp_path / "x.wv"
    path.write_bytes(payload)
    raises(BadFileError, lambda: load_word_vectors(path, trust_pickle=True), path, expected)
    raises(BadFileError, lambda: peek_word_vectors(path, trust_pickle=True), path, expected)


def test_trusted_gensim_whose_sidecar_disagrees_with_its_keys(tmp_path):
    path = gensim_file(tmp_path / "g.wv", small(), sidecar=True)
    np.save(tmp_path / "g.wv.vectors.npy", np.zeros((5, 3), dtype=np.float32))
    call = lambda: load_word_vectors(path, trust_pickle=True)  # noqa: E731
    raises(BadFileError, call, path, "2 keys but float32 vectors of shape (5, 3)", "(2, dim)")


def test_trusted_gensim_with_integer_keys(tmp_path):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=2)
    kv.add_vectors([7, 8], np.ones((2, 2), dtype=np.float32))
    kv.save(str(tmp_path / "i.wv"))
    path = tmp_path / "i.wv"
    raises(BadFileError, lambda: load_word_vectors(path, trust_pickle=True), path, "str keys")


def test_missing_file_stays_missing(tmp_path):
    path = tmp_path / "absent.wv"
    raises(MissingPathError, lambda: peek_word_vectors(path), path, "no such path")


def test_saved_file_gets_the_umask_mode_not_mkstemps(tmp_path):
    from hyperofa.artifacts import default_mode

    path = save_word_vectors(small(), tmp_path / "v.txt")
    assert path.stat().st_mode & 0o777 == default_mode()
