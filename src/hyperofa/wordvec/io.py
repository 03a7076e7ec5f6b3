"""Word-vector files: word2vec text/binary (ours, converted ColexNet+) and gensim pickles (.wv).

Keys are `lang:word` (ISO 639-3 prefix; a leading `$` in the word marks a word-internal piece).
Every malformed input raises a named error giving the file, the line (text) or record (binary)
and what was expected, before the caller starts heavy work. The readers live in `word2vec` and
`gensim_kv`, format sniffing in `files`; this module is the public API.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hyperofa.artifacts import default_mode
from hyperofa.errors import BadFileError, ConfigError, IncompatibleInputsError
from hyperofa.wordvec.files import (
    FORMATS,
    check_size,
    open_vectors,
    read_header,
    require_file,
    resolve_format,
)
from hyperofa.wordvec.gensim_kv import peek_gensim, read_gensim
from hyperofa.wordvec.word2vec import read_binary, read_text, write_binary, write_text

__all__ = [
    "FORMATS",
    "WordVectors",
    "load_word_vectors",
    "peek_word_vectors",
    "save_word_vectors",
    "key_words",
    "split_key",
]
UNPREFIXED_POLICIES = ("error", "english")
_PREFIX = re.compile(r"[a-z]{3}:")
_LINE_WITHOUT_PREFIX = re.compile(rf"(?m)^(?!{_PREFIX.pattern})")


@dataclass(eq=False)
class WordVectors:
    """`keys[i]` (`lang:word`) has the vector `vectors[i]`; vectors is float32 (N, d)."""

    keys: list[str]
    vectors: np.ndarray
    _index: dict[str, int] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.vectors = np.asarray(self.vectors, dtype=np.float32)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.keys):
            raise IncompatibleInputsError(
                f"{len(self.keys)} keys but vectors of shape {self.vectors.shape}; "
                "expected (len(keys), dim)"
            )

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def index(self) -> dict[str, int]:
        """key → row, built on first use."""
        if self._index is None:
            self._index = {k: i for i, k in enumerate(self.keys)}
        return self._index

    def __len__(self) -> int:
        return len(self.keys)


def split_key(key: str) -> tuple[str, str]:
    """`"deu:haus"` → `("deu", "haus")`; a key without a 3-letter prefix is English."""
    if _PREFIX.match(key):
        return key[:3], key[4:]
    return "eng", key


def key_words(keys: list[str]) -> list[str]:
    """`split_key(k)[1]` of every key. Where all keys have their `lang:` prefix (a loaded table's
    do), one regex pass over the keys joined by newlines shows it, and the words are slices."""
    joined = "\n".join(keys)
    if joined.count("\n") == len(keys) - 1 and not _LINE_WITHOUT_PREFIX.search(joined):
        return [k[4:] for k in keys]
    return [split_key(k)[1] for k in keys]


def _apply_prefix_policy(keys: list[str], policy: str, path: Path, binary: bool) -> list[str]:
    bad = [i for i, k in enumerate(keys) if not _PREFIX.match(k)]
    if not bad:
        return keys
    if policy == "english":
        keys = list(keys)
        for i in bad:
            keys[i] = "eng:" + keys[i]
        return keys
    where = (None, f"record {bad[0] + 1}: ") if binary else (bad[0] + 2, "")
    raise BadFileError(
        path,
        f"{where[1]}key {keys[bad[0]][:60]!r} ({len(bad)} such keys) lacks a 3-letter 'xxx:' "
        "language prefix; set `word_vectors.unprefixed_keys: english` to read them as English",
        where[0],
    )


def _check_dim(path: Path, dim: int, expected_dim: int | None) -> None:
    if expected_dim is not None and dim != expected_dim:
        raise IncompatibleInputsError(
            f"{path}:1: word vectors of dimension {dim}, expected {expected_dim}"
        )


def peek_word_vectors(
    path: str | Path, fmt: str = "auto", trust_pickle: bool = False
) -> tuple[int, int]:
    """(count, dim) of a word-vector file, cheaply, with every check that needs no full read.

    word2vec: the header (and the file size it implies). gensim: the `.vectors.npy` sidecar's
    header; a small model without one is loaded when `trust_pickle`, else refused. Raises
    EmptyInputError for a file of 0 vectors, ConfigError when an explicit `fmt` contradicts the
    file's bytes.
    """
    path = require_file(path)
    fmt = resolve_format(path, fmt)
    return peek_gensim(path, trust_pickle) if fmt == "gensim" else _peek_word2vec(path, fmt)


def _peek_word2vec(path: Path, fmt: str) -> tuple[int, int]:
    with open_vectors(path) as f:
        count, dim = read_header(f, path)
    check_size(path, count, dim, 2 * dim if fmt == "word2vec" else 4 * dim + 2)
    return count, dim


def _check_loaded(keys: list[str], vectors: np.ndarray, path: Path, expected_dim: int | None):
    _check_dim(path, vectors.shape[1], expected_dim)
    if len(set(keys)) != len(keys):
        seen: set[str] = set()
        dup = next(i for i, k in enumerate(keys) if k in seen or seen.add(k))
        raise BadFileError(
            path, f"duplicate key {keys[dup]!r} (row {dup + 1}); keys must be unique"
        )
    row_sums = vectors.sum(axis=1, dtype=np.float64)  # NaN/inf propagate; no (N, d) temporary
    if not np.isfinite(row_sums).all():
        row = int(np.flatnonzero(~np.isfinite(row_sums))[0])
        raise BadFileError(path, f"row {row + 1} ({keys[row]!r}) holds NaN or infinity")


def load_word_vectors(
    path: str | Path,
    fmt: str = "auto",
    unprefixed_keys: str = "error",
    expected_dim: int | None = None,
    trust_pickle: bool = False,
) -> WordVectors:
    """Read word vectors (N keys, float32 (N, d)) from a word2vec text/binary file or a gensim pickle.

    `fmt="auto"` sniffs the first bytes; an explicit `fmt` the bytes contradict raises ConfigError
    naming the format the file looks like. `.gz` files are read through gzip. Keys lacking a
    `xxx:` prefix raise, or with `unprefixed_keys="english"` become `eng:<key>`. A gensim pickle
    is read only with `trust_pickle`. Malformed content raises BadFileError, no vectors
    EmptyInputError.
    """
    if unprefixed_keys not in UNPREFIXED_POLICIES:
        raise ConfigError("word_vectors.unprefixed_keys", unprefixed_keys, str(UNPREFIXED_POLICIES))
    path = require_file(path)
    fmt = resolve_format(path, fmt)
    if fmt == "gensim":
        keys, vectors = read_gensim(path, trust_pickle)
    else:
        _check_dim(path, _peek_word2vec(path, fmt)[1], expected_dim)  # before the heavy read
        keys, vectors = (read_text if fmt == "word2vec" else read_binary)(path)
    _check_loaded(keys, vectors, path, expected_dim)
    keys = _apply_prefix_policy(keys, unprefixed_keys, path, fmt != "word2vec")
    return WordVectors(keys, vectors)


def save_word_vectors(wv: WordVectors, path: str | Path, binary: bool = False) -> Path:
    """Write `wv` in word2vec format (text with `%.9g`, exact for float32; or binary), atomically."""
    path = Path(path)
    if bad := next((k for k in wv.keys if not k or len(k.split()) != 1 or k != k.strip()), None):
        raise BadFileError(
            path, f"key {bad!r} is empty or holds whitespace; word2vec cannot store it"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
    os.close(fd)
    try:
        with (gzip.open if path.suffix == ".gz" else open)(tmp, "wb") as f:
            f.write(f"{len(wv)} {wv.dim}\n".encode())
            (write_binary if binary else write_text)(f, wv.keys, wv.vectors)
        os.chmod(tmp, default_mode())  # mkstemp's 0600 would hide the file from other users
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
