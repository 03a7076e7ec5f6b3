"""Packed blocks on disk: one Arrow IPC stream file per split, read lazily through a memory map.

Columns: `input_ids` fixed_size_list<int32>[L] (padded), `length` int32 (real tokens),
`language` int16 (index into the data's languages). Rows are grouped by language in index
order, the layout `data.pack_corpus` gives in memory. `BlockStore` opens the file memory-mapped
and reads a row only when asked for it, so training touches the pages of the blocks it trains on
and no more.

A prepared dir (`prepare.prepare_cpt_data`) holds `train.arrow`, `val.arrow` and `blocks.json`:
the objective the blocks are laid out for (`masked` or `causal`; absent = masked), the
languages, the block length, the special ids, the text selection (cap, languages) and per split
the texts, tokens and blocks of each language. `open_cpt_data` reads it back.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from hyperofa.config.pretrain import PretrainConfig
from hyperofa.errors import BadFileError, IncompatibleInputsError
from hyperofa.pretrain.data import SpecialIds, check_inputs

ROWS_PER_BATCH = 4096  # blocks per Arrow record batch
META, FORMAT = "blocks.json", 1  # a prepared dir: its description, and the layout's version
SPLITS = ("train", "val")


def block_schema(max_length: int) -> pa.Schema:
    return pa.schema(
        [
            ("input_ids", pa.list_(pa.int32(), max_length)),
            ("length", pa.int32()),
            ("language", pa.int16()),
        ]
    )


class Blocks(Protocol):
    """What training reads from packed blocks, in memory (`PackedBlocks`) or on disk."""

    languages: tuple[str, ...]

    def __len__(self) -> int: ...

    def counts(self) -> np.ndarray: ...

    def row(self, block: int) -> tuple[np.ndarray, int, int]: ...

    def limit_per_language(self, n: int | None) -> Blocks: ...


class BlockWriter:
    """Appends blocks [n, L] to an Arrow stream file in record batches of ROWS_PER_BATCH."""

    def __init__(self, path: Path, max_length: int):
        self.schema, self.max_length = block_schema(max_length), max_length
        self._sink = pa.OSFile(str(path), "wb")
        self._writer = pa.ipc.new_stream(self._sink, self.schema)
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._rows = 0

    def write(self, blocks: np.ndarray, lengths: np.ndarray, language: int) -> None:
        if not len(blocks):
            return
        self._pending.append((blocks, lengths, np.full(len(blocks), language, dtype=np.int16)))
        self._rows += len(blocks)
        if self._rows >= ROWS_PER_BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        blocks, lengths, language = (np.concatenate(p) for p in zip(*self._pending, strict=True))
        for start in range(0, len(blocks), ROWS_PER_BATCH):
            part = slice(start, start + ROWS_PER_BATCH)
            flat = pa.array(blocks[part].astype(np.int32, copy=False).ravel())
            columns = [
                pa.FixedSizeListArray.from_arrays(flat, self.max_length),
                pa.array(lengths[part].astype(np.int32, copy=False)),
                pa.array(language[part]),
            ]
            self._writer.write_batch(pa.record_batch(columns, schema=self.schema))
        self._pending, self._rows = [], 0

    def close(self) -> None:
        self._flush()
        self._writer.close()
        self._sink.close()


class BlockStore:
    """The blocks of one split, memory-mapped from `path`; `counts` [len(languages)] blocks per
    language in the file (rows grouped by language in index order). Picklable: a DataLoader
    worker reopens the file instead of copying it."""

    def __init__(self, path: Path, languages: Sequence[str], counts: Sequence[int]):
        self.path, self.languages = Path(path), tuple(languages)
        self._counts = np.asarray(counts, dtype=np.int64)
        self._ends = np.cumsum(self._counts)  # of each language's rows in the file
        self._rows: np.ndarray | None = None  # kept row numbers (limit_per_language); None = all
        self._chunks: tuple[np.ndarray, list[np.ndarray], list[np.ndarray]] | None = None

    def __len__(self) -> int:
        return int(self._counts.sum())

    def counts(self) -> np.ndarray:
        """Blocks per language [len(languages)]."""
        return self._counts.copy()

    def row(self, block: int) -> tuple[np.ndarray, int, int]:
        """(input_ids [L] int32, a view into the file; length; language index) of `block`."""
        starts, ids, lengths = self._open()
        i = int(self._rows[block]) if self._rows is not None else int(block)
        chunk = int(np.searchsorted(starts, i, side="right")) - 1
        j = i - int(starts[chunk])
        language = int(np.searchsorted(self._ends, i, side="right"))
        return ids[chunk][j], int(lengths[chunk][j]), language

    def limit_per_language(self, n: int | None) -> BlockStore:
        """The first `n` blocks of each language (all when n is None)."""
        if n is None:
            return self
        if self._rows is not None:
            raise ValueError("limit_per_language applies to a whole split")
        kept = np.minimum(self._counts, n)
        starts = self._ends - self._counts
        limited = copy.copy(self)
        limited._rows = np.concatenate(
            [np.arange(s, s + k, dtype=np.int64) for s, k in zip(starts, kept, strict=True)]
        )
        limited._counts = kept
        return limited

    def _open(self) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """Zero-copy views of each record batch: row starts, ids [n, L], lengths [n]."""
        if self._chunks is None:
            try:
                table = pa.ipc.open_stream(pa.memory_map(str(self.path), "r")).read_all()
            except (OSError, pa.ArrowInvalid) as err:
                raise BadFileError(self.path, f"not a block file ({err})") from None
            if table.num_rows != int(self._ends[-1]):
                raise BadFileError(
                    self.path, f"{table.num_rows} blocks, expected {int(self._ends[-1])}"
                )
            width = table.schema.field("input_ids").type.list_size
            ids = [c.flatten().to_numpy().reshape(-1, width) for c in table["input_ids"].chunks]
            lengths = [c.to_numpy() for c in table["length"].chunks]
            starts = np.concatenate([[0], np.cumsum([len(c) for c in lengths])[:-1]])
            self._chunks = (starts.astype(np.int64), ids, lengths)
        return self._chunks

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_chunks": None}


@dataclass(frozen=True)
class CPTData:
    """Prepared train and held-out blocks (see the module docstring)."""

    path: Path
    train: BlockStore
    val: BlockStore
    meta: dict[str, Any]

    @property
    def max_length(self) -> int:
        return int(self.meta["max_length"])


def is_cpt_data(source: Any) -> bool:
    """Prepared blocks: a `CPTData`, or a dir holding `blocks.json`."""
    if isinstance(source, CPTData):
        return True
    return isinstance(source, str | Path) and (Path(source) / META).is_file()


def open_cpt_data(source: CPTData | str | Path) -> CPTData:
    """The prepared blocks in `source` (memory-mapped, nothing read yet)."""
    if isinstance(source, CPTData):
        return source
    path = Path(source)
    try:
        meta = json.loads((path / META).read_text())
        languages, splits = meta["languages"], meta["splits"]
        stores = {
            s: BlockStore(path / f"{s}.arrow", languages, splits[s]["blocks"]) for s in SPLITS
        }
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise BadFileError(
            path / META, f"not prepared blocks ({type(err).__name__}: {err})"
        ) from None
    return CPTData(path, stores["train"], stores["val"], meta)


def listed(languages: Sequence[str] | None) -> list[str] | None:
    return None if languages is None else list(languages)


def prepared_blocks(
    model_config: Any,
    tokenizer: Any,
    source: Any,
    val_texts: Any,
    cfg: PretrainConfig,
    masked: bool = True,
) -> tuple[BlockStore, BlockStore, SpecialIds]:
    """`data.prepare_data` for prepared blocks: the same checks, plus that the blocks were
    packed for this tokenizer, objective, block length and text selection; raises named errors
    only."""
    ids = check_inputs(model_config, tokenizer, cfg, masked)
    data = open_cpt_data(source)
    if val_texts is not None:
        raise IncompatibleInputsError(
            f"{data.path} holds its own held-out blocks: pass no held-out text (val_texts=None)"
        )
    wanted = {
        "objective": objective(masked),
        "max_length": cfg.max_length,
        "special": special_record(ids),
        "selection": {"max_texts_per_language": cfg.max_texts_per_language,
                      "languages": listed(cfg.languages)},
    }  # fmt: skip
    found = {**data.meta, "objective": data.meta.get("objective", objective(True))}
    differ = [k for k, v in wanted.items() if found.get(k) != v]
    if differ:
        raise IncompatibleInputsError(
            f"{data.path} was prepared with other {differ} than this run's "
            f"({[found.get(k) for k in differ]} vs {[wanted[k] for k in differ]}); "
            "prepare the text again with this tokenizer and config"
        )
    return data.train, data.val.limit_per_language(cfg.val_max_blocks_per_language), ids


def special_record(ids: SpecialIds) -> dict[str, Any]:
    """The ids a prepared dir was packed with (JSON-ready), to compare with a tokenizer's; the
    layout is recorded apart (`objective`), so dirs prepared before it existed still match."""
    record = {**asdict(ids), "special": sorted(ids.special)}
    del record["masked"]
    return record


def objective(masked: bool) -> str:
    """The training objective blocks are laid out for, as recorded in `blocks.json`."""
    return "masked" if masked else "causal"
