"""`make bench` / `python -m bench [name ...]`: run every benchmark module's `main()` (or those named).

Benchmarks print figures; they never pass or fail on time.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    names = argv or sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not m.name.startswith("_")
    )
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n=== bench.{name} ===", flush=True)
        started = time.perf_counter()
        module.main()
        print(f"(bench.{name}: {time.perf_counter() - started:.1f}s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
