"""A corpus of any layout → one Arrow file of cleaned texts per language, written batch by batch.

The files (Arrow IPC streams with one `text` column, readable by `datasets.Dataset.from_file`) are
what the tokenizer then maps over in parallel; texts keep the source's order within a language.
Cleaning is `texts.clean_texts`: each text stripped, blank ones dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from tqdm.auto import tqdm

from hyperofa.corpus.streams import text_batches

TEXT_SCHEMA = pa.schema([("text", pa.string())])


@dataclass
class CollectedTexts:
    """language → its Arrow file and its number of cleaned texts (0 for a language that was
    found or asked for but holds no text)."""

    files: dict[str, Path] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


class _Writers:
    """One open Arrow stream writer per language, closed together."""

    def __init__(self, out_dir: Path):
        self.out_dir, self.open = out_dir, {}
        out_dir.mkdir(parents=True, exist_ok=True)

    def write(self, collected: CollectedTexts, lang: str, texts: list[str]) -> None:
        if lang not in self.open:
            path = self.out_dir / f"{len(collected.files):05d}.arrow"
            collected.files[lang], collected.counts[lang] = path, 0
            sink = pa.OSFile(str(path), "wb")
            self.open[lang] = (sink, pa.ipc.new_stream(sink, TEXT_SCHEMA))
        if texts:
            array = pa.array(texts, type=pa.string())
            self.open[lang][1].write_batch(pa.record_batch([array], schema=TEXT_SCHEMA))
            collected.counts[lang] += len(texts)

    def close(self) -> None:
        for sink, writer in self.open.values():
            writer.close()
            sink.close()


def collect_texts(
    source: Any,
    out_dir: Path,
    cap: int | None = None,
    languages: Sequence[str] | None = None,
    desc: str = "texts",
) -> CollectedTexts:
    """Write the cleaned texts of `source` (any `streams` layout) to `out_dir/<n>.arrow`, one file
    per language; `cap` and `languages` as in `streams.text_batches`. A language of `languages`
    that the source lacks is listed with 0 texts (and an empty file)."""
    collected, writers = CollectedTexts(), _Writers(Path(out_dir))
    wanted = None if languages is None else set(languages)
    progress = tqdm(desc=f"collect {desc}", unit=" texts", unit_scale=True, mininterval=2)
    try:
        for lang, batch in text_batches(source, cap, wanted):
            writers.write(collected, lang, [s for s in (t.strip() for t in batch if t) if s])
            progress.update(len(batch))
        for lang in languages or ():
            writers.write(collected, lang, [])
    finally:
        writers.close()
        progress.close()
    return collected
