"""Plain reference implementations of the public OFA code's algorithms (cisnlp/ofa `ofa/utils.py`,
read for what it does, written anew), run on a sample and extrapolated linearly.

- match: a Python loop over words, one `tokenizer.encode` call per surface form (3 per word, `$`
  read as a space, as the public code), appending the word to a list per token; then each token's
  mean vector from a list of per-word vector lookups.
- ofa: cosine similarity of 1,024 target tokens at a time (all target ids, as the OFA code) against
  every source token, numpy `argpartition` for the top k of the tokens to fill, softmax(sim / T).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from bench._synthetic import stages
from bench._synthetic.inputs import InputPaths
from bench._synthetic.stages import Clock

MATCH_SAMPLE = 0.01  # of the words; the tokenization loop is linear in words
MEAN_SAMPLE = 0.02  # of the covered tokens; the mean loop is a sum over tokens
OFA_BATCH = 1_024  # target tokens per similarity block, as in the OFA code


def _variants(word: str) -> list[str]:
    text = word.replace("$", " ")
    if word.startswith("$"):
        return [text, " " + text] + ([text[1].upper() + text[2:]] if len(text) > 1 else [])
    return [text, " " + text] + ([" " + text[0].upper() + text[1:]] if text else [])


def match_loop(tok, words: list[str], rows: np.ndarray) -> dict[int, list[int]]:
    """token id → rows of the words whose surface forms contain it, one encode call a form."""
    collected: dict[int, list[int]] = defaultdict(list)
    for row, word in zip(rows.tolist(), words, strict=True):
        ids: set[int] = set()
        for form in _variants(word):
            ids.update(tok.encode(form, add_special_tokens=False))
        for token in ids:
            collected[token].append(row)
    return collected


def mean_loop(indptr: np.ndarray, indices: np.ndarray, vectors, tokens: np.ndarray) -> list:
    """Each token's mean word vector from one lookup per word, as the OFA code averages."""
    out = []
    for t in tokens.tolist():
        rows = indices[indptr[t] : indptr[t + 1]].tolist()
        out.append(np.stack([vectors[w] for w in rows]).mean(axis=0))
    return out


def _same_pairs(collected: dict[int, list[int]], work: stages.Work, side: str, rows) -> bool:
    """Whether the loop found exactly the library's (token, word) pairs for the sampled words."""
    indptr, indices = work.load(f"match_{side}", "indptr"), work.load(f"match_{side}", "indices")
    keep = np.isin(indices, rows)
    tokens = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))[keep]
    ours = set(zip(tokens.tolist(), indices[keep].tolist(), strict=True))
    return ours == {(t, w) for t, ws in collected.items() for w in ws}


def _side(inputs: InputPaths, work: stages.Work, side: str, words, rows, wv) -> dict:
    """Sample timings of one tokenizer: OFA loop, OFA mean, and our per-string-callable path."""
    from hyperofa.match import build_token_word_map

    tok = stages.tokenizer(inputs, side)
    sample = [words[r] for r in rows.tolist()]
    loop, callable_path, mean = Clock(), Clock(), Clock()
    with loop:
        collected = match_loop(tok, sample, rows)
    with callable_path:
        encode = lambda t: tok(t, add_special_tokens=False)["input_ids"]  # noqa: E731
        build_token_word_map(sample, encode, len(tok))

    indptr, indices = work.load(f"match_{side}", "indptr"), work.load(f"match_{side}", "indices")
    covered = np.flatnonzero(np.diff(indptr) > 0)
    picked = covered[:: max(1, round(1 / MEAN_SAMPLE))]
    with mean:
        mean_loop(indptr, indices, wv.vectors, picked)
    scale_words = len(words) / len(rows)
    return {
        "loop": loop.times(scale_words),
        "mean": mean.times(len(covered) / max(len(picked), 1)),
        "callable": callable_path.times(scale_words),
        "same_pairs": _same_pairs(collected, work, side, rows),
    }


