"""Calls run as an unprivileged user, so file modes bind even when the tests run as root."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

NOBODY = 65534


def outcome(call: Callable[[], object]) -> tuple[str, str]:
    """("ok", str(result)) or (the error's type name, its message)."""
    try:
        return "ok", str(call())
    except Exception as err:
        return type(err).__name__, str(err)


def _child(call: Callable[[], object], conn) -> None:
    if os.geteuid() == 0:  # root reads and writes whatever the mode: become nobody
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    conn.send(outcome(call))


def run_unprivileged(call: Callable[[], object]) -> tuple[str, str]:
    """outcome(call) in a forked child that is not root. Import what `call` needs beforehand:
    nobody may not be able to read the interpreter's library."""
    ctx = mp.get_context("fork")
    parent, child_end = ctx.Pipe()
    child = ctx.Process(target=_child, args=(call, child_end))
    child.start()
    result = parent.recv()
    child.join(30)
    return result


@contextlib.contextmanager
def shared_tmp() -> Iterator[Path]:
    """A temp dir every user can enter (pytest's tmp_path is 0700), removed afterwards."""
    top = Path(tempfile.mkdtemp(prefix="hyperofa-modes-"))
    top.chmod(0o755)
    try:
        yield top
    finally:
        for d in [top, *top.rglob("*")]:
            if d.is_dir() and not d.is_symlink():
                d.chmod(0o755)
        shutil.rmtree(top)
