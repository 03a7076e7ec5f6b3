"""Files shipped split across several PyPI wheels (PyPI caps a file at ~100 MB): find each part by
its distribution's metadata and join the parts, checked against what the wheels ship.

A wheel's RECORD lists every installed file with its size and sha256, so a part is verified
without trusting the package's own code (which is never imported).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as md
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hyperofa.errors import BadFileError, IncompatibleInputsError, MissingPathError

BLOCK = 1 << 22  # 4 MiB reads: the join is disk-bound, and this keeps memory flat


@dataclass(frozen=True)
class ShippedFile:
    """A file installed by a wheel, with the size and sha256 (hex) its RECORD lists."""

    path: Path
    size: int
    sha256: str


def _record_sha256(value: str) -> str:
    """RECORD's `sha256=<urlsafe base64, unpadded>` digest as hex."""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()


def shipped_file(distribution: str, version: str, name: str, install: str) -> ShippedFile:
    """The file whose installed path ends with `name` in `distribution`, which must be installed
    at exactly `version`.

    MissingPathError (naming `install`) when the distribution or the file is absent;
    IncompatibleInputsError when another version is installed; BadFileError when RECORD lists
    no sha256 for the file.
    """
    try:
        dist = md.distribution(distribution)
    except md.PackageNotFoundError:
        raise MissingPathError(f"package {distribution}=={version}", name, install) from None
    if dist.version != version:
        raise IncompatibleInputsError(
            f"{distribution} {dist.version} is installed; {version} is pinned ({install})"
        )
    entry = next((f for f in dist.files or () if f.as_posix().endswith(name)), None)
    if entry is None:
        raise MissingPathError(f"package {distribution}=={version}", name, install)
    path = Path(str(dist.locate_file(entry))).resolve()
    if not path.is_file():
        raise MissingPathError(f"package {distribution}=={version}", path, install)
    if entry.hash is None or entry.hash.mode != "sha256" or entry.size is None:
        raise BadFileError(path, f"{distribution}'s RECORD lists no sha256 and size for it")
    return ShippedFile(path, int(entry.size), _record_sha256(entry.hash.value))


def _copy_checked(part: ShippedFile, out, total: hashlib._Hash) -> int:
    """Append `part` to `out`, hashing it alone and into `total`; BadFileError on a mismatch."""
    own, size = hashlib.sha256(), 0
    with open(part.path, "rb") as src:
        while block := src.read(BLOCK):
            own.update(block)
            total.update(block)
            out.write(block)
            size += len(block)
    if size != part.size:
        raise BadFileError(part.path, f"{size:,} bytes; its wheel's RECORD lists {part.size:,}")
    if own.hexdigest() != part.sha256:
        raise BadFileError(part.path, f"sha256 {own.hexdigest()}; its RECORD lists {part.sha256}")
    return size


def join_parts(
    parts: Sequence[ShippedFile], out: Path, size: int, sha256: str
) -> dict[str, object]:
    """Concatenate `parts` in order into `out` (written atomically: a temp file beside it, then a
    rename), checking each part against its RECORD entry and the whole against `size` bytes and
    `sha256` (hex). On any mismatch BadFileError names the part or the joined file and `out` is
    not created. Returns counts: bytes, sha256, parts."""
    if not parts:
        raise IncompatibleInputsError(f"no parts to join into {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.tmp-")
    try:
        total, written = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as dest:
            for part in parts:
                written += _copy_checked(part, dest, total)
        if written != size:
            raise BadFileError(out, f"joined {written:,} bytes, expected {size:,}")
        if total.hexdigest() != sha256:
            raise BadFileError(out, f"joined sha256 {total.hexdigest()}, expected {sha256}")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return {"bytes": written, "sha256": sha256, "parts": [p.path.name for p in parts]}
