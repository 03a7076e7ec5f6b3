import json

from hyperofa.cli.summary import collect_rows, markdown_table


def test_summary_rows_are_deduplicated_across_jobs(tmp_path):
    src = {
        "initializer": "source",
        "dim": None,
        "stage": "step0",
        "metrics": {"mlm_loss_heldout": 5.0},
        "counts": {},
    }
    for job, init in enumerate(["random", "ofa"]):
        row = {
            "initializer": init,
            "dim": 100,
            "stage": "step0",
            "metrics": {"mlm_loss_heldout": 9.0 - job},
            "counts": {
                "copied_exact": 10,
                "copied_ci": 1,
                "special": 4,
                "initialized": 3,
                "random": 2,
            },
        }
        (tmp_path / str(job)).mkdir()
        (tmp_path / str(job) / "result.json").write_text(json.dumps({"rows": [src, row]}))
    rows = collect_rows(tmp_path)
    assert [r["initializer"] for r in rows] == ["source", "random", "ofa"]
    table = markdown_table(rows)
    assert "| ofa | 100 | step0 | 15 | 3 | 2 | 8.0000 |" in table
