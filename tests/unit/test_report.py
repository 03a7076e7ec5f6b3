import csv
import io
import json
from pathlib import Path

import pytest

from hyperofa.cli.report import main
from hyperofa.errors import BadFileError, EmptyInputError, MissingPathError
from hyperofa.pretrain.plot import read_metrics
from hyperofa.report import collect, headline_table, per_language_csv, row_record, write_report

PNG = b"\x89PNG\r\n\x1a\n"
SOURCE = {
    "initializer": "source",
    "dim": None,
    "stage": "step0",
    "model": "e5_small",
    "metrics": {
        "mlm_loss_heldout": 11.1,
        "sr_udhr_top10": 0.75,
        "per_language": {
            "mlm_loss_heldout": {"fao": 10.0, "tat": 12.2},
            "sr_udhr": {"fao": {"top1": 0.1, "top10": 0.8}, "tat": {"top1": 0.2, "top10": 0.7}},
        },
    },
    "counts": {},
}


def config(initializer: str, dim: int | None, seed: int = 42) -> dict:
    return {
        "model": {"name": "e5_small"},
        "initializer": {"name": initializer},
        "factorize": {"dim": dim},
        "langset": {"name": "demo30"},
        "seed": seed,
    }


def row(initializer: str, dim: int | None, stage: str, metrics: dict, **extra) -> dict:
    counts = {"special": 5, "copied_exact": 900, "copied_ci": 5, "initialized": 60, "random": 30}
    return (
        {"initializer": initializer, "dim": dim, "stage": stage, "metrics": metrics}
        | {
            "counts": counts,
            "model": "e5_small",
        }
        | extra
    )


def write_job(job: Path, cfg: dict, rows: list[dict]) -> Path:
    job.mkdir(parents=True, exist_ok=True)
    (job / "result.json").write_text(json.dumps({"rows": rows, "artifacts": {}, "config": cfg}))
    return job


def write_log(job: Path, version: int, lines: list[str]) -> None:
    path = job / "pretrain" / "csv" / f"version_{version}" / "metrics.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("step,train/loss,train/lr,val/loss,val/loss_fao\n" + "\n".join(lines) + "\n")


def job_rows(initializer: str, step0: tuple[float, float], after: tuple[float, float, float]):
    old = row(initializer, 100, "step0", {"mlm_loss_heldout": step0[0], "sr_udhr_top10": step0[1]})
    del old["model"]  # a result.json written before rows named their model
    old["metrics"]["per_language"] = {"mlm_loss_heldout": {"fao": step0[0] - 1, "tat": step0[0]}}
    ner = {"fao": {"f1": after[2] + 0.1, "precision": 0.9}, "tat": {"f1": after[2] - 0.1}}
    pretrained = row(
        initializer,
        100,
        "pretrained",
        {
            "mlm_loss_heldout": after[0],
            "sr_udhr_top10": after[1],
            "ner_f1": after[2],
            "per_language": {"ner": ner},
        },
    )
    return [SOURCE, old, pretrained]


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    """Two jobs sharing the source row; job 1's pre-training was resumed (two CSV versions)."""
    root = tmp_path / "multirun"
    job0 = write_job(
        root / "0", config("random", 100), job_rows("random", (11.4, 0.6), (7.5, 0.8, 0.4))
    )
    job1 = write_job(root / "1", config("ofa", 100), job_rows("ofa", (11.2, 0.7), (7.2, 0.85, 0.5)))
    write_log(job0, 0, ["0,,,11.4,11.0", "1,11.3,1e-5,,", "2,10.0,2e-5,,", "2,,,9.8,9.1"])
    write_log(job1, 0, ["0,,,11.2,10.9", "1,11.1,1e-5,,"])
    write_log(job1, 1, ["2,9.5,2e-5,,", "2,,,9.4,9.0"])
    return root


def table_lines(rows) -> list[list[str]]:
    lines = headline_table(rows).splitlines()
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines]


def test_shared_source_row_is_kept_once_and_rows_come_in_table_order(sweep):
    rows, jobs = collect(sweep)
    keys = [(r.initializer, r.dim, r.stage) for r in rows]
    assert keys == [
        ("source", None, "step0"),
        ("random", 100, "step0"),
        ("ofa", 100, "step0"),
        ("random", 100, "pretrained"),
        ("ofa", 100, "pretrained"),
    ]
    assert {r.model for r in rows} == {"e5_small"}  # the old row took it from its config
    assert [j.pretrain_logs for j in jobs] == [sweep / d / "pretrain" / "csv" for d in ("0", "1")]
    assert read_metrics(jobs[1].pretrain_logs)["val/loss"] == [(0, 11.2), (2, 9.4)]  # resumed


def test_headline_table_columns_values_blanks_and_avg(sweep):
    header, align, *body = table_lines(collect(sweep)[0])
    assert header == [
        "model", "initializer", "dim", "stage", "MLM loss ↓", "SR-UDHR top10", "NER F1", "avg"
    ]  # fmt: skip
    assert align[4:] == ["---:"] * 4
    assert body[0] == ["e5_small", "source", "full", "step0", "11.100", "0.750", "", ""]
    assert body[2] == ["e5_small", "ofa", "100", "step0", "11.200", "0.700", "", ""]
    assert body[3] == [
        "e5_small",
        "random",
        "100",
        "pretrained",
        "7.500",
        "0.800",
        "0.400",
        "0.600",
    ]


