import json
import multiprocessing as mp

import pytest

from hyperofa.artifacts import cached_stage, checksums, verify_checksums
from hyperofa.errors import BadFileError


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
