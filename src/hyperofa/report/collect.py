"""Read the result.json files of a run or sweep into typed, de-duplicated rows."""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperofa.artifacts import MANIFEST
from hyperofa.errors import BadFileError, EmptyInputError, MissingPathError

log = logging.getLogger(__name__)
RESULT = "result.json"
PRETRAIN_LOGS = Path("pretrain", "csv")  # <job>/pretrain/csv/version_*/metrics.csv
STAGE_ORDER = ("step0", "pretrained")
# initialize's inputs that only their initializer builds: they count in its wall time
OWN_STAGES = {"hypernet": "hypernet", "static": "focus"}
# the reference, the baselines, the zoo (issue order), the papers' methods, ours
INITIALIZER_ORDER = (
    "source", "random", "mean", "normal", "manual", "fvt", "focus", "omp", "ofa", "hyperofa",
    "stacked", "stacked+hypernet",
)  # fmt: skip
PerLanguage = dict[str, dict[str, Any]]  # task → {lang: float | {metric: float}}


@dataclass(frozen=True)
class Row:
    """One evaluated model: which one (model, initializer, dim, stage, langset, seed) and its scores.

    `metrics` holds the flat numeric metrics only; `job` is the dir of the result.json it was first
    read from.
    """

    model: str
    initializer: str
    dim: int | None
    stage: str
    langset: str
    seed: int | None
    head: str = "tied"  # the LM head: tied to the input matrix, or untied (a matrix of its own)
    metrics: dict[str, float] = field(default_factory=dict)
    per_language: PerLanguage = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    job: Path = Path(".")
    continuations: dict[str, dict[str, str]] = field(default_factory=dict)  # lang → prompt, text

    @property
    def key(self) -> tuple[str, str, int | None, str, str, int | None, str]:
        return (
            self.model,
            self.initializer,
            self.dim,
            self.stage,
            self.langset,
            self.seed,
            self.head,
        )


@dataclass(frozen=True)
class Job:
    """A job dir of the sweep with what it ran and where its pre-training logs are (if any)."""

    path: Path
    model: str
    initializer: str
    dim: int | None
    langset: str
    seed: int | None
    pretrain_logs: Path | None
    head: str = "tied"