def match(inputs: InputPaths, work: stages.Work) -> dict:
    from hyperofa.wordvec.io import split_key

    wv = stages.word_vectors(inputs)
    words = [split_key(k)[1] for k in wv.keys]
    n = max(2_000, round(len(words) * MATCH_SAMPLE))
    rows = np.sort(np.random.default_rng(0).choice(len(words), min(n, len(words)), replace=False))
    sides = [_side(inputs, work, s, words, rows, wv) for s in ("source", "target")]

    def total(part: str, key: str = "seconds") -> float:
        return sum(s[part][key] for s in sides)

    loop, mean = total("loop"), total("mean")
    same = all(s["same_pairs"] for s in sides)
    note = (
        f"extrapolated ×{len(words) / len(rows):.0f} from {len(rows):,} words "
        f"(encode loop {loop:.0f}s) and ×{1 / MEAN_SAMPLE:.0f} from every "
        f"{round(1 / MEAN_SAMPLE)}th covered token (mean {mean:.0f}s); "
        f"same pairs as ours: {'yes' if same else 'NO'}"
    )
    return {
        "seconds": loop + mean,
        "cpu_seconds": total("loop", "cpu_seconds") + total("mean", "cpu_seconds"),
        "items": len(words),
        "unit": "words",
        "note": note,
        "extrapolated": True,
        "callable_seconds": total("callable"),
        "sample_words": len(rows),
    }


def ofa_rows(
    target_vectors: np.ndarray,
    fill: np.ndarray,
    source_vectors: np.ndarray,
    source_rows: np.ndarray,
    starts: np.ndarray,
    k: int = 10,
    temperature: float = 0.1,
) -> np.ndarray:
    """OFA's neighbour average for the `fill` ids in the blocks of 1,024 target ids at `starts`:
    each block's cosine similarity to every source token (zero vectors give 0), top k of the rows
    to fill by argpartition, softmax(sim / T) weights."""
    unit = source_vectors / np.maximum(np.linalg.norm(source_vectors, axis=1, keepdims=True), 1e-12)
    out = []
    for start in starts.tolist():
        block = target_vectors[start : start + OFA_BATCH]
        block = block / np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)
        sims = block @ unit.T
        rows = fill[(fill >= start) & (fill < start + OFA_BATCH)] - start
        top = np.argpartition(sims[rows], -k, axis=1)[:, -k:]
        top_sims = np.take_along_axis(sims[rows], top, axis=1).astype(np.float64)
        weights = np.exp((top_sims - top_sims.max(axis=1, keepdims=True)) / temperature)
        weights /= weights.sum(axis=1, keepdims=True)
        out.append(np.einsum("qk,qkd->qd", weights, source_rows[top]).astype(np.float32))
    return np.concatenate(out) if out else np.zeros((0, source_rows.shape[1]), np.float32)


def ofa(paths: InputPaths, work: stages.Work, count: int) -> dict:
    """The reference on `count` blocks of 1,024 target ids, extrapolated to all blocks."""
    from hyperofa.match import token_vectors

    inputs = stages.init_inputs(work, paths)
    todo = stages.tokens_to_fill(inputs)
    starts = stages.reference_batches(inputs.num_target, OFA_BATCH, count)
    sample, ours = work.load("ofa", "sample"), work.load("ofa", "rows")
    source_vectors = token_vectors(inputs.source_words, inputs.word_vectors)
    target_vectors = token_vectors(inputs.target_words, inputs.word_vectors)
    clock = Clock()
    with clock:
        reference = ofa_rows(
            target_vectors,
            stages.in_blocks(todo, starts, OFA_BATCH),
            source_vectors,
            inputs.source_rows,
            starts,
        )
    blocks = math.ceil(inputs.num_target / OFA_BATCH)
    agree = float((np.abs(reference - ours).max(axis=1) < 1e-4).mean()) if len(sample) else 1.0
    note = (
        f"extrapolated ×{blocks / len(starts):.0f} from {len(starts)} of {blocks:,} blocks of "
        f"{OFA_BATCH:,} target tokens against all {len(source_vectors):,} source tokens; "
        f"rows equal to ours for {agree:.2%} of {len(sample):,} tokens (the rest: ties at the "
        "k-th neighbour)"
    )
    return {
        **clock.times(blocks / len(starts)),
        "items": len(todo),
        "unit": "tokens",
        "note": note,
        "extrapolated": True,
    }
