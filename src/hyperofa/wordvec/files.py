"""Opening a word-vector file, its word2vec header, and telling the formats apart by their bytes."""

from __future__ import annotations

import codecs
import contextlib
import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from hyperofa.errors import BadFileError, ConfigError, EmptyInputError, require_path

FORMATS = ("auto", "word2vec", "word2vec_binary", "gensim")
DESCRIPTIONS = {
    "word2vec": "a word2vec text file",
    "word2vec_binary": "a word2vec binary file",
    "gensim": "a gensim pickle",
}
EXPECTED = "a word2vec (text or binary) or gensim .wv file"
_PICKLE_MAGIC = b"\x80"
_UTF8_BOM = b"\xef\xbb\xbf"
_CONTROL = frozenset(range(32)) - frozenset(b"\t\n\r")
_SAMPLE_BYTES = 1 << 16
# deflate cannot compress more than 1032:1, which bounds the rows a .gz file can hold
_MAX_GZIP_RATIO = 1032


def require_file(path: str | Path) -> Path:
    """`path` as a Path; MissingPathError if absent, BadFileError if not a regular file."""
    try:
        path = require_path(path, "word vectors", EXPECTED)
        is_dir = path.is_dir()
    except PermissionError as err:  # a dir on the way that this user may not enter
        raise BadFileError(
            path, f"cannot be accessed ({err.strerror}); expected {EXPECTED}"
        ) from None
    if is_dir:
        names = _file_names(path)[:5]
        inside = f" (it holds {', '.join(names)})" if names else ""
        raise BadFileError(path, f"a directory{inside}; expected {EXPECTED}, give the file itself")
    if not path.is_file():
        raise BadFileError(path, f"not a regular file; expected {EXPECTED}")
    return path


def _file_names(directory: Path) -> list[str]:
    try:
        return sorted(p.name for p in directory.iterdir() if p.is_file())
    except OSError:
        return []


@contextlib.contextmanager
def open_vectors(path: Path) -> Iterator[IO[bytes]]:
    """The file's bytes (through gzip if it ends in .gz); decompression and OS errors named."""
    gz = path.suffix == ".gz"
    try:
        with gzip.open(path, "rb") if gz else open(path, "rb") as f:
            yield f
    except gzip.BadGzipFile:
        raise BadFileError(
            path,
            "not gzip data; its name ends in .gz, so expected a gzip file (rename it if plain)",
        ) from None
    except (EOFError, zlib.error) as err:
        raise BadFileError(
            path, f"gzip data cut short or corrupt ({err}); expected a whole .gz"
        ) from None
    except OSError as err:
        raise BadFileError(
            path, f"cannot be read ({err.strerror}); expected a readable file"
        ) from None


def read_header(f: IO[bytes], path: Path) -> tuple[int, int]:
    """(count, dim) from a word2vec first line `count dim`; EmptyInputError if count is 0."""
    line = f.readline(1024)
    if line.startswith(_UTF8_BOM):
        line = line[len(_UTF8_BOM) :]
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        shown = line[:80].decode("utf-8", "replace").rstrip("\r\n")
        raise BadFileError(path, f"header {shown!r}; expected 'count dim' (two integers)", 1)
    count, dim = int(parts[0]), int(parts[1])
    if dim == 0:
        raise BadFileError(path, "header says dimension 0; expected a positive dimension", 1)
    if count == 0:
        raise EmptyInputError(
            f"{path}:1: header says 0 word vectors (dimension {dim}); expected at least one"
        )
    return count, dim


def check_size(path: Path, count: int, dim: int, min_row_bytes: int) -> None:
    """BadFileError if the file is too small to hold `count` rows of at least `min_row_bytes`."""
    size = path.stat().st_size * (_MAX_GZIP_RATIO if path.suffix == ".gz" else 1)
    if count * min_row_bytes > size:
        raise BadFileError(
            path, f"header says {count} rows of dimension {dim}, the file is too small for that", 1
        )


def _is_text(data: bytes) -> bool:
    """Valid UTF-8 (a character cut at the end allowed) without control bytes but tab/CR/LF."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return not _CONTROL.intersection(data)


def _first_row_values(sample: bytes) -> list[bytes] | None:
    """The value tokens of the first row if they are text (the key may be mis-encoded)."""
    line = sample.split(b"\n", 1)[0]
    values = line.replace(b"\t", b" ").split(b" ", 1)[1:]
    if not values or not _is_text(values[0]):
        return None
    return values[0].split()


def is_number(token: str | bytes) -> bool:
    """Whether float() reads `token`."""
    try:
        float(token)
    except ValueError:
        return False
    return True


def sniff_format(path: Path) -> tuple[str, bool]:
    """(format, conclusive): which of word2vec / word2vec_binary / gensim the file holds, from
    its first bytes. A binary float32 row is all but certain to hold a control byte or invalid
    UTF-8 within its first values; a text file, even a malformed one, holds text. Text is
    conclusive only when its first row is `key` and `dim` numbers on a whole line.
    """
    with open_vectors(path) as f:
        if f.read(1) == _PICKLE_MAGIC:
            return "gensim", True
        f.seek(0)
        _, dim = read_header(f, path)
        sample = f.read(min(4 * dim, _SAMPLE_BYTES) + 4096)
    values = _first_row_values(sample)
    numbers = sum(1 for t in values or [] if is_number(t))
    if not _is_text(sample) and not (values and 2 * numbers >= len(values)):
        return "word2vec_binary", True
    if b"\n" in sample and numbers == len(values or []) == dim:
        return "word2vec", True
    return ("word2vec_binary" if _one_binary_record(sample, dim) else "word2vec"), False


def _one_binary_record(sample: bytes, dim: int) -> bool:
    """`key`, a space, 4·dim bytes, then a newline or the end, as a binary record would be."""
    space = sample.find(b" ")
    end = space + 1 + 4 * dim
    return space > 0 and len(sample) >= end and sample[end : end + 1] in (b"\n", b"")


def resolve_format(path: Path, fmt: str) -> str:
    """The format to read `path` as: sniffed for `auto`; an explicit one the bytes contradict
    raises, naming the format the file looks like and the setting that reads it."""
    if fmt not in FORMATS:
        raise ConfigError("word_vectors.format", fmt, f"one of {FORMATS}")
    sniffed, conclusive = sniff_format(path)
    if fmt == "auto":
        return sniffed
    if fmt != sniffed and conclusive:
        raise ConfigError(
            "word_vectors.format",
            fmt,
            f"`{sniffed}` or `auto`: {path} looks like {DESCRIPTIONS[sniffed]}, "
            f"not {DESCRIPTIONS[fmt]}; set `word_vectors.format: {sniffed}` (or `auto`)",
        )
    return fmt
