"""Continued pre-training data at two corpus sizes: prepared once on disk, then read lazily.

A synthetic corpus of 20 languages (Zipf-drawn words over 20 scripts, language sizes Zipf-like,
one sentence per line) is written as `<lang>.txt` to a temp dir at each size of
`CPT_BENCH_GB` (default 0.2 and 2 GB of UTF-8 text). A fresh process prepares it (collect →
tokenize with the XLM-R tokenizer over `CPT_BENCH_PROCS` processes → pack into blocks of 512,
the stage cpt_data's code) and reports tokens/s and its memory; another fresh process builds the
datamodule on the prepared blocks and draws `BATCHES` training batches of 32 plus one validation
pass, and reports its memory. Both sizes print side by side with the ratio large / small: the
goal is a flat ratio for memory and a steady tokens/s.

Memory: `peak RSS` is the kernel's high-water mark (VmHWM), which counts the pages of
memory-mapped files a process has touched; `peak anon` (sampled RssAnon) is the memory the
process allocated, the part that does not come back as page cache under pressure. `workers` is
the largest peak RSS among the tokenizing processes.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from bench._synthetic.alphabets import SCRIPTS

LANGUAGES, BATCHES, BATCH, MAX_LENGTH = 20, 200, 32, 512
WORDS_PER_LANGUAGE, WORDS_PER_CHUNK = 4000, 1 << 20


def _vocabulary(rng: np.random.Generator, alphabet: str, short: bool) -> np.ndarray:
    """WORDS_PER_LANGUAGE words of 1–3 (ideographic) or 2–9 letters, frequent letters first."""
    weights = 1.0 / np.arange(1, len(alphabet) + 1)
    letters = rng.choice(len(alphabet), size=(WORDS_PER_LANGUAGE, 9), p=weights / weights.sum())
    sizes = (
        rng.integers(1, 4, WORDS_PER_LANGUAGE) if short else rng.integers(2, 10, WORDS_PER_LANGUAGE)
    )
    return np.array(
        ["".join(alphabet[c] for c in row[:n]) for row, n in zip(letters, sizes, strict=True)]
    )


def write_language(path: Path, nbytes: int, seed: int) -> int:
    """About `nbytes` of UTF-8 sentences (4–25 Zipf-drawn words, one per line); bytes written."""
    rng = np.random.default_rng(seed)
    script = SCRIPTS[seed % len(SCRIPTS)]
    words = _vocabulary(rng, script.alphabet, script.max_piece_chars <= 3)
    spaced, ended = np.char.add(words, " "), np.char.add(words, "\n")
    cdf = np.cumsum(np.arange(1, len(words) + 1, dtype=np.float64) ** -1.05)
    word_bytes = np.array([len(w.encode("utf-8")) + 1 for w in words.tolist()])
    mean_bytes = float(np.diff(np.concatenate([[0], cdf])) @ word_bytes / cdf[-1])
    written = 0
    with path.open("w", encoding="utf-8") as f:
        while written < nbytes:
            m = int(min(WORDS_PER_CHUNK, max(64, (nbytes - written) / mean_bytes)))
            idx = np.searchsorted(cdf, rng.random(m) * cdf[-1])
            ends = np.cumsum(rng.integers(4, 26, m // 4 + 1)) - 1
            last = np.zeros(m, dtype=bool)
            last[ends[ends < m]] = True
            last[-1] = True
            text = "".join(np.where(last, ended[idx], spaced[idx]).tolist())
            f.write(text)
            written += int(word_bytes[idx].sum())
    return written


def write_corpus(root: Path, gigabytes: float) -> dict[str, int]:
    """`root/train/<lang>.txt` (Zipf-like shares of the total) and a small `root/val/`."""
    shares = np.arange(1, LANGUAGES + 1, dtype=np.float64) ** -0.8
    sizes = gigabytes * 1e9 * shares / shares.sum()
    (root / "train").mkdir(parents=True)
    (root / "val").mkdir()
    written = {}
    for i, size in enumerate(sizes):
        lang = f"l{i:02d}_{SCRIPTS[i % len(SCRIPTS)].name}"
        written[lang] = write_language(root / "train" / f"{lang}.txt", int(size), seed=i)
        write_language(root / "val" / f"{lang}.txt", 20_000, seed=1000 + i)
    return written


class Peak(threading.Thread):
    """Samples `/proc/self/status` and keeps the highest RssAnon (allocated memory)."""

    def __init__(self, every: float = 0.05):
        super().__init__(daemon=True)
        self.every, self.anon = every, 0

    def run(self) -> None:
        while True:
            status = dict(
                line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines()
            )
            self.anon = max(self.anon, int(status["RssAnon"].split()[0]) * 1024)
            time.sleep(self.every)


def _tokenizer():
    """The XLM-R tokenizer (250K pieces) shipped with the embedded e5 assets."""
    from transformers import PreTrainedTokenizerFast

    from hyperofa.assets.e5 import embedded_e5_files

    names = ("bos", "eos", "unk", "sep", "pad", "cls", "mask")
    tokens = ("<s>", "</s>", "<unk>", "</s>", "<pad>", "<s>", "<mask>")
    specials = {f"{n}_token": t for n, t in zip(names, tokens, strict=True)}
    return PreTrainedTokenizerFast(tokenizer_file=str(embedded_e5_files()[1]), **specials)


def child_prepare(corpus: Path, out: Path, procs: int) -> dict:
    from hyperofa.pretrain.prepare import prepare_cpt_data

    started = time.perf_counter()
    counts = prepare_cpt_data(
        _tokenizer(), corpus / "train", corpus / "val", out, MAX_LENGTH, num_proc=procs
    )
    return counts | {"seconds": time.perf_counter() - started}


def child_read(out: Path) -> dict:
    from hyperofa.config.pretrain import PretrainConfig
    from hyperofa.pretrain.blocks import open_cpt_data
    from hyperofa.pretrain.data import SpecialIds
    from hyperofa.pretrain.datamodule import MLMDataModule

    data = open_cpt_data(out)
    cfg = PretrainConfig(max_steps=BATCHES, batch_size=BATCH, max_length=MAX_LENGTH,
                         val_check_interval=1, val_max_blocks_per_language=8)  # fmt: skip
    module = MLMDataModule(
        data.train, data.val.limit_per_language(8), SpecialIds.from_tokenizer(_tokenizer()), cfg
    )
    started, masked = time.perf_counter(), 0
    for batch in module.train_dataloader():
        module.on_after_batch_transfer(batch, 0)
        masked += int((batch["labels"] != -100).sum())
    seconds = time.perf_counter() - started
    val = sum(len(b["input_ids"]) for b in module.val_dataloader())
    return {"batches": BATCHES, "ms_per_batch": 1000 * seconds / BATCHES, "masked": masked,
            "val_blocks": val, "train_blocks": len(data.train)}  # fmt: skip


def _child(argv: list[str]) -> None:
    peak = Peak()
    peak.start()
    kind, paths = argv[0], [Path(a) for a in argv[1:3]]
    result = child_prepare(*paths, int(argv[3])) if kind == "prepare" else child_read(paths[0])
    result["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result["peak_anon"] = peak.anon
    result["workers_peak_rss"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print("RESULT " + json.dumps(result), flush=True)


def _run_child(*args: str) -> dict:
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": f"{root / 'src'}{os.pathsep}{root}", "TQDM_DISABLE": "1"}
    out = subprocess.run([sys.executable, "-m", "bench.cpt_data", *args], cwd=root, env=env,
                         capture_output=True, text=True, check=False)  # fmt: skip
    if out.returncode:
        raise RuntimeError(
            f"bench child {args[0]} failed:\n{out.stdout[-2000:]}{out.stderr[-3000:]}"
        )
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[7:])


def measure(gigabytes: float, procs: int, tmp: Path) -> dict:
    corpus, out = tmp / f"corpus-{gigabytes}", tmp / f"blocks-{gigabytes}"
    started = time.perf_counter()
    text_bytes = sum(write_corpus(corpus, gigabytes).values())
    generated = time.perf_counter() - started
    prepared = _run_child("prepare", str(corpus), str(out), str(procs))
    read = _run_child("read", str(out), str(out), "0")
    blocks = (out / "train.arrow").stat().st_size
    return {"text_bytes": text_bytes, "generate_s": generated, "blocks_bytes": blocks,
            "prepare": prepared, "read": read}  # fmt: skip


ROWS = (  # label, how to read it from a measurement, unit divisor
    ("text", lambda m: m["text_bytes"], 1e9, "GB"),
    ("train tokens", lambda m: m["prepare"]["train_tokens"], 1e6, "M"),
    ("train blocks of 512", lambda m: m["prepare"]["train_blocks"], 1e3, "k"),
    ("blocks on disk", lambda m: m["blocks_bytes"], 1e9, "GB"),
    ("prepare wall time", lambda m: m["prepare"]["seconds"], 1, "s"),
    ("prepare tokens/s", lambda m: m["prepare"]["tokens_per_second"], 1e3, "k"),
    ("prepare peak RSS", lambda m: m["prepare"]["peak_rss"], 2**20, "MiB"),
    ("prepare peak anon", lambda m: m["prepare"]["peak_anon"], 2**20, "MiB"),
    ("tokenize workers peak RSS", lambda m: m["prepare"]["workers_peak_rss"], 2**20, "MiB"),
    (f"read {BATCHES} batches: peak RSS", lambda m: m["read"]["peak_rss"], 2**20, "MiB"),
    (f"read {BATCHES} batches: peak anon", lambda m: m["read"]["peak_anon"], 2**20, "MiB"),
    ("read ms per batch of 32", lambda m: m["read"]["ms_per_batch"], 1, "ms"),
)


def report(sizes: list[float], results: list[dict]) -> None:
    print(f"{'':36}" + "".join(f"{f'{s:g} GB corpus':>16}" for s in sizes) + f"{'ratio':>9}")
    for label, get, unit, name in ROWS:
        values = [get(r) / unit for r in results]
        cells = "".join(f"{f'{v:,.1f} {name}':>16}" for v in values)
        print(f"{label:36}{cells}{values[-1] / values[0]:>9.2f}")


def main() -> None:
    sizes = [float(x) for x in os.environ.get("CPT_BENCH_GB", "0.2,2").split(",")]
    procs = int(os.environ.get("CPT_BENCH_PROCS", str(os.cpu_count() or 1)))
    print(
        f"load average before: {os.getloadavg()[0]:.2f}; {procs} tokenizing processes", flush=True
    )
    with tempfile.TemporaryDirectory(prefix="cpt-bench-") as tmp:
        results = []
        for gigabytes in sizes:
            results.append(measure(gigabytes, procs, Path(tmp)))
            print(f"  {gigabytes:g} GB done (load {os.getloadavg()[0]:.2f})", flush=True)
    report(sizes, results)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    if sys.argv[1:2] in (["prepare"], ["read"]):
        _child(sys.argv[1:])
    else:
        main()
