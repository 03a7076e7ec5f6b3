"""`python -m bench._synthetic.child STAGE SCALE [--profile]`: run one stage in this process and
write its figures, with this process's peak RSS, to `work-<scale>/results/STAGE.json`.

With `--profile` the stage's timed work runs under cProfile (match: on a tenth of the words) and
the top functions by own time go to `STAGE.profile.txt` instead.
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench._synthetic import hypernet_epoch, reference, stages
from bench._synthetic.inputs import ensure_inputs, input_paths
from bench._synthetic.stages import Clock

OFA_REFERENCE = (reference.OFA_BATCH, 8)  # blocks of 1,024 target ids the reference runs on


def _generate(scale: float) -> dict:
    clock = Clock()
    with clock:
        paths, manifest = ensure_inputs(scale)
    cached = clock.seconds < 0.5 * manifest["seconds"]
    sizes = manifest["sizes"]
    return {
        "seconds": manifest["seconds"] if cached else clock.seconds,
        "cpu_seconds": None if cached else clock.cpu,
        "items": sizes["words"],
        "unit": "words",
        "cached": cached,
        "note": f"{'cached: ' if cached else ''}{paths.root}",
    }


def stage_table(scale: float, profile: bool = False) -> dict[str, Callable[[Clock], dict]]:
    """Stage name → function of the clock that times (and, profiling, profiles) its work."""
    inputs, work = input_paths(scale), stages.work_for(scale)
    share = 0.1 if profile else None
    table: dict[str, Callable[[Clock], dict]] = {
        "generate": lambda clock: _generate(scale),
        "match_source": lambda clock: stages.match(inputs, work, clock, "source", share),
        "match_target": lambda clock: stages.match(inputs, work, clock, "target", share),
        "match_reference": lambda clock: reference.match(inputs, work),
    }
    for dim in stages.FACTOR_DIMS:
        table[f"factorize_{dim}"] = lambda clock, d=dim: stages.factorize(inputs, work, clock, d)
    return table | {
        "copy": lambda clock: stages.copy(inputs, work, clock),
        "init_random": lambda clock: stages.initialize(
            inputs, work, clock, "random", OFA_REFERENCE
        ),
        "init_ofa": lambda clock: stages.initialize(inputs, work, clock, "ofa", OFA_REFERENCE),
        "ofa_reference": lambda clock: reference.ofa(inputs, work, OFA_REFERENCE[1]),
        "hypernet_epoch": lambda clock: hypernet_epoch.epoch(inputs, work, clock),
    }


def _profiled(run: Callable[[Clock], dict]) -> str:
    profiler = cProfile.Profile()
    run(Clock(profiler))
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(14)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    return "\n".join(lines[start:]).rstrip() + "\n"


class MappedAtPeak(threading.Thread):
    """Polls `/proc/self/status` (Linux) and keeps the file-backed part of RSS (`RssFile`: the
    memory-mapped inputs, reclaimable page cache) at the highest RSS seen, and the highest
    private part (`RssAnon`: what the stage itself holds)."""

    def __init__(self, every: float = 0.05):
        super().__init__(daemon=True)
        self.every, self.peak, self.mapped, self.private = every, 0, 0, 0

    def run(self) -> None:
        status = Path("/proc/self/status")
        while status.exists():
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
            anon, file = (int(fields[k].split()[0]) * 1024 for k in ("RssAnon", "RssFile"))
            if anon + file > self.peak:
                self.peak, self.mapped = anon + file, file
            self.private = max(self.private, anon)
            time.sleep(self.every)


def main(argv: list[str]) -> None:
    name, scale, profile = argv[0], float(argv[1]), "--profile" in argv
    results = stages.work_for(scale).dir("results")
    run = stage_table(scale, profile)[name]
    if profile:
        (results / f"{name}.profile.txt").write_text(_profiled(run))
        return
    clock, memory = Clock(), MappedAtPeak()
    memory.start()
    result = run(clock)
    result = clock.times() | result
    result["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result["mapped_file_bytes"] = memory.mapped
    result["private_peak_bytes"] = memory.private
    (results / f"{name}.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
