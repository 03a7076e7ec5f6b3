"""Child process of the kill-and-resume test: trains the tiny problem in a run dir.

    python -m tests.unit.hypernet._resume_child RUN_DIR OUT_FILE [HANG_AT_STEP]

Writes the final and best weights to OUT_FILE. With HANG_AT_STEP it instead touches
RUN_DIR/../hanging before that step and sleeps, waiting for the parent's SIGKILL.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytorch_lightning as pl
import torch

from tests.unit.hypernet.conftest import make_problem, tiny_configs, train_problem


class Hang(pl.Callback):
    def __init__(self, step: int, flag: Path):
        self.step, self.flag = step, flag

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.step:
            self.flag.touch()
            time.sleep(600)


class Final(pl.Callback):
    def on_fit_end(self, trainer, pl_module):
        self.state = {k: v.clone() for k, v in pl_module.net.state_dict().items()}


def main(run_dir: Path, out: Path, hang_at: int | None) -> None:
    torch.set_num_threads(1)
    p = make_problem()
    model_cfg, train_cfg = tiny_configs(max_epochs=3, checkpoint_every_n_steps=2)
    final = Final()
    callbacks = [final] if hang_at is None else [final, Hang(hang_at, run_dir.parent / "hanging")]
    result = train_problem(p, run_dir, model_cfg, train_cfg, callbacks=callbacks)
    best = result.model.state_dict()
    torch.save({"final": final.state, "best": best, "metrics": result.metrics}, out)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else None)
