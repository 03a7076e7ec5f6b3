"""Word-vector files: word2vec text/binary (ours, converted ColexNet+) and gensim pickles (.wv).

Keys are `lang:word` (ISO 639-3 prefix; a leading `$` in the word marks a word-internal piece).
Every malformed input raises a named error giving the file, the line (text) or record (binary)
and what was expected, before the caller starts heavy work.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from hyperofa.errors import BadFileError, ConfigError, IncompatibleInputsError, require_path

FORMATS = ("auto", "word2vec", "word2vec_binary", "gensim")
UNPREFIXED_POLICIES = ("error", "english")
_PREFIX = re.compile(r"[a-z]{3}:")
_TEXT_BYTES = frozenset(b"0123456789.-+eE \t\rnaifNAIF")
_CHUNK_BYTES = 1 << 24
_PICKLE_MAGIC = b"\x80"
_LOADTXT = {"dtype": np.float32, "comments": None, "delimiter": " ", "quotechar": None, "ndmin": 2}


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


def _open(path: Path, mode: str = "rb") -> IO[bytes]:
    return gzip.open(path, mode) if path.suffix == ".gz" else open(path, mode)


def _read_header(f: IO[bytes], path: Path) -> tuple[int, int]:
    line = f.readline(1024)
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        shown = line[:80].decode("utf-8", "replace").rstrip("\n")
        raise BadFileError(path, f"header {shown!r}; expected 'count dim' (two integers)", 1)
    count, dim = int(parts[0]), int(parts[1])
    if dim == 0:
        raise BadFileError(path, "header says dimension 0; expected a positive dimension", 1)
    return count, dim


def _sniff(path: Path) -> str:
    """Which of word2vec / word2vec_binary / gensim the file holds, from its first bytes."""
    with _open(path) as f:
        if f.read(1) == _PICKLE_MAGIC:
            return "gensim"
        f.seek(0)
        _, dim = _read_header(f, path)
        sample = f.read(4 * dim + 4096)
    space = sample.find(b" ")
    newline = sample.find(b"\n", space + 1)
    values = sample[space + 1 : newline if newline >= 0 else len(sample)]
    # a binary float32 row breaks the text charset within 4 bytes (sign/exponent byte)
    looks_text = values.strip() and set(values) <= _TEXT_BYTES
    if looks_text and (len(values) >= 8 or len(values.split()) == dim):
        return "word2vec"
    return "word2vec_binary"


def _resolve_format(path: Path, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ConfigError("word_vectors.format", fmt, f"one of {FORMATS}")
    return _sniff(path) if fmt == "auto" else fmt


def peek_word_vectors(path: str | Path, fmt: str = "auto") -> tuple[int, int]:
    """(count, dim) from the header alone (for a gensim pickle: from its `.vectors.npy`)."""
    path = require_path(path, "word vectors", "a word2vec or gensim file")
    if _resolve_format(path, fmt) == "gensim":
        sidecar = path.with_name(path.name + ".vectors.npy")
        if not sidecar.is_file():
            raise BadFileError(path, f"gensim pickle without {sidecar.name}; cannot peek safely")
        count, dim = np.load(sidecar, mmap_mode="r").shape
        return int(count), int(dim)
    with _open(path) as f:
        return _read_header(f, path)


def _check_size(path: Path, count: int, dim: int, min_row_bytes: int) -> None:
    if path.suffix != ".gz" and count * min_row_bytes > path.stat().st_size:
        raise BadFileError(
            path, f"header says {count} rows of dimension {dim}, the file is too small for that", 1
        )


def _decode(lines: list[bytes], path: Path, first_line: int) -> list[str]:
    try:
        return b"".join(lines).decode("utf-8").split("\n")[: len(lines)]
    except UnicodeDecodeError:
        for i, line in enumerate(lines):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as err:
                raise BadFileError(
                    path, f"not valid UTF-8 ({err.reason})", first_line + i
                ) from None
        raise


def _parse_rows(rows: list[str], dim: int, path: Path, first_line: int) -> tuple[list, np.ndarray]:
    """Keys and (len(rows), dim) float32 values of text rows `key v1 … vdim`."""
    keys = [row.partition(" ")[0] for row in rows]
    if not all(keys):
        empty = keys.index("")
        raise BadFileError(
            path, "empty key or blank line; expected 'key v1 … vd'", first_line + empty
        )
    for i, row in enumerate(rows):
        if row.count(" ") != dim and len(row.split()) != dim + 1:
            n = len(row.split()) - 1
            raise BadFileError(path, f"{n} values after the key; expected {dim}", first_line + i)
    try:
        values = np.loadtxt(rows, usecols=range(1, dim + 1), **_LOADTXT)
    except ValueError:
        values = _parse_rows_slowly(rows, dim, path, first_line)
    return keys, values


def _parse_rows_slowly(rows: list[str], dim: int, path: Path, first_line: int) -> np.ndarray:
    """Row by row, to name the line holding a non-number (or to accept repeated spaces)."""
    out = np.empty((len(rows), dim), dtype=np.float32)
    for i, row in enumerate(rows):
        rest = row.partition(" ")[2]
        try:
            out[i] = np.fromstring(rest, dtype=np.float32, sep=" ")
        except ValueError:
            raise BadFileError(
                path,
                f"not a number in {rest.strip()[:60]!r}; expected {dim} floats",
                first_line + i,
            ) from None
    return out


def _read_text(path: Path) -> tuple[list[str], np.ndarray]:
    with _open(path) as f:
        count, dim = _read_header(f, path)
        _check_size(path, count, dim, 2 * dim)
        keys: list[str] = []
        vectors = np.empty((count, dim), dtype=np.float32)
        while lines := f.readlines(_CHUNK_BYTES):
            first = len(keys) + 2
            rows = _decode(lines, path, first)
            take = min(len(rows), count - len(keys))
            block_keys, block = _parse_rows(rows[:take], dim, path, first) if take else ([], None)
            if any(r.strip() for r in rows[take:]):
                extra = take + next(i for i, r in enumerate(rows[take:]) if r.strip())
                raise BadFileError(path, f"more rows than the header's {count}", first + extra)
            if take:
                vectors[len(keys) : len(keys) + take] = block
            keys.extend(block_keys)
    if len(keys) < count:
        raise BadFileError(path, f"{len(keys)} rows; the header says {count}", len(keys) + 2)
    return keys, vectors


def _binary_key(raw: bytes, path: Path, i: int) -> str:
    raw = raw.lstrip(b"\r\n")  # the C tool ends each record with a newline, gensim does not
    try:
        key = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadFileError(path, f"record {i + 1}: key is not valid UTF-8") from None
    if not key:
        raise BadFileError(path, f"record {i + 1}: empty key")
    return key


def _read_binary(path: Path) -> tuple[list[str], np.ndarray]:
    with _open(path) as f:
        count, dim = _read_header(f, path)
        _check_size(path, count, dim, 4 * dim + 2)
        width, keys = 4 * dim, []
        vectors = np.empty((count, dim), dtype=np.float32)
        buf, pos = f.read(_CHUNK_BYTES), 0
        for i in range(count):
            space = buf.find(b" ", pos)
            if space < 0 or space + 1 + width > len(buf):
                buf, pos = buf[pos:] + f.read(_CHUNK_BYTES + width), 0
                space = buf.find(b" ")
                if space < 0 or space + 1 + width > len(buf):
                    raise BadFileError(
                        path, f"record {i + 1} is cut short; the header says {count}"
                    )
            keys.append(_binary_key(buf[pos:space], path, i))
            vectors[i] = np.frombuffer(buf, dtype="<f4", count=dim, offset=space + 1)
            pos = space + 1 + width
        if (buf[pos:] + f.read(1 << 16)).strip():
            raise BadFileError(path, f"data after record {count}, more rows than the header says")
    return keys, vectors


def _read_gensim(path: Path, trust_pickle: bool) -> tuple[list[str], np.ndarray]:
    if not trust_pickle:
        raise BadFileError(
            path,
            "a gensim pickle; unpickling can run arbitrary code. Set `word_vectors.trust_pickle: "
            "true` if you trust this file, or convert it to word2vec format once "
            "(KeyedVectors.load(p).save_word2vec_format(out, binary=True))",
        )
    from gensim.utils import SaveLoad

    obj = SaveLoad.load(str(path), mmap="r")
    kv = getattr(obj, "wv", obj)
    return list(kv.index_to_key), np.array(kv.vectors, dtype=np.float32)  # copy: no memmap


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

    `fmt="auto"` sniffs the first bytes; `.gz` files are read through gzip. Keys lacking a
    `xxx:` prefix raise, or with `unprefixed_keys="english"` become `eng:<key>`.
    """
    path = require_path(path, "word vectors", "a word2vec or gensim file")
    if unprefixed_keys not in UNPREFIXED_POLICIES:
        raise ConfigError("word_vectors.unprefixed_keys", unprefixed_keys, str(UNPREFIXED_POLICIES))
    fmt = _resolve_format(path, fmt)
    if fmt == "gensim":
        keys, vectors = _read_gensim(path, trust_pickle)
    else:
        _check_dim(path, peek_word_vectors(path, fmt)[1], expected_dim)  # before the heavy read
        keys, vectors = (_read_text if fmt == "word2vec" else _read_binary)(path)
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
            (_write_binary if binary else _write_text)(f, wv)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _write_text(f: IO[bytes], wv: WordVectors, rows_per_chunk: int = 8192) -> None:
    fmt = " ".join(["%.9g"] * wv.dim)
    for start in range(0, len(wv), rows_per_chunk):
        rows = wv.vectors[start : start + rows_per_chunk].tolist()
        keys = wv.keys[start : start + rows_per_chunk]
        f.write(
            "".join(f"{k} {fmt % tuple(r)}\n" for k, r in zip(keys, rows, strict=True)).encode()
        )


def _write_binary(f: IO[bytes], wv: WordVectors) -> None:
    little = wv.vectors.astype("<f4", copy=False)
    for key, row in zip(wv.keys, little, strict=True):
        f.write(key.encode() + b" " + row.tobytes() + b"\n")
