"""word2vec text and binary files: streamed readers that name the bad line/record, and writers."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import numpy as np

from hyperofa.errors import BadFileError
from hyperofa.wordvec.files import check_size, is_number, open_vectors, read_header

_CHUNK_BYTES = 1 << 24
_LOADTXT = {"dtype": np.float32, "comments": None, "delimiter": " ", "quotechar": None, "ndmin": 2}
ROW = "'key v1 … vd' separated by spaces"
ROW_BINARY = "dim little-endian float32"


def _decode(lines: list[bytes], path: Path, first_line: int) -> list[str]:
    data = b"".join(lines)
    if b"\t" in data:  # a tab separates like a space (keys hold neither)
        data = data.replace(b"\t", b" ")
    try:
        return data.decode("utf-8").split("\n")[: len(lines)]
    except UnicodeDecodeError:
        for i, line in enumerate(lines):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as err:
                raise BadFileError(
                    path, f"not valid UTF-8 ({err.reason}); expected UTF-8 text", first_line + i
                ) from None
        raise


def _check_rows(rows: list[str], keys: list[str], dim: int, path: Path, first_line: int):
    """The first row without a key or without `dim` values raises, naming its line."""
    for i, (row, key) in enumerate(zip(rows, keys, strict=True)):
        if not key:
            raise BadFileError(path, f"empty key or blank line; expected {ROW}", first_line + i)
        if row.count(" ") == dim or len(tokens := row.split()) == dim + 1:
            continue
        hint = ""
        if len(tokens) > dim + 1 and not is_number(tokens[1]):
            hint = f" (a space inside the key {' '.join(tokens[:2])!r}? word2vec keys hold none)"
        n = len(tokens) - 1
        raise BadFileError(path, f"{n} values after the key; expected {dim}{hint}", first_line + i)


def _parse_rows(rows: list[str], dim: int, path: Path, first_line: int) -> tuple[list, np.ndarray]:
    """Keys and (len(rows), dim) float32 values of text rows `key v1 … vdim`."""
    keys = [row.partition(" ")[0] for row in rows]
    _check_rows(rows, keys, dim, path, first_line)
    try:
        values = np.loadtxt(rows, usecols=range(1, dim + 1), **_LOADTXT)
    except ValueError:
        values = _parse_rows_slowly(rows, dim, path, first_line)
    return keys, values


def _parse_rows_slowly(rows: list[str], dim: int, path: Path, first_line: int) -> np.ndarray:
    """Row by row, to name the line holding a non-number (or to accept repeated spaces)."""
    out = np.empty((len(rows), dim), dtype=np.float32)
    for i, row in enumerate(rows):
        for j, token in enumerate(row.split()[1:]):
            try:
                out[i, j] = float(token)
            except ValueError:
                raise BadFileError(
                    path, f"{token[:40]!r} is not a number; expected {dim} floats", first_line + i
                ) from None
    return out


def read_text(path: Path) -> tuple[list[str], np.ndarray]:
    """Keys and float32 (count, dim) vectors of a word2vec text file (header `count dim`)."""
    with open_vectors(path) as f:
        count, dim = read_header(f, path)
        check_size(path, count, dim, 2 * dim)
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
        raise BadFileError(path, f"record {i + 1}: empty key; expected 'key' ' ' {ROW_BINARY}")
    return key


def read_binary(path: Path) -> tuple[list[str], np.ndarray]:
    """Keys and float32 (count, dim) vectors of a word2vec binary file (`key` ' ' dim × <f4)."""
    with open_vectors(path) as f:
        count, dim = read_header(f, path)
        check_size(path, count, dim, 4 * dim + 2)
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
                        path,
                        f"record {i + 1} is cut short; the header says {count} records of "
                        f"'key' ' ' {ROW_BINARY}",
                    )
            keys.append(_binary_key(buf[pos:space], path, i))
            vectors[i] = np.frombuffer(buf, dtype="<f4", count=dim, offset=space + 1)
            pos = space + 1 + width
        if (buf[pos:] + f.read(1 << 16)).strip():
            raise BadFileError(path, f"data after record {count}, more rows than the header says")
    return keys, vectors


def write_text(f: IO[bytes], keys: list[str], vectors: np.ndarray, rows_per_chunk: int = 8192):
    """Rows `key v1 … vd` with `%.9g` (exact for float32)."""
    fmt = " ".join(["%.9g"] * vectors.shape[1])
    for start in range(0, len(keys), rows_per_chunk):
        rows = vectors[start : start + rows_per_chunk].tolist()
        chunk = keys[start : start + rows_per_chunk]
        f.write(
            "".join(f"{k} {fmt % tuple(r)}\n" for k, r in zip(chunk, rows, strict=True)).encode()
        )


def write_binary(f: IO[bytes], keys: list[str], vectors: np.ndarray) -> None:
    """Records `key` ' ' dim × little-endian float32, each ended by a newline (as the C tool)."""
    little = vectors.astype("<f4", copy=False)
    for key, row in zip(keys, little, strict=True):
        f.write(key.encode() + b" " + row.tobytes() + b"\n")
