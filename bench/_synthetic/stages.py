"""The pipeline's stages on the synthetic inputs, called as `hyperofa.stages` / `pipeline` call
them (minus the artifact cache). Each returns its figures; `bench._synthetic.child` runs one per
process, so peak RSS is the stage's own. Intermediate arrays go to `Work` for the next stage.
"""

from __future__ import annotations

import cProfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench._synthetic.inputs import ROOT, InputPaths, read_keys
from hyperofa.wordvec.io import WordVectors

FACTOR_DIMS = (100, 200, 400)
INIT_DIM = 400  # D' of the coordinates the initializers fill (OFA's best XLM-R setting)


@dataclass(frozen=True)
class Work:
    """Where stages leave arrays for later stages (outputs/bench/work-<scale>/)."""

    root: Path

    def dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def save(self, name: str, **arrays: np.ndarray) -> None:
        for key, value in arrays.items():
            np.save(self.dir(name) / f"{key}.npy", value)

    def load(self, name: str, key: str) -> np.ndarray:
        return np.load(self.root / name / f"{key}.npy", allow_pickle=False)


class Clock:
    """Adds up the wall and CPU seconds (all threads of this process) spent inside `with clock:`,
    profiling them too if given a profiler, so loading inputs and saving outputs stay out.

    CPU time shows the work on a shared machine, where wall time also shows other jobs' load.
    """

    def __init__(self, profiler: cProfile.Profile | None = None):
        self.seconds, self.cpu, self.profiler = 0.0, 0.0, profiler
        self._started = (0.0, 0.0)

    def __enter__(self) -> Clock:
        if self.profiler is not None:
            self.profiler.enable()
        self._started = (time.perf_counter(), time.process_time())
        return self

    def __exit__(self, *exc) -> None:
        self.seconds += time.perf_counter() - self._started[0]
        self.cpu += time.process_time() - self._started[1]
        if self.profiler is not None:
            self.profiler.disable()

    def scale_since(self, snapshot: tuple[float, float], factor: float) -> None:
        """Extrapolate what was timed after `snapshot` ((seconds, cpu) then) by `factor`."""
        self.seconds = snapshot[0] + (self.seconds - snapshot[0]) * factor
        self.cpu = snapshot[1] + (self.cpu - snapshot[1]) * factor

    def times(self, factor: float = 1.0) -> dict[str, float]:
        return {"seconds": self.seconds * factor, "cpu_seconds": self.cpu * factor}


def work_for(scale: float) -> Work:
    return Work(ROOT / f"work-{scale:g}")


def word_vectors(inputs: InputPaths) -> WordVectors:
    """Keys in memory, vectors memory-mapped (ColexNet+ at paper scale is 2.9 GB)."""
    return WordVectors(read_keys(inputs.keys), np.load(inputs.word_vectors, mmap_mode="r"))


def tokenizer(inputs: InputPaths, side: str):
    from hyperofa.stages.sources import load_tokenizer

    return load_tokenizer(getattr(inputs, f"{side}_tokenizer"), f"{side} tokenizer")


def match(inputs: InputPaths, work: Work, clock: Clock, side: str, share: float | None = None):
    """`stages.match_stage`: token→word CSR map with multiplicities of one tokenizer (of the first
    `share` of the words only, for profiling: then nothing is saved)."""
    from hyperofa.match import build_token_word_map, tokenizer_encoder
    from hyperofa.wordvec.io import key_words

    tok, wv = tokenizer(inputs, side), word_vectors(inputs)
    keys = wv.keys[: round(len(wv) * share)] if share else wv.keys
    with clock:
        words = key_words(keys)
        twm = build_token_word_map(words, tokenizer_encoder(tok), len(tok))
    if not share:
        work.save(
            f"match_{side}",
            indptr=twm.indptr,
            indices=twm.indices,
            multiplicity=twm.multiplicity,
        )
    degree = twm.degree()[twm.covered()]
    p50, p99 = np.percentile(degree, [50, 99]) if len(degree) else (0, 0)
    counts = twm.counts()
    note = (
        f"{counts['covered']:,}/{counts['tokens']:,} tokens covered, {counts['pairs']:,} pairs, "
        f"words/token p50 {p50:.0f} p99 {p99:.0f} max {degree.max() if len(degree) else 0:,}"
    )
    return {"items": len(words), "unit": "words", "note": note, **counts}


