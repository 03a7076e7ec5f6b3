"""Installed-distribution look-alikes: a `<name>-<version>.dist-info` (METADATA, RECORD with each
file's sha256 and size, as pip writes it) and the files, in a folder a test puts on sys.path."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path


def record_digest(data: bytes) -> str:
    """RECORD's spelling of a sha256: urlsafe base64 without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def install_fake(root: Path, name: str, version: str, files: dict[str, bytes]) -> dict[str, Path]:
    """Write distribution `name`==`version` with `files` (path inside its package → bytes) under
    `root`; returns each file's path."""
    package = name.replace("-", "_")
    info = root / f"{package}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines, paths = [], {}
    for rel, data in files.items():
        path = root / package / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        lines.append(f"{package}/{rel},sha256={record_digest(data)},{len(data)}")
        paths[rel] = path
    lines.append(f"{info.name}/RECORD,,")
    (info / "RECORD").write_text("\n".join(lines) + "\n")
    return paths
