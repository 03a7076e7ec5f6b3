"""The pretrain stage and a downstream task inside one pipeline run, on the tiny model."""

from __future__ import annotations

import json

import pytest

from hyperofa import pipeline
from hyperofa.paths import cache_root
from hyperofa.pretrain.plot import read_metrics

from .conftest import compose_run

pytestmark = pytest.mark.integration

STAGES = "stages=[match,factorize,copy,initialize,assemble,pretrain,evaluate]"
CONLLU = (
    "1\tthe\tthe\tDET\t_\t_\t2\tdet\t_\t_\n2\tcat\tcat\tNOUN\t_\t_\t3\tnsubj\t_\t_\n"
    "3\tsleeps\tsleep\tVERB\t_\t_\t0\troot\t_\t_\n\n"
)
TINY_PRETRAIN = [
    "pretrain.max_steps=4",
    "pretrain.batch_size=4",
    "pretrain.warmup_steps=1",
    "pretrain.val_check_interval=2",
    "pretrain.checkpoint_every_n_steps=2",
    "pretrain.max_length=48",
    "pretrain.lr=1e-3",
    "trainer.progress=false",
]
TINY_POS = [
    "eval.pos.finetune.epochs=1",
    "eval.pos.finetune.batch_size=2",
    "eval.pos.finetune.accumulate_grad_batches=1",
    "eval.pos.finetune.max_length=16",
]


@pytest.fixture
def ud_dir(tmp_path):
    for lang, treebank, splits in (
        ("en", "UD_English-X", "train dev test"),
        ("mt", "UD_Maltese-Y", "test"),
    ):
        for split in splits.split():
            path = tmp_path / "ud" / treebank / f"{lang}_x-ud-{split}.conllu"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(CONLLU * 4)
    return tmp_path / "ud"


@pytest.mark.usefixtures("warm_cache")
def test_pretrain_then_downstream_task_on_the_final_model(tmp_path, tiny_overrides, ud_dir):
    overrides = [
        *tiny_overrides,
        STAGES,
        *TINY_PRETRAIN,
        "eval=[step0,pos]",
        f"eval.pos.path={ud_dir}",
        *TINY_POS,
        "initializer=random",
    ]
    run_dir = tmp_path / "run"
    result = pipeline.run(compose_run(overrides, run_dir))
    rows = {(r["initializer"], r["stage"]): r for r in result["rows"]}
    assert set(rows) == {("source", "step0"), ("random", "step0"), ("random", "pretrained")}
    # downstream tasks score the job's final model and the source model, not the step-0 one
    assert "pos_accuracy" in rows[("random", "pretrained")]["metrics"]
    assert "pos_accuracy" in rows[("source", "step0")]["metrics"]
    assert "pos_accuracy" not in rows[("random", "step0")]["metrics"]
    # every language with a test file, the fine-tuning language included
    assert set(rows[("random", "pretrained")]["metrics"]["per_language"]["pos"]) == {"en", "mt"}
    pretrained = rows[("random", "pretrained")]["metrics"]
    assert pretrained["cpt_steps"] == 4
    assert pretrained["cpt_val_loss_after"] < pretrained["cpt_val_loss_before"]
    # the curves come along into the job's run dir; the checkpoints are gone from the cache
    curves = read_metrics(run_dir / "pretrain" / "csv")
    assert [step for step, _ in curves["train/loss"]][-1] >= 3
    figures = json.loads((run_dir / "pretrain" / "pretrain.json").read_text())
    assert figures["model_dir"] == result["artifacts"]["pretrained"]  # not the deleted work dir
    assert not list(cache_root().rglob("*.ckpt"))
    assert not list(cache_root().glob("pretrain/*.work"))
    saved = json.loads((run_dir / "result.json").read_text())
    assert saved["artifacts"]["pretrained"].endswith(
        result["artifacts"]["pretrained"].split("/")[-1]
    )

    # the same command again: every stage, pre-training included, comes from the cache
    again = pipeline.run(compose_run(overrides, tmp_path / "run2"))
    assert again["rows"] == result["rows"]


@pytest.mark.usefixtures("warm_cache")
def test_wandb_offline_runs_land_in_the_job_dir_with_group_and_tags(tmp_path, tiny_overrides):
    from hyperofa.tracking import job_tracking, summary_metrics

    overrides = [*tiny_overrides, "initializer=random", "logger=wandb", "logger.group=sweep-1"]
    run_dir = tmp_path / "run"
    run = compose_run(overrides, run_dir)
    result = pipeline.run(run)
    assert len(list((run_dir / "wandb").glob("offline-run-*/run-*.wandb"))) == 1
    tracking = job_tracking(run)
    assert tracking.cfg.group == "sweep-1" and tracking.run_dir == run_dir
    assert tracking.tags == ("initializer:random", "model:e5_small", "dim:full", "langset:demo30")
    flat = summary_metrics(result["rows"])
    assert flat["step0/mlm_loss_heldout"] == result["rows"][1]["metrics"]["mlm_loss_heldout"]
    assert flat["source/mlm_loss_heldout"] == result["rows"][0]["metrics"]["mlm_loss_heldout"]
    assert flat["counts/random"] == result["rows"][1]["counts"]["random"]
