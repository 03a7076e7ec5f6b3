import pytest

from hyperofa.config.enums import LoggerKind
from hyperofa.config.training import LoggerConfig, TrainerConfig
from hyperofa.pretrain.train import pretrain
from hyperofa.training.loggers import Tracking
from tests.unit.pretrain.conftest import make_texts, tiny_config


@pytest.mark.slow
def test_two_runs_in_one_process_get_their_own_offline_wandb_runs(
    model_dirs, tokenizer, tmp_path, monkeypatch
):
    monkeypatch.setenv("WANDB_SILENT", "true")
    for name in ("random", "ofa"):
        run_dir = tmp_path / name
        tracking = Tracking(LoggerConfig(kind=LoggerKind.wandb), run_dir, (name,))
        pretrain(
            model_dirs["plain"],
            tokenizer,
            make_texts(10),
            make_texts(3, seed=1),
            tiny_config(max_steps=3, val_check_interval=3),
            run_dir,
            loggers=tracking.loggers(".", "pretrain"),
            hw=TrainerConfig(progress=False),
        )
        runs = list((run_dir / "wandb").glob("offline-run-*"))
        assert len(runs) == 1 and any(runs[0].rglob("*.wandb"))
