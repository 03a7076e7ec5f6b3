"""Named errors for bad input. Each says which file, key or value is wrong and what was expected.

They are raised before any heavy work starts, so a failed run leaves no partial artifact.
"""

from __future__ import annotations

from pathlib import Path


class HyperofaError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(HyperofaError, ValueError):
    """A config value is out of range or inconsistent with another one."""

    def __init__(self, key: str, value: object, expected: str):
        self.key, self.value, self.expected = key, value, expected
        super().__init__(f"config `{key}` = {value!r}: expected {expected}")


class MissingPathError(HyperofaError, FileNotFoundError):
    """A path given in the config (model, tokenizer, word vectors, data) does not exist."""

    def __init__(self, what: str, path: str | Path, expected: str = ""):
        self.what, self.path = what, Path(path)
        hint = f" (expected {expected})" if expected else ""
        super().__init__(f"{what}: no such path {str(path)!r}{hint}")


class BadFileError(HyperofaError, ValueError):
    """A file exists but its content is not what was expected."""

    def __init__(self, path: str | Path, problem: str, line: int | None = None):
        self.path, self.problem, self.line = Path(path), problem, line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")


class IncompatibleInputsError(HyperofaError, ValueError):
    """Two inputs that must agree do not (e.g. tokenizer larger than the embedding matrix)."""


class EmptyInputError(HyperofaError, ValueError):
    """An input that must hold data holds none (e.g. a language set with no text)."""


class UnwritableDirError(HyperofaError, OSError):
    """A directory the package must write into (cache, assets, a run dir) cannot be made or written."""

    def __init__(self, path: str | Path, problem: str, hint: str = ""):
        self.path, self.problem = Path(path), problem
        super().__init__(f"{path}: {problem}; expected a writable directory" + hint)


def require_path(path: str | Path | None, what: str, expected: str = "") -> Path:
    """Return `path` as a Path, or raise MissingPathError naming `what` if it is absent."""
    if path is None or str(path) == "":
        raise MissingPathError(what, "<unset>", expected)
    p = Path(path).expanduser()
    if not p.exists():
        raise MissingPathError(what, p, expected)
    return p
