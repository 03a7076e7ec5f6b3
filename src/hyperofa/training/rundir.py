"""A training run dir belongs to one run: its record (what it trains) is written on first use and
compared on every later one, so a resumed run never mixes with another's checkpoints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hyperofa.artifacts import write_json_atomic
from hyperofa.errors import IncompatibleInputsError

CLAIM = "run.json"


def claim_run_dir(run_dir: Path, record: dict[str, Any], what: str) -> None:
    """Write `record` into `run_dir`, or raise if the dir holds a run with another record."""
    path = Path(run_dir) / CLAIM
    if not path.exists():
        write_json_atomic(path, record)
        return
    found = json.loads(path.read_text())
    differ = sorted(k for k in set(found) | set(record) if found.get(k) != record.get(k))
    if differ:
        raise IncompatibleInputsError(
            f"{run_dir} holds a {what} run with other settings ({differ}): use a new run dir"
        )
