"""Shared by the entry points: failures are logged with the run dir, loggers are always closed."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TypeVar

from hyperofa.errors import HyperofaError

log = logging.getLogger("hyperofa")
logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # it logs every CPU-feature probe
T = TypeVar("T")


def task_wrapper(task: Callable[[], T]) -> T:
    """Run `task`; on a HyperofaError log its message (no traceback noise) and exit non-zero."""
    try:
        return task()
    except HyperofaError as err:
        log.error("%s: %s", type(err).__name__, err)
        sys.exit(2)
    except Exception:
        log.exception("run failed")
        raise
    finally:
        if "wandb" in sys.modules:
            import wandb

            if wandb.run is not None:
                wandb.finish()
