"""Where outputs live: `$HYPEROFA_HOME` if set, else `./outputs` (git-ignored).

The embedded assets can live apart (`$HYPEROFA_ASSETS`), so tests share one built copy.
"""

from __future__ import annotations

import os
from pathlib import Path


def outputs_root() -> Path:
    """Root of cache/, assets/, runs/ and multirun/."""
    return Path(os.environ.get("HYPEROFA_HOME", Path.cwd() / "outputs")).expanduser().resolve()


def assets_root() -> Path:
    """Where the embedded default (DESIGN.md §4) is built: `$HYPEROFA_ASSETS` or `<outputs>/assets`."""
    if env := os.environ.get("HYPEROFA_ASSETS"):
        return Path(env).expanduser().resolve()
    return outputs_root() / "assets"


def cache_root() -> Path:
    """Content-addressed stage artifacts: `cache/<stage>/<key>/`."""
    return outputs_root() / "cache"