def factorize(inputs: InputPaths, work: Work, clock: Clock, dim: int) -> dict:
    """`stages.factorize_stage`: exact SVD of the source embeddings, E ≈ F·P."""
    from hyperofa.factorize import factorize as svd
    from hyperofa.factorize import relative_error

    embeddings = np.load(inputs.embeddings)
    with clock:
        coordinates, primitives = svd(embeddings, dim)
    error = relative_error(embeddings, coordinates, primitives)
    if dim == INIT_DIM:
        work.save("factorize", coordinates=coordinates)
    note = f"E {embeddings.shape[0]:,}×{embeddings.shape[1]} → D'={dim}, rel. error {error:.3f}"
    return {"items": len(embeddings), "unit": "rows", "note": note}


def copy(inputs: InputPaths, work: Work, clock: Clock) -> dict:
    """`stages.copy_stage`: shared tokens, exact then case-insensitive, specials by role."""
    from hyperofa.vocab.copy import copy_map

    source, target = tokenizer(inputs, "source"), tokenizer(inputs, "target")
    with clock:
        m = copy_map(source, target)
    work.save("copy", source_id=m.source_id, kind=m.kind)
    c = m.counts()
    note = (
        f"{c['copied_exact']:,} exact, {c['copied_ci']:,} case-insensitive, {c['special']} special"
    )
    return {"items": len(m.kind), "unit": "tokens", "note": note}


def token_word_map(work: Work, side: str):
    from hyperofa.match import TokenWordMap

    return TokenWordMap(
        *(work.load(f"match_{side}", key) for key in ("indptr", "indices", "multiplicity"))
    )


def init_inputs(work: Work, inputs: InputPaths):
    """`pipeline._init_inputs` from the saved match, factorize and copy arrays."""
    from hyperofa.init.base import InitInputs
    from hyperofa.vocab.copy import CopyMap

    return InitInputs(
        source_rows=work.load("factorize", "coordinates"),
        copy=CopyMap(work.load("copy", "source_id"), work.load("copy", "kind")),
        source_words=token_word_map(work, "source"),
        target_words=token_word_map(work, "target"),
        word_vectors=word_vectors(inputs).vectors,
    )


def tokens_to_fill(inputs) -> np.ndarray:
    """Target tokens an initializer fills: with matched words and not copied."""
    from hyperofa.vocab.copy import CopyKind

    return np.flatnonzero(inputs.target_words.covered() & (inputs.copy.kind == CopyKind.NONE))


def reference_batches(num_target: int, batch: int, count: int) -> np.ndarray:
    """Starts of the blocks of `batch` target ids the OFA reference runs on (seeded, sorted)."""
    starts = np.arange(0, num_target, batch)
    rng = np.random.default_rng(0)
    return np.sort(rng.choice(starts, size=min(count, len(starts)), replace=False))


def in_blocks(ids: np.ndarray, starts: np.ndarray, batch: int) -> np.ndarray:
    """The ids that fall in the blocks [start, start + batch)."""
    return ids[np.isin(ids // batch * batch, starts)]


def initialize(
    inputs_paths: InputPaths, work: Work, clock: Clock, method: str, reference: tuple[int, int]
) -> dict:
    """`init.base.initialize` with the random or ofa initializer (faiss on CPU)."""
    from hyperofa.config.initializers import OFAConfig
    from hyperofa.init.base import initialize as run
    from hyperofa.init.ofa import OFAInitializer
    from hyperofa.init.random import RandomInitializer

    inputs = init_inputs(work, inputs_paths)
    initializer = (
        RandomInitializer() if method == "random" else OFAInitializer(OFAConfig(use_gpu=False))
    )
    with clock:
        result = run(initializer, inputs)
    todo = tokens_to_fill(inputs)
    if method == "ofa":  # rows of the tokens the reference recomputes, to compare
        batch, count = reference
        sample = in_blocks(todo, reference_batches(inputs.num_target, batch, count), batch)
        work.save("ofa", sample=sample, rows=result.rows[sample])
    c = result.counts()
    note = f"{c['initialized']:,} initialized, {c['random']:,} random, D'={INIT_DIM}"
    items, unit = (len(todo), "tokens") if method == "ofa" else (inputs.num_target, "tokens")
    return {"items": items, "unit": unit, "note": note}