def test_no_avg_column_with_a_single_higher_is_better_metric(tmp_path):
    write_job(tmp_path / "run", config("ofa", None), [SOURCE])
    header = table_lines(collect(tmp_path / "run")[0])[0]
    assert header == ["model", "initializer", "dim", "stage", "MLM loss ↓", "SR-UDHR top10"]


def test_a_run_without_pretraining_logs_gets_no_loss_curves(tmp_path):
    write_job(tmp_path / "run", config("ofa", None), [SOURCE])
    report = write_report(tmp_path / "run", tmp_path / "elsewhere")
    assert report.out == tmp_path / "elsewhere" and not (tmp_path / "run" / "report").exists()
    assert [p.name for p in report.files if p.suffix == ".png"] == [
        "bars_mlm_loss_heldout.png",
        "bars_sr_udhr_top10.png",
    ]
    assert "0 jobs with continued pre-training logs" in (report.out / "report.md").read_text()


def test_per_language_csv_takes_each_tasks_headline(sweep):
    rows = collect(sweep)[0]
    text, metric = per_language_csv(rows, "sr_udhr")
    assert metric == "top10"
    assert list(csv.reader(io.StringIO(text))) == [
        ["model", "initializer", "dim", "stage", "fao", "tat", "average"],
        ["e5_small", "source", "full", "step0", "0.8", "0.7", repr((0.8 + 0.7) / 2)],
    ]
    text, metric = per_language_csv(rows, "ner")
    lines = list(csv.reader(io.StringIO(text)))
    assert metric == "f1"
    assert lines[1] == ["e5_small", "random", "100", "pretrained", repr(0.5), repr(0.30000000000000004), repr(0.4)]  # fmt: skip


def test_per_language_csv_leaves_missing_languages_blank(tmp_path):
    other = row("ofa", None, "step0", {"per_language": {"mlm_loss_heldout": {"zul": 9.0}}})
    write_job(tmp_path / "run", config("ofa", None), [SOURCE, other])
    text, metric = per_language_csv(collect(tmp_path / "run")[0], "mlm_loss_heldout")
    assert metric == ""
    assert text.splitlines() == [
        "model,initializer,dim,stage,fao,tat,zul,average",
        "e5_small,source,full,step0,10.0,12.2,,11.1",
        "e5_small,ofa,full,step0,,,9.0,9.0",
    ]


def test_write_report_writes_tables_csvs_and_pngs_replacing_an_old_report(sweep):
    (sweep / "report").mkdir()
    (sweep / "report" / "stale.png").write_bytes(PNG)
    report = write_report(sweep)
    names = sorted(p.name for p in (sweep / "report").iterdir())
    assert names == sorted(p.name for p in report.files)
    assert names == sorted([
        "report.md", "report.json", "loss_curves.png", "convergence.png",
        "mlm_loss_heldout_per_language.csv", "sr_udhr_per_language.csv", "ner_per_language.csv",
        "bars_mlm_loss_heldout.png", "bars_sr_udhr_top10.png", "bars_ner_f1.png",
        "bars_coverage.png",
    ])  # fmt: skip
    for png in (sweep / "report").glob("*.png"):
        assert png.read_bytes()[:8] == PNG and png.stat().st_size > 5_000
    assert report.table in (sweep / "report" / "report.md").read_text()
    summary = json.loads((sweep / "report" / "report.json").read_text())
    assert (
        len(summary["rows"]) == 5 and summary["per_language_metric"]["ner_per_language.csv"] == "f1"
    )
    assert report.rows == collect(sweep)[0]
    assert summary["rows"] == [row_record(r) for r in report.rows]
    assert summary["rows"][0]["job"] == str(sweep / "0") and summary["rows"][0]["seed"] == 42
    assert not [p for p in sweep.iterdir() if p.name.startswith(".report")]  # no temp dir left


def test_a_seed_sweep_keeps_each_seeds_rows_and_shows_the_seed(tmp_path):
    for i, seed in enumerate((1, 2)):
        write_job(
            tmp_path / str(i),
            config("ofa", None, seed),
            [SOURCE | {"metrics": {"mlm_loss_heldout": seed}}],
        )
    header, _, *body = table_lines(collect(tmp_path)[0])
    assert header[:6] == ["model", "initializer", "dim", "stage", "seed", "MLM loss ↓"]
    assert [line[4:] for line in body] == [["1", "1.000"], ["2", "2.000"]]


