"""Finding wheel-shipped files by distribution metadata and joining chunks, checked."""

from __future__ import annotations

import hashlib

import pytest

from hyperofa.assets.chunks import ShippedFile, join_parts, shipped_file
from hyperofa.errors import BadFileError, IncompatibleInputsError, MissingPathError
from tests.unit.assets.fake_wheels import install_fake

DATA = [b"GGUF" + bytes(range(60)), b"\x00" * 33, b"the last, shorter part"]


def _parts(tmp_path, data=DATA) -> list[ShippedFile]:
    parts = []
    for i, chunk in enumerate(data):
        path = tmp_path / f"model.part{i:02d}"
        path.write_bytes(chunk)
        parts.append(ShippedFile(path, len(chunk), hashlib.sha256(chunk).hexdigest()))
    return parts


def _whole(data=DATA) -> tuple[int, str]:
    joined = b"".join(data)
    return len(joined), hashlib.sha256(joined).hexdigest()


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_parts_are_joined_in_order(tmp_path):
    out = tmp_path / "assets" / "model.gguf"
    counts = join_parts(_parts(tmp_path), out, *_whole())
    assert out.read_bytes() == b"".join(DATA)
    assert counts["bytes"] == len(b"".join(DATA)) and counts["sha256"] == _whole()[1]
    assert counts["parts"] == ["model.part00", "model.part01", "model.part02"]
    assert _leftovers(out.parent) == []


def test_parts_out_of_order_fail_the_whole_file_sha256(tmp_path):
    parts = _parts(tmp_path)
    out = tmp_path / "model.gguf"
    with pytest.raises(BadFileError, match="joined sha256"):
        join_parts([parts[1], parts[0], parts[2]], out, *_whole())
    assert not out.exists() and _leftovers(tmp_path) == []


def test_a_changed_part_is_named_and_nothing_is_written(tmp_path):
    parts = _parts(tmp_path)
    parts[1].path.write_bytes(b"\x01" * 33)  # same size, other bytes
    out = tmp_path / "model.gguf"
    with pytest.raises(BadFileError, match=r"model\.part01: sha256"):
        join_parts(parts, out, *_whole())
    assert not out.exists() and _leftovers(tmp_path) == []


def test_a_truncated_part_is_named(tmp_path):
    parts = _parts(tmp_path)
    parts[2].path.write_bytes(DATA[2][:-1])
    with pytest.raises(BadFileError, match=r"model\.part02: 21 bytes; .* lists 22"):
        join_parts(parts, tmp_path / "model.gguf", *_whole())


def test_the_expected_size_and_sha256_of_the_whole_are_checked(tmp_path):
    size, sha = _whole()
    with pytest.raises(BadFileError, match=f"joined {size:,} bytes, expected {size + 1:,}"):
        join_parts(_parts(tmp_path), tmp_path / "a.gguf", size + 1, sha)
    with pytest.raises(BadFileError, match="joined sha256"):
        join_parts(_parts(tmp_path), tmp_path / "b.gguf", size, "0" * 64)
    assert not (tmp_path / "a.gguf").exists() and not (tmp_path / "b.gguf").exists()


def test_no_parts_is_an_error(tmp_path):
    with pytest.raises(IncompatibleInputsError, match="no parts"):
        join_parts([], tmp_path / "x", 0, "")


def test_a_shipped_file_is_found_by_its_distribution_record(tmp_path, monkeypatch):
    data = b"chunk bytes"
    paths = install_fake(tmp_path, "hyperofa-fake-part", "1.2.3", {"data/x.part00": data})
    monkeypatch.syspath_prepend(str(tmp_path))
    found = shipped_file("hyperofa-fake-part", "1.2.3", "x.part00", "pip install it")
    assert found.path == paths["data/x.part00"].resolve()
    assert (found.size, found.sha256) == (len(data), hashlib.sha256(data).hexdigest())


def test_a_missing_distribution_names_the_install_command():
    with pytest.raises(MissingPathError, match="hyperofa-no-such-wheel==1.0.0.*make it so"):
        shipped_file("hyperofa-no-such-wheel", "1.0.0", "x.part00", "make it so")


def test_another_installed_version_is_refused(tmp_path, monkeypatch):
    install_fake(tmp_path, "hyperofa-fake-part", "0.9.0", {"data/x.part00": b"old"})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(IncompatibleInputsError, match="0.9.0 is installed; 1.0.0 is pinned"):
        shipped_file("hyperofa-fake-part", "1.0.0", "x.part00", "pip install it")


def test_a_file_the_distribution_does_not_list_or_has_lost_is_missing(tmp_path, monkeypatch):
    paths = install_fake(tmp_path, "hyperofa-fake-part", "1.0.0", {"data/x.part00": b"x"})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MissingPathError, match="y.part00"):
        shipped_file("hyperofa-fake-part", "1.0.0", "y.part00", "pip install it")
    paths["data/x.part00"].unlink()
    with pytest.raises(MissingPathError, match="x.part00"):
        shipped_file("hyperofa-fake-part", "1.0.0", "x.part00", "pip install it")
