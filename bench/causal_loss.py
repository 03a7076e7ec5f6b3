"""CPU training step of a causal decoder with the chunked next-token loss vs full logits.

A Gemma-3-270M-shaped Gemma3ForCausalLM (vocab 262,144, hidden 640, 18 layers, 4 heads of 256,
one KV head, tied embeddings) with random weights, batch 4 × 256, every position scored. A step
is forward + backward (no optimizer: the same in both). Each variant runs in a child process of
its own, so its peak RSS (`ru_maxrss`) is its own; `rss before` is the child's RSS once the model
is built, so `peak − before` is what the step itself costs. Full fp32 logits of the batch alone
are 1 GiB, and autograd keeps them and their log-softmax for backward; the chunked loss holds one
chunk of positions' logits at a time (`LOGITS_BUDGET`) and recomputes them in backward, so it
trades ~one extra head matmul for that memory.

`LAYERS=6 python -m bench causal_loss` runs a shallower model (the head costs the same)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import torch
from transformers import Gemma3ForCausalLM, Gemma3TextConfig

from hyperofa.models import CausalDecoderFamily
from hyperofa.models.chunked_loss import LOGITS_BUDGET, chunk_tokens

VOCAB, HIDDEN, FF, HEADS, HEAD_DIM = 262_144, 640, 2048, 4, 256
BATCH, LENGTH, WARMUP = 4, 256, 1
VARIANTS = ("chunked", "full")


def gemma_270m_shaped(layers: int, seed: int = 0) -> Gemma3ForCausalLM:
    torch.manual_seed(seed)
    config = Gemma3TextConfig(
        vocab_size=VOCAB,
        hidden_size=HIDDEN,
        intermediate_size=FF,
        num_hidden_layers=layers,
        num_attention_heads=HEADS,
        num_key_value_heads=1,
        head_dim=HEAD_DIM,
        query_pre_attn_scalar=HEAD_DIM,
        sliding_window=512,
        max_position_embeddings=32_768,
        tie_word_embeddings=True,
    )
    return Gemma3ForCausalLM(config).train()


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(variant: str, layers: int, steps: int) -> dict:
    """One variant's median step seconds, last loss, RSS before the first step and peak RSS."""
    model = gemma_270m_shaped(layers)
    ids = torch.randint(3, VOCAB, (BATCH, LENGTH), generator=torch.Generator().manual_seed(0))
    family = CausalDecoderFamily()
    before, times, loss = _rss_mib(), [], float("nan")
    for i in range(WARMUP + steps):
        model.zero_grad(set_to_none=True)
        started = time.perf_counter()
        if variant == "chunked":
            out = family.training_loss(model, {"input_ids": ids}).loss
        else:
            out = model(input_ids=ids, labels=ids).loss  # transformers' own: full B×T×V logits
        out.backward()
        loss = float(out.detach())
        if i >= WARMUP:
            times.append(time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"seconds": sorted(times)[len(times) // 2], "loss": loss, "before": before, "peak": peak}


def run_child(variant: str, layers: int, steps: int) -> dict:
    command = [sys.executable, "-m", "bench.causal_loss", variant, str(layers), str(steps)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench child {variant} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    layers, steps = int(os.environ.get("LAYERS", "18")), int(os.environ.get("STEPS", "2"))
    chunk = chunk_tokens(VOCAB, LOGITS_BUDGET)
    print(
        f"model: Gemma-3-270M-shaped, vocab {VOCAB:,}, hidden {HIDDEN}, {layers} layers, tied; "
        f"batch {BATCH}×{LENGTH}; chunk {chunk} positions ({LOGITS_BUDGET / 2**20:.0f} MiB of "
        f"logits); {torch.get_num_threads()} threads; median of {steps} steps after {WARMUP}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    got = {v: run_child(v, layers, steps) for v in VARIANTS}
    print(f"{'':>16} {'chunked':>10} {'full':>10} {'full/chunked':>13}")
    rows = [
        ("s/step", "seconds", "{:.2f}"),
        ("peak RSS MiB", "peak", "{:.0f}"),
        ("step RSS MiB", None, "{:.0f}"),
    ]
    for label, key, fmt in rows:
        a, b = (got[v][key] if key else got[v]["peak"] - got[v]["before"] for v in VARIANTS)
        print(f"{label:>16} {fmt.format(a):>10} {fmt.format(b):>10} {b / a:>12.2f}×")
    print(f"loss: chunked {got['chunked']['loss']:.6f}, full {got['full']['loss']:.6f}")


if __name__ == "__main__":
    if len(sys.argv) == 4:  # a child: one variant
        print(json.dumps(child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
    else:
        main()
