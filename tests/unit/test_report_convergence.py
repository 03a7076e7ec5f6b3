"""Convergence in continued pre-training: the first validation step at which each initializer
reaches random's final loss, per setting, in the report's table, figure and JSON."""

import json
from pathlib import Path

from hyperofa.report import write_report
from hyperofa.report.collect import collect
from hyperofa.report.convergence import convergence, convergence_table, first_step_at

from .test_report import PNG, SOURCE, config, row, write_job

VAL_LOGS = {  # (initializer, seed) → val/loss at steps 0, 4, 8
    ("random", 1): (11.0, 10.0, 9.0),
    ("ofa", 1): (10.5, 9.5, 8.5),  # 9.5 at step 4: reaches 9.0 at step 8
    ("hyperofa", 1): (10.0, 8.9, 8.0),  # below 9.0 at step 4
    ("focus", 1): (11.5, 10.5, 9.5),  # never reaches 9.0
    ("random", 2): (11.0, 10.5, 10.2),
    ("ofa", 2): (10.2, 10.1, 9.9),  # below 10.2 at step 0
}


def _sweep(root: Path, logs: dict = VAL_LOGS) -> Path:
    for i, ((initializer, seed), losses) in enumerate(logs.items()):
        _log(write_job(root / str(i), config(initializer, 100, seed), [SOURCE]), losses)
    return root


def _log(job: Path, losses: tuple[float, ...]) -> None:
    path = job / "pretrain" / "csv" / "version_0" / "metrics.csv"
    path.parent.mkdir(parents=True)
    lines = [f"{step},,{loss}" for step, loss in zip((0, 4, 8), losses, strict=True)]
    path.write_text("step,train/loss,val/loss\n1,10.0,\n" + "\n".join(lines) + "\n")


def test_first_step_at_is_the_first_loss_at_or_below_the_target():
    curve = [(0, 3.0), (5, 2.0), (9, 1.0)]
    assert [first_step_at(curve, t) for t in (3.5, 3.0, 2.5, 1.0, 0.5)] == [0, 0, 5, 9, None]


def test_steps_to_randoms_final_loss_per_setting(tmp_path):
    found = convergence(collect(_sweep(tmp_path))[1])
    steps = {(c.job.initializer, c.job.seed): c.steps for c in found}
    assert steps == {
        ("random", 1): 8, ("ofa", 1): 8, ("hyperofa", 1): 4, ("focus", 1): None,
        ("random", 2): 8, ("ofa", 2): 0,
    }  # fmt: skip
    assert {c.job.seed: c.target for c in found} == {1: 9.0, 2: 10.2}
    # table: the seed varies, so it names the rows; initializers in the paper's order
    lines = convergence_table(found).splitlines()
    assert lines[0].startswith("| seed | initializer |")
    assert lines[2:6] == [
        "| 1 | random | 11.0000 | 9.0000 | 8 of 8 |",
        "| 1 | focus | 11.5000 | 9.5000 | not reached of 8 |",
        "| 1 | ofa | 10.5000 | 8.5000 | 8 of 8 |",
        "| 1 | hyperofa | 10.0000 | 8.0000 | 4 of 8 |",
    ]


def test_a_setting_without_random_has_no_target(tmp_path):
    logs = {("ofa", 1): (10.0, 9.0, 8.0), ("hyperofa", 1): (10.0, 9.5, 9.0)}
    found = convergence(collect(_sweep(tmp_path, logs))[1])
    assert [c.target for c in found] == [None, None] and convergence_table(found) == ""


def test_report_has_the_convergence_table_figure_and_records(tmp_path):
    report = write_report(_sweep(tmp_path))
    text = (report.out / "report.md").read_text()
    assert "## Convergence in continued pre-training" in text and "| 1 | hyperofa |" in text
    figure = report.out / "convergence.png"
    assert figure in report.files and figure.read_bytes()[:8] == PNG
    records = json.loads((report.out / "report.json").read_text())["convergence"]
    assert len(records) == 6 and records[0]["val_loss"] == [[0, 11.0], [4, 10.0], [8, 9.0]]


def test_a_variant_is_named_by_its_rows_label_not_its_config_name(tmp_path):
    variant = row("stacked+hypernet", 100, "step0", {"mlm_loss_heldout": 10.0})
    labelled = {"random": [SOURCE], "stacked": [SOURCE], "stacked+hypernet": [SOURCE, variant]}
    for i, (name, rows) in enumerate(labelled.items()):
        job = write_job(tmp_path / str(i), config(name.split("+")[0], 100, 1), rows)
        _log(job, (11.0 - i, 10.0 - i, 9.0 - i))
    names = [c.job.initializer for c in convergence(collect(tmp_path)[1])]
    assert names == ["random", "stacked", "stacked+hypernet"]
