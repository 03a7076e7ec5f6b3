"""Language → raw texts, read in batches from a corpus of any size (nothing is held whole).

Layouts, told apart by what a path holds:
- a mapping language → texts (in memory);
- a dir of `<lang>.txt` files, one text per line (lines split as `str.splitlines` does);
- a `datasets` table with `text` and `lang` columns: the object, or a `save_to_disk` dir
  (`state.json` + `data-*-of-*.arrow`); languages may be interleaved;
- Glot500-c's layout: one dir per subset, named `<iso>_<Script>`, which is the language. The hub's
  `cis-lmu/Glot500` holds `<subset>/train/` as written by `datasets.save_to_disk` (arrow shards +
  `state.json`, a `text` column); its older revisions parquet shards (`<subset>/train/*.parquet`).
  A subset without a `train/` dir is read from the subset dir itself (arrow, parquet or txt).

`text_batches` yields (language, raw texts) in the source's order; `cap` keeps the first `cap`
texts of each language as stored (HyperOFA's capped subsets), blank ones included; a sequential
source stops reading a language there. Files are read through plain reads, not memory maps, so
the reader's memory stays that of one batch.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from hyperofa.errors import BadFileError, IncompatibleInputsError, MissingPathError

TextBatch = tuple[str, list[str]]
BATCH = 10_000  # texts per batch
_CHUNK = 1 << 22  # characters read from a text file at once
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines splits on
LAYOUTS = (
    "a dir of <lang>.txt files, a datasets.save_to_disk dir with `text` and `lang` columns, or "
    "Glot500-c's layout (<subset>/train/ arrow or parquet shards with a `text` column)"
)


def text_batches(
    source: Any,
    cap: int | None = None,
    languages: set[str] | None = None,
    batch_size: int = BATCH,
) -> Iterator[TextBatch]:
    """(language, raw texts) batches of `source`, the first `cap` texts per language, only the
    languages in `languages` (all when None). Every language of a sequential source appears at
    least once, with an empty batch if it holds no text."""
    if _is_table(source):
        yield from _capped(_table_batches(source, batch_size), cap, languages)
        return
    for lang, batches in _language_readers(source, batch_size):
        if languages is not None and lang not in languages:
            continue
        left, seen = cap, False
        for batch in batches:
            batch = batch if left is None else batch[:left]
            if batch:
                seen = True
                yield lang, batch
            left = None if left is None else left - len(batch)
            if left == 0:
                break
        if not seen:
            yield lang, []


def _is_table(source: Any) -> bool:
    if isinstance(source, str | Path):
        return (Path(source) / "state.json").is_file()
    return not isinstance(source, Mapping) and hasattr(source, "column_names")


def _capped(
    batches: Iterator[TextBatch], cap: int | None, languages: set[str] | None
) -> Iterator[TextBatch]:
    seen: Counter[str] = Counter()
    for lang, texts in batches:
        if languages is not None and lang not in languages:
            continue
        kept = texts if cap is None else texts[: max(cap - seen[lang], 0)]
        seen[lang] += len(kept)
        if kept:
            yield lang, kept


def _table_batches(source: Any, batch_size: int) -> Iterator[TextBatch]:
    """A (text, lang) table's rows in order, each batch split into runs of one language."""
    for batch in _table_record_batches(source, batch_size):
        texts = batch.column("text").to_pylist()
        langs = batch.column("lang").to_pylist()
        start = 0
        for i in range(1, len(texts) + 1):
            if i == len(texts) or langs[i] != langs[start]:
                yield str(langs[start]), texts[start:i]
                start = i


def _table_record_batches(source: Any, batch_size: int) -> Iterator[pa.RecordBatch]:
    if isinstance(source, str | Path):
        files = saved_dataset_files(Path(source))
        yield from _arrow_batches(files, ["text", "lang"], Path(source))
        return
    _require_columns(source.column_names, ["text", "lang"], "dataset")
    table = source.select_columns(["text", "lang"]).with_format("arrow")
    yield from table.iter(batch_size=batch_size)