def test_named_errors_for_missing_empty_and_malformed_inputs(tmp_path):
    with pytest.raises(MissingPathError, match="nowhere"):
        collect(tmp_path / "nowhere")
    with pytest.raises(EmptyInputError, match="no result.json"):
        collect(tmp_path)
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "result.json").write_text('{"rows": [\n  {"initializer": }')
    with pytest.raises(BadFileError, match=r"0/result.json:2: not valid JSON"):
        collect(tmp_path)
    (tmp_path / "0" / "result.json").write_text('{"rows": {}}')
    with pytest.raises(BadFileError, match='"rows" list'):
        collect(tmp_path)
    write_job(tmp_path / "0", {}, [SOURCE, {"dim": 100}])
    with pytest.raises(BadFileError, match=r"rows\[1\].*initializer"):
        collect(tmp_path)
    write_job(tmp_path / "0", {}, [])
    with pytest.raises(EmptyInputError, match="hold no rows"):
        collect(tmp_path)
    assert not (tmp_path / "report").exists()


def test_cli_prints_the_table_and_the_paths(sweep, tmp_path, capsys):
    main([str(sweep), "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert "| e5_small | ofa | 100 | pretrained | 7.200 | 0.850 | 0.500 | 0.675 |" in printed
    assert f"wrote {tmp_path / 'out' / 'loss_curves.png'}" in printed


def test_cli_exits_non_zero_with_the_error_on_an_empty_dir(tmp_path, caplog):
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path)])
    assert exit_info.value.code == 2
    assert "EmptyInputError" in caplog.text


def test_decoder_rows_get_bits_per_byte_columns_and_a_continuations_table(tmp_path):
    """bits/byte and tokens/word are headline columns (lower is better); continuations of every
    row that has them are shown side by side per language, `|` escaped."""

    def decoder_row(initializer: str, bpb: float, fertility: float, text: str) -> dict:
        metrics = {
            "bpb_heldout": bpb,
            "fertility_heldout": fertility,
            "details": {
                "continuations": {"deu": {"prompt": "Alle Menschen", "continuation": text}}
            },
        }
        return row(initializer, None, "step0", metrics, model="gemma3_270m")

    rows = [decoder_row("source", 2.5, 3.1, " sind | frei"), decoder_row("ofa", 2.25, 1.9, " x")]
    write_job(tmp_path / "0", config("ofa", None), rows)
    report = write_report(tmp_path)
    header = report.table.splitlines()[0]
    assert "bits/byte ↓" in header and "tokens/word ↓" in header
    text = (report.out / "report.md").read_text()
    section = text.split("## Greedy continuations of held-out openings")[1]
    assert "| deu | Alle Menschen | sind \\| frei | x |" in section


def test_tied_and_untied_jobs_keep_their_own_rows_and_a_head_column(tmp_path):
    """Jobs that differ only in `assemble.untie` are two models, not one row seen twice."""
    for job, untie, bpb in (("0", False, 3.1), ("1", True, 3.0)):
        cfg = config("ofa", None) | {"assemble": {"untie": untie}}
        write_job(tmp_path / job, cfg, [row("ofa", None, "step0", {"bpb_heldout": bpb})])
    rows, _ = collect(tmp_path)
    assert sorted((r.head, r.metrics["bpb_heldout"]) for r in rows) == [
        ("tied", 3.1),
        ("untied", 3.0),
    ]
    assert headline_table(rows).splitlines()[0].split(" | ")[4] == "head"


def _manifest(cache: Path, stage: str, key: str, seconds: float, inputs: dict) -> Path:
    path = cache / stage / key
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps({"seconds": seconds, "inputs": inputs}))
    return path


def test_initializers_table_has_coverage_intrinsic_cosine_and_init_time(tmp_path):
    cache = tmp_path / "cache"
    _manifest(cache, "hypernet", "h1", 100.0, {"rows": "r"})
    init = _manifest(cache, "initialize", "i1", 20.5, {"hypernet": "h1", "copy": "c"})
    own = row("hyperofa", 100, "step0", {"mlm_loss_heldout": 11.0, "intrinsic_cosine": 0.25})
    job = write_job(tmp_path / "run", config("hyperofa", 100), [SOURCE, own])
    result = json.loads((job / "result.json").read_text())
    result["artifacts"] = {"initialize": str(init)}
    (job / "result.json").write_text(json.dumps(result))
    rows = collect(job)[0]
    assert rows[1].metrics["init_seconds"] == 120.5  # the hypernet's training counts
    assert rows[1].metrics["coverage"] == 60 / 90 and "coverage" not in rows[0].metrics
    report = write_report(job)
    text = (report.out / "report.md").read_text()
    assert "| e5_small | hyperofa | 100 | 60 | 30 | 0.667 | 0.250 | 120.500 |" in text
    names = {p.name for p in report.files}
    assert {"bars_coverage.png", "bars_intrinsic_cosine.png", "bars_init_seconds.png"} <= names


def test_init_time_is_left_out_when_the_artifacts_are_gone(tmp_path):
    own = row("ofa", None, "step0", {"mlm_loss_heldout": 11.0})
    job = write_job(tmp_path / "run", config("ofa", None), [SOURCE, own])
    result = json.loads((job / "result.json").read_text())
    result["artifacts"] = {"initialize": str(tmp_path / "cache" / "initialize" / "gone")}
    (job / "result.json").write_text(json.dumps(result))
    assert "init_seconds" not in collect(job)[0][1].metrics
