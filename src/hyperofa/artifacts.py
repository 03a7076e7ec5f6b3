"""Content-addressed, atomically written stage artifacts.

A stage's output lives in `<cache>/<stage>/<key>/` where `key` hashes the stage's resolved config,
its inputs' keys and the package version. It is built in a temp dir beside it and renamed into
place, with a `manifest.json` (stage, key, config, inputs, counts, timings, versions). A present
key is reused, never rebuilt or overwritten; a lock file makes concurrent runs build it once, and
whoever next takes it removes the temp dirs of builds that were killed.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import logging
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperofa import __version__
from hyperofa.errors import BadFileError, UnwritableDirError

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def cache_key(stage: str, config: dict[str, Any], inputs: dict[str, str]) -> str:
    """Hash of a stage's config, its inputs' keys and the package version (16 hex chars)."""
    payload = _canonical({"stage": stage, "config": config, "inputs": inputs, "v": __version__})
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def library_versions() -> dict[str, str]:
    import importlib.metadata as md

    versions = {"python": platform.python_version(), "hyperofa": __version__}
    for name in ("torch", "transformers", "tokenizers", "numpy", "faiss-cpu", "gensim"):
        with contextlib.suppress(md.PackageNotFoundError):
            versions[name] = md.version(name)
    return versions


@dataclass(frozen=True)
class Artifact:
    """A finished stage output: its directory, cache key and manifest."""

    stage: str
    key: str
    path: Path
    manifest: dict[str, Any]

    @property
    def counts(self) -> dict[str, Any]:
        return self.manifest.get("counts", {})


def default_mode(directory: bool = False) -> int:
    """The mode open()/mkdir() would give under the current umask (mkstemp/mkdtemp give 0600/0700,
    which would hide a shared cache's entries from every other user)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON to `path` via a temp file + rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True, default=str)
    os.chmod(tmp, default_mode())
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_dir(final: Path, replace: bool = False) -> Iterator[Path]:
    """Yield a temp dir beside `final`; on success rename it to `final`, on error delete it.

    If `final` exists by then, `replace` swaps ours in (the old one is removed); otherwise ours is
    discarded (another process won the race to build the same thing).
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f"{final.name}.tmp-"))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tmp.chmod(default_mode(directory=True))
    old = final.parent / f"{final.name}.old-{tmp.name.rsplit('-', 1)[-1]}"
    if replace and final.exists():
        os.replace(final, old)  # readers see the old dir until the new one is in place
    try:
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    except OSError:
        if not (final / MANIFEST).exists() and not final.is_file():
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        shutil.rmtree(tmp, ignore_errors=True)


# appended to UnwritableDirError so the user learns how to move the outputs
WHERE_OUTPUTS_LIVE = (
    ". Outputs live under $HYPEROFA_HOME (default ./outputs) and the embedded assets under "
    "$HYPEROFA_ASSETS (default $HYPEROFA_HOME/assets): set them to a writable directory"
)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock (fcntl.flock) on the file `path` for the block.

    Processes on this machine that lock the same path run their blocks one at a time; the kernel
    drops the lock when its holder dies, even by SIGKILL. To guard a directory `d` that one process
    builds (a cache entry, a hypernet training dir), use `locked_dir(d)`, which also removes what
    killed builders left. The lock file and its parent dir are created if absent; a parent that
    cannot be created or written raises UnwritableDirError naming it.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a")  # noqa: SIM115 -- the `with handle` below closes it
    except OSError as err:
        where = f": {err.filename}" if err.filename else ""
        raise UnwritableDirError(
            path.parent, f"cannot create or write it ({err.strerror}{where})", WHERE_OUTPUTS_LIVE
        ) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_stale_tmp(final: Path) -> int:
    """Delete the `<final>.tmp-*` dirs beside `final` (atomic_dir's, of builds killed before the
    rename); return how many. Call it only under `final`'s lock, when no build of it can run."""
    stale = [p for p in final.parent.glob(f"{glob.escape(final.name)}.tmp-*") if p.is_dir()]
    for tmp in stale:
        shutil.rmtree(tmp, ignore_errors=True)
    return len(stale)


@contextlib.contextmanager
def locked_dir(final: Path) -> Iterator[None]:
    """Hold the lock of the directory `final` (`.<name>.lock` beside it) for the block, after
    removing the temp dirs that killed builds of `final` left (logged with their count)."""
    with file_lock(final.parent / f".{final.name}.lock"):
        if removed := remove_stale_tmp(final):
            log.warning("removed %d stale temp dir(s) of %s left by a killed build", removed, final)
        yield


def checksums(directory: Path, names: list[str]) -> dict[str, str]:
    """sha256 of the named files of an artifact dir, to store in its manifest's counts."""
    return {name: file_sha256(directory / name) for name in names}


def verify_checksums(art: Artifact) -> None:
    """Recompute the sha256 of every file listed under counts.checksums; BadFileError on mismatch."""
    for name, expected in art.counts.get("checksums", {}).items():
        if file_sha256(art.path / name) != expected:
            raise BadFileError(
                art.path / name,
                f"sha256 differs from {art.path / MANIFEST}: the file changed after it was built; "
                f"delete {art.path} to rebuild it",
            )


def load_artifact(stage: str, path: Path) -> Artifact:
    """The artifact in `path`, from its manifest; BadFileError if the manifest is unreadable."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
        return Artifact(stage=stage, key=manifest["key"], path=path, manifest=manifest)
    except (ValueError, KeyError, TypeError) as err:
        raise BadFileError(
            path / MANIFEST,
            f"not a stage manifest ({type(err).__name__}: {err}); expected JSON with a `key`. "
            f"Delete {path} to rebuild it",
        ) from None


def cached_stage(
    root: Path,
    stage: str,
    config: dict[str, Any],
    inputs: dict[str, str],
    build: Callable[[Path], dict[str, Any]],
) -> Artifact:
    """Return the artifact of `stage` for (config, inputs), building it once if absent.

    `build(tmp_dir)` writes the stage's files into `tmp_dir` and returns its counts (logged and
    stored in the manifest). `inputs` maps input names to their keys (or checksums). Under the
    key's lock, temp dirs of killed builds of this key are removed first. A cache dir that cannot
    be written raises UnwritableDirError, unless the entry is already there (then it is reused).
    """
    key = cache_key(stage, config, inputs)
    final = root / stage / key
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(locked_dir(final))
        except UnwritableDirError:
            if not (final / MANIFEST).exists():
                raise
            # a finished entry never changes: a read-only cache (a shared copy) is used as is
            log.info("%s: reusing %s (read-only, not locked)", stage, final)
            return load_artifact(stage, final)
        if (final / MANIFEST).exists():
            log.info("%s: reusing %s", stage, final)
            return load_artifact(stage, final)
        manifest = _build(final, stage, key, config, inputs, build)
    log.info("%s: built %s in %.1fs", stage, final, manifest["seconds"])
    return load_artifact(stage, final)


def _build(
    final: Path,
    stage: str,
    key: str,
    config: dict[str, Any],
    inputs: dict[str, str],
    build: Callable[[Path], dict[str, Any]],
) -> dict[str, Any]:
    started = time.perf_counter()
    with atomic_dir(final) as tmp:
        counts = build(tmp)
        manifest = {
            "stage": stage,
            "key": key,
            "config": config,
            "inputs": inputs,
            "counts": counts,
            "seconds": round(time.perf_counter() - started, 3),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "versions": library_versions(),
        }
        write_json_atomic(tmp / MANIFEST, manifest)
    return manifest