def _require_columns(have: Any, wanted: list[str], where: Any) -> None:
    missing = [c for c in wanted if c not in list(have)]
    if missing:
        raise IncompatibleInputsError(f"{where} has no {missing} column: {list(have)}")


def saved_dataset_files(directory: Path) -> list[Path]:
    """The arrow shards of a `datasets.save_to_disk` dir, in row order (from `state.json`)."""
    try:
        state = json.loads((directory / "state.json").read_text())
        return [directory / f["filename"] for f in state["_data_files"]]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise BadFileError(
            directory / "state.json",
            f"not a datasets.save_to_disk state ({type(err).__name__}: {err})",
        ) from None


def _arrow_batches(files: list[Path], columns: list[str], where: Path) -> Iterator[pa.RecordBatch]:
    for path in files:
        with pa.OSFile(str(path)) as f:
            reader = pa.ipc.open_stream(f)
            _require_columns(reader.schema.names, columns, where)
            for batch in reader:
                yield batch.select(columns)


def _parquet_batches(files: list[Path], batch_size: int, where: Path) -> Iterator[pa.RecordBatch]:
    for path in files:
        parquet = pq.ParquetFile(path)
        _require_columns(parquet.schema_arrow.names, ["text"], where)
        yield from parquet.iter_batches(batch_size=batch_size, columns=["text"])


def _language_readers(source: Any, batch_size: int) -> Iterator[tuple[str, Iterator[list[str]]]]:
    """(language, its batches) of a sequential source: a mapping, a txt dir or a subset dir."""
    if isinstance(source, Mapping):
        for lang, texts in source.items():
            texts = list(texts)
            yield str(lang), (texts[i : i + batch_size] for i in range(0, len(texts), batch_size))
        return
    directory = Path(source)
    if not directory.is_dir():
        raise MissingPathError("pre-training text", directory, LAYOUTS)
    if (directory / "dataset_dict.json").is_file():
        raise BadFileError(
            directory, f"a DatasetDict (one Glot500-c subset?); give the dir of subsets: {LAYOUTS}"
        )
    txt = sorted(p for p in directory.glob("*.txt") if p.is_file())
    if txt:
        for path in txt:
            yield path.name.removesuffix(".txt"), line_batches([path], batch_size)
        return
    subsets = sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subsets:
        raise BadFileError(directory, f"holds no text; expected {LAYOUTS}")
    for subset in subsets:
        yield subset.name, subset_batches(subset, batch_size)


def subset_batches(subset: Path, batch_size: int = BATCH) -> Iterator[list[str]]:
    """The `text` column of one Glot500-c subset dir (its `train/` split when it has one)."""
    split = subset / "train" if (subset / "train").is_dir() else subset
    if (split / "state.json").is_file():
        batches = _arrow_batches(saved_dataset_files(split), ["text"], split)
    elif parquet := sorted(split.glob("*.parquet")):
        batches = _parquet_batches(parquet, batch_size, split)
    elif arrow := sorted(split.glob("*.arrow")):
        batches = _arrow_batches(arrow, ["text"], split)
    elif txt := sorted(split.glob("*.txt")):
        yield from line_batches(txt, batch_size)
        return
    else:
        raise BadFileError(split, "no text found; expected arrow or parquet shards or .txt files")
    for batch in batches:
        texts = batch.column("text").to_pylist()
        for i in range(0, len(texts), batch_size):
            yield texts[i : i + batch_size]


def line_batches(paths: list[Path], batch_size: int = BATCH) -> Iterator[list[str]]:
    """The lines of UTF-8 text files, split as `Path.read_text().splitlines()` splits them."""
    batch: list[str] = []
    for path in paths:
        for line in _lines(path):
            batch.append(line)
            if len(batch) == batch_size:
                yield batch
                batch = []
    if batch:
        yield batch


def _lines(path: Path) -> Iterator[str]:
    carry = ""
    with open(path, encoding="utf-8") as f:  # universal newlines, as read_text
        while chunk := f.read(_CHUNK):
            text = carry + chunk
            lines = text.splitlines()
            carry = "" if text[-1] in _LINE_BREAKS else lines.pop()
            yield from lines
    if carry:
        yield carry
