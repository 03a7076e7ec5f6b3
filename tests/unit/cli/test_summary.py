"""The sweep summary: the report's rows and tables in summary.json / summary.md, the printed lines."""

import json
from pathlib import Path

from hyperofa.cli.summary import write_summary

SOURCE = {
    "initializer": "source",
    "dim": None,
    "stage": "step0",
    "metrics": {"mlm_loss_heldout": 5.0, "per_language": {"mlm_loss_heldout": {"fao": 5.0}}},
    "counts": {},
}
COUNTS = {"copied_exact": 10, "copied_ci": 1, "special": 4, "initialized": 3, "random": 2}


def write_job(root: Path, job: int, rows: list[dict], seed: int | None = None) -> None:
    (root / str(job)).mkdir(parents=True)
    config = {} if seed is None else {"seed": seed}
    (root / str(job) / "result.json").write_text(json.dumps({"rows": rows, "config": config}))


def init_row(initializer: str, loss: float) -> dict:
    return {
        "initializer": initializer,
        "dim": 100,
        "stage": "step0",
        "metrics": {"mlm_loss_heldout": loss},
        "counts": COUNTS,
    }


def test_summary_rows_are_deduplicated_across_jobs(tmp_path, capsys):
    for job, init in enumerate(["random", "ofa"]):
        write_job(tmp_path, job, [SOURCE, init_row(init, 9.0 - job)])
    path = write_summary(tmp_path)
    assert path == tmp_path / "summary.json"
    rows = json.loads(path.read_text())
    assert [r["initializer"] for r in rows] == ["source", "random", "ofa"]
    assert [r["metrics"]["mlm_loss_heldout"] for r in rows] == [5.0, 9.0, 8.0]
    assert rows[0]["per_language"] == {"mlm_loss_heldout": {"fao": 5.0}}
    assert rows[2]["counts"] == COUNTS and rows[2]["job"] == str(tmp_path / "1")
    table = (tmp_path / "summary.md").read_text()
    assert "| model | ofa | 100 | step0 | 15 | 3 | 2 | 8.000 |" in table  # copied = 4 + 10 + 1
    printed = capsys.readouterr().out.splitlines()
    assert "| model | ofa | 100 | step0 | 8.000 |" in printed  # the headline table
    assert printed[-1] == f"summary: {path}"
    assert (tmp_path / "report" / "report.md").is_file()


def test_a_two_seed_sweep_keeps_both_seeds_in_summary_md(tmp_path):
    for job, seed in enumerate((1, 2)):
        write_job(tmp_path, job, [SOURCE, init_row("ofa", 8.0 + seed)], seed=seed)
    write_summary(tmp_path)
    rows = json.loads((tmp_path / "summary.json").read_text())
    assert [(r["initializer"], r["seed"]) for r in rows] == [
        ("source", 1),
        ("source", 2),
        ("ofa", 1),
        ("ofa", 2),
    ]
    lines = (tmp_path / "summary.md").read_text().splitlines()
    assert "| model | ofa | 100 | step0 | 1 | 9.000 |" in lines
    assert "| model | ofa | 100 | step0 | 2 | 10.000 |" in lines


def test_no_rows_writes_nothing(tmp_path, capsys):
    (tmp_path / "0").mkdir()  # a job that failed before writing result.json
    assert write_summary(tmp_path) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0"]
    assert capsys.readouterr().out == ""