def _natural(path: Path) -> list[Any]:
    """Sort key putting job 10 after job 9."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path))]


def find_results(root: str | Path) -> list[Path]:
    """Every result.json at or below `root` (a run dir, a multirun dir, or one file), job order."""
    root = Path(root)
    if not root.exists():
        raise MissingPathError("run or multirun dir", root, "a dir holding <job>/result.json")
    if root.is_file():
        return [root]
    paths = sorted(root.rglob(RESULT), key=_natural)
    if not paths:
        raise EmptyInputError(
            f"{root}: no {RESULT} at or below it (expected a run dir, or a multirun dir with job "
            "dirs 0/, 1/, … each holding a result.json)"
        )
    return paths


def load_result(path: Path) -> dict[str, Any]:
    """The parsed result.json; BadFileError when it is not JSON or lacks a `rows` list."""
    try:
        result = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise BadFileError(path, f"not valid JSON ({err.msg})", line=err.lineno) from None
    except UnicodeDecodeError:
        raise BadFileError(path, "not UTF-8 text") from None
    if not isinstance(result, dict) or not isinstance(result.get("rows"), list):
        raise BadFileError(path, 'expected an object with a "rows" list')
    if not isinstance(result.get("config", {}), dict):
        raise BadFileError(path, '"config" must be an object')
    return result


def _section(config: dict[str, Any], name: str) -> dict[str, Any]:
    value = config.get(name)
    return value if isinstance(value, dict) else {}


def _seed(config: dict[str, Any]) -> int | None:
    seed = config.get("seed")
    return seed if isinstance(seed, int) else None


def _manifest(path: Path) -> dict[str, Any] | None:
    try:
        found = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def init_seconds(artifacts: Any) -> float | None:
    """Wall time of a job's initialization as first built (a cache hit costs its build): the
    initialize stage plus the stages only its initializer needs (`OWN_STAGES`); None when the
    artifacts are gone."""
    path = artifacts.get("initialize") if isinstance(artifacts, dict) else None
    manifest = _manifest(Path(path)) if isinstance(path, str) else None
    if manifest is None:
        return None
    total, cache = float(manifest.get("seconds", 0.0)), Path(path).parent.parent
    for name, stage in OWN_STAGES.items():
        if key := manifest.get("inputs", {}).get(name):
            own = _manifest(cache / stage / key) or {}
            total += float(own.get("seconds", 0.0))
    return total


def initializer_metrics(counts: dict[str, int], seconds: float | None) -> dict[str, float]:
    """What an extended row adds about its initializer: `coverage` (share of the new tokens it
    set a row for) and `init_seconds` (`init_seconds` of its job)."""
    found = {}
    new = counts.get("initialized", 0) + counts.get("random", 0)
    if new:
        found["coverage"] = counts.get("initialized", 0) / new
    if seconds is not None:
        found["init_seconds"] = seconds
    return found


def _numbers(metrics: dict[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def _ints(counts: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if isinstance(v, int)}


def parse_row(raw: Any, config: dict[str, Any], path: Path, index: int) -> Row:
    """A Row from one entry of `rows`; fields missing in older files come from `config`."""
    if not isinstance(raw, dict) or not isinstance(raw.get("initializer"), str):
        raise BadFileError(path, f'rows[{index}]: expected an object with an "initializer" string')
    metrics = raw.get("metrics", {})
    if not isinstance(metrics, dict):
        raise BadFileError(path, f"rows[{index}].metrics: expected an object, got {metrics!r:.40}")
    initializer = raw["initializer"]
    if "dim" in raw:
        dim = raw["dim"]
    else:  # only the extended model is factorized; the source row never is
        dim = None if initializer == "source" else _section(config, "factorize").get("dim")
    if dim is not None and not isinstance(dim, int):
        raise BadFileError(path, f"rows[{index}].dim: expected an integer or null, got {dim!r}")
    per_language, counts = metrics.get("per_language"), raw.get("counts")
    return Row(
        model=str(raw.get("model") or _section(config, "model").get("name") or "model"),
        initializer=initializer,
        dim=dim,
        stage=str(raw.get("stage", "step0")),
        langset=str(_section(config, "langset").get("name", "")),
        seed=_seed(config),
        head=str(raw.get("head") or _head(config, initializer)),
        metrics=_numbers(metrics),
        per_language=per_language if isinstance(per_language, dict) else {},
        counts=_ints(counts) if isinstance(counts, dict) else {},
        job=path.parent,
        continuations=_continuations(metrics.get("details")),
    )


def _continuations(details: Any) -> dict[str, dict[str, str]]:
    found = details.get("continuations") if isinstance(details, dict) else None
    if not isinstance(found, dict):
        return {}
    return {lang: v for lang, v in found.items() if isinstance(v, dict) and "prompt" in v}


def _job(path: Path, config: dict[str, Any], rows: list[Row]) -> Job:
    """The job dir, named by its extended rows' label (`stacked+hypernet`), not its config's
    name (`stacked`), so its curves and its table rows agree."""
    logs = path.parent / PRETRAIN_LOGS
    labels = [row.initializer for row in rows if row.initializer != "source"]
    named = str(_section(config, "initializer").get("name") or "?")
    return Job(
        path=path.parent,
        model=str(_section(config, "model").get("name") or "model"),
        initializer=labels[0] if labels else named,
        dim=_section(config, "factorize").get("dim"),
        langset=str(_section(config, "langset").get("name", "")),
        seed=_seed(config),
        pretrain_logs=logs if any(logs.glob("version_*/metrics.csv")) else None,
        head=_head(config, "job"),
    )


def _head(config: dict[str, Any], initializer: str) -> str:
    """For results written before rows named their head: `assemble.untie` unties the target."""
    untie = _section(config, "assemble").get("untie") is True
    return "untied" if untie and initializer != "source" else "tied"


def _close(x: float, y: float) -> bool:
    return math.isclose(x, y, rel_tol=1e-9) or (math.isnan(x) and math.isnan(y))


def _same(a: Row, b: Row) -> bool:
    return a.metrics.keys() == b.metrics.keys() and all(
        _close(a.metrics[k], b.metrics[k]) for k in a.metrics
    )


def collect(root: str | Path) -> tuple[list[Row], list[Job]]:
    """(rows, jobs) of every result.json under `root`; a row with the same key is kept once.

    Key = (model, initializer, dim, stage, langset, seed): the source row every job repeats is
    one row, while a sweep over seeds or language sets keeps each. Rows come back in table order.
    """
    rows: dict[tuple, Row] = {}
    jobs = []
    for path in find_results(root):
        result = load_result(path)
        config = result.get("config", {})
        seconds = init_seconds(result.get("artifacts"))  # the job's manifests, read once
        parsed = [parse_row(raw, config, path, i) for i, raw in enumerate(result["rows"])]
        jobs.append(_job(path, config, parsed))
        for row in parsed:
            if row.initializer != "source":
                row.metrics.update(initializer_metrics(row.counts, seconds))
            if row.key not in rows:
                rows[row.key] = row
            elif not _same(rows[row.key], row):
                log.warning("%s: row %s differs from %s's; kept the first", path, row.key, row.job)
    if not rows:
        raise EmptyInputError(f"{root}: its {RESULT} files hold no rows")
    return sorted(rows.values(), key=row_order), jobs


def rank(value: str, order: tuple[str, ...]) -> tuple[int, str]:
    """Sort key: known names in `order` first, in that order, then the rest alphabetically."""
    return (order.index(value), "") if value in order else (len(order), value)


def row_order(row: Row) -> tuple:
    """Table order: model, langset, stage, then the source row, dims ascending (full last),
    initializers in the paper's order, seeds."""
    return (
        row.model,
        row.langset,
        rank(row.stage, STAGE_ORDER),
        row.initializer != "source",
        math.inf if row.dim is None else row.dim,
        rank(row.initializer, INITIALIZER_ORDER),
        -1 if row.seed is None else row.seed,
    )
