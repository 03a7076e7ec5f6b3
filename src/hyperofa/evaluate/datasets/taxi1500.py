"""Taxi1500 rows: `id<TAB>label<TAB>verse` (the released eng_data files have no header; OFA reads
them with pandas as columns id, label, verse)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hyperofa.errors import BadFileError
from hyperofa.evaluate.datasets.common import read_lines

TAXI1500_CLASSES = ("Recommendation", "Faith", "Description", "Sin", "Grace", "Violence")


@dataclass(frozen=True)
class LabelledText:
    id: str
    label: str
    text: str


def read_taxi1500(path: str | Path, limit: int | None = None) -> list[LabelledText]:
    """Rows of a Taxi1500 tsv (its first `limit` lines if given). A first line `id<TAB>label…` is
    a header. A row with an empty verse is left out: Taxi1500's data_preprocess.py writes one
    when the language's Bible edition has no text for that verse."""
    rows = []
    for number, line in read_lines(path, limit):
        if not line.strip() or (number == 1 and line.lower().startswith("id\tlabel")):
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not fields[0].strip():
            raise BadFileError(
                path, f"expected `id<TAB>label<TAB>verse`, got {line[:60]!r}", number
            )
        if fields[1].strip() not in TAXI1500_CLASSES:
            raise BadFileError(
                path,
                f"label {fields[1][:30]!r} is not one of {TAXI1500_CLASSES}; the columns are "
                "`id<TAB>label<TAB>verse`",
                number,
            )
        if fields[2].strip():
            rows.append(LabelledText(fields[0].strip(), fields[1].strip(), fields[2].strip()))
    return rows
