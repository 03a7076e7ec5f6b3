import json
import logging
import multiprocessing as mp
import os
import signal
import time

import pytest

from hyperofa.artifacts import cache_key, cached_stage, checksums, default_mode, verify_checksums
from hyperofa.errors import BadFileError, UnwritableDirError
from tests.unprivileged import run_unprivileged, shared_tmp


def test_cached_stage_builds_once_and_reuses(tmp_path):
    calls = []

    def build(tmp):
        calls.append(1)
        (tmp / "x.txt").write_text("hello")
        return {"n": 1, "checksums": checksums(tmp, ["x.txt"])}

    a = cached_stage(tmp_path, "s", {"k": 1}, {"in": "abc"}, build)
    b = cached_stage(tmp_path, "s", {"k": 1}, {"in": "abc"}, build)
    c = cached_stage(tmp_path, "s", {"k": 2}, {"in": "abc"}, build)
    assert len(calls) == 2 and a.path == b.path != c.path
    manifest = json.loads((a.path / "manifest.json").read_text())
    assert manifest["config"] == {"k": 1} and manifest["counts"]["n"] == 1
    verify_checksums(a)
    (a.path / "x.txt").write_text("tampered")
    with pytest.raises(BadFileError, match="sha256"):
        verify_checksums(a)


def test_failed_build_leaves_nothing(tmp_path):
    def build(tmp):
        (tmp / "half.bin").write_bytes(b"12")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cached_stage(tmp_path, "s", {}, {}, build)
    assert [p.name for p in (tmp_path / "s").iterdir() if not p.name.startswith(".")] == []


def _build_in_process(root, counter_dir):
    def build(tmp):
        (counter_dir / f"built-{mp.current_process().pid}").touch()
        (tmp / "out").write_text("x" * 100_000)
        return {}

    cached_stage(root, "race", {"a": 1}, {}, build)


def test_two_processes_build_one_entry(tmp_path):
    counter = tmp_path / "counter"
    counter.mkdir()
    procs = [
        mp.get_context("fork").Process(target=_build_in_process, args=(tmp_path, counter))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert all(p.exitcode == 0 for p in procs)
    assert len(list(counter.iterdir())) == 1
    entries = [p for p in (tmp_path / "race").iterdir() if not p.name.startswith(".")]
    assert len(entries) == 1 and (entries[0] / "out").read_text() == "x" * 100_000


def _build_until_killed(root, started):
    def build(tmp):
        (tmp / "half.bin").write_bytes(b"12")
        started.touch()
        time.sleep(60)
        return {}

    cached_stage(root, "killed", {"a": 1}, {}, build)


def test_next_lock_removes_the_temp_dir_of_a_killed_build(tmp_path, caplog):
    started = tmp_path / "started"
    child = mp.get_context("fork").Process(target=_build_until_killed, args=(tmp_path, started))
    child.start()
    deadline = time.monotonic() + 30
    while not started.exists() and child.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert started.exists(), "the child never reached its build"
    os.kill(child.pid, signal.SIGKILL)
    child.join(10)
    assert child.exitcode == -signal.SIGKILL
    key = cache_key("killed", {"a": 1}, {})
    stage_dir = tmp_path / "killed"
    assert [p.name.startswith(f"{key}.tmp-") for p in stage_dir.iterdir() if p.is_dir()] == [True]
    other = stage_dir / "0123456789abcdef.tmp-other"  # another key's build: not ours to remove
    other.mkdir()

    with caplog.at_level(logging.WARNING, logger="hyperofa.artifacts"):
        art = cached_stage(tmp_path, "killed", {"a": 1}, {}, lambda tmp: {"n": 1})
    assert "removed 1 stale temp dir(s)" in caplog.text
    assert art.path == stage_dir / key and art.counts == {"n": 1}
    assert sorted(p.name for p in stage_dir.iterdir() if p.is_dir()) == sorted([key, other.name])


def test_cache_dir_under_a_file_is_a_named_error(tmp_path):
    (tmp_path / "home").write_text("a file, not a dir")
    root = tmp_path / "home" / "cache"
    built = []
    with pytest.raises(UnwritableDirError) as err:
        cached_stage(root, "s", {}, {}, lambda tmp: built.append(1) or {})
    message = str(err.value)
    assert str(root / "s") in message and "expected a writable directory" in message
    assert "$HYPEROFA_HOME" in message and not built


def test_read_only_cache_refuses_new_entries_and_reuses_old_ones():
    with shared_tmp() as top:
        root = top / "cache"
        old = cached_stage(root, "s", {"k": "old"}, {}, lambda tmp: {})
        for d in (top, root, root / "s"):
            d.chmod(0o555)
        new_kind, new_message = run_unprivileged(
            lambda: cached_stage(root, "s", {"k": "new"}, {}, lambda tmp: {})
        )
        reused = run_unprivileged(
            lambda: cached_stage(root, "s", {"k": "old"}, {}, lambda tmp: {}).path
        )
    assert new_kind == "UnwritableDirError", new_message
    assert str(root / "s") in new_message and "$HYPEROFA_HOME" in new_message
    assert reused == ("ok", str(old.path))


def test_a_garbled_manifest_is_named(tmp_path):
    art = cached_stage(tmp_path, "s", {}, {}, lambda tmp: {})
    (art.path / "manifest.json").write_text("{not json")
    with pytest.raises(BadFileError) as err:
        cached_stage(tmp_path, "s", {}, {}, lambda tmp: {})
    assert str(art.path / "manifest.json") in str(err.value)
    assert f"Delete {art.path}" in str(err.value)


def test_entries_are_readable_by_other_users(tmp_path):
    art = cached_stage(tmp_path, "s", {}, {}, lambda tmp: {})
    assert art.path.stat().st_mode & 0o777 == default_mode(directory=True)  # not mkdtemp's 0700
    assert (art.path / "manifest.json").stat().st_mode & 0o777 == default_mode()
