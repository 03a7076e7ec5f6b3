"""BPE training continued from a source tokenizer: merges learned on the source's segmentation.

Appended merges rank after every source merge, so on any pre-token the extended model first
produces the source's segmentation and only then applies new merges, in rank order. Learning the
new merges on exactly that segmentation of the target text (count adjacent pairs, merge the most
frequent, repeat) makes training and tokenization agree: every learned piece is produced where
training produced it. Each merge must make a piece the vocabulary lacks, so no source merge can
fire after a new one and the agreement is exact (with `ignore_merges`, Llama 3, a pre-token that is
itself a piece is taken whole, never worse). Ties go to the smaller pair in string order, so
the merges are the same on every machine.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from itertools import pairwise

Merge = tuple[str, str]


def learn_merges(
    words: Mapping[tuple[str, ...], int],
    *,
    budget: int,
    known: Collection[str],
    allowed: Callable[[str, str], bool],
    min_count: int = 2,
) -> list[Merge]:
    """Up to `budget` merges learned greedily on `words` (token sequence → frequency), in rank
    order. A merge is taken only if `allowed(a, b)` and `a + b` is neither in `known` nor made by
    an earlier merge; learning stops when no pair occurs `min_count` times."""
    state = PairCounts(words)
    taken = set(known)
    merges: list[Merge] = []
    while len(merges) < budget and (pair := state.best(min_count)) is not None:
        state.ban(pair)
        if pair[0] + pair[1] in taken or not allowed(*pair):
            continue
        merges.append(pair)
        taken.add(pair[0] + pair[1])
        state.merge(pair)
    return merges


def apply_merge(tokens: tuple[str, ...], pair: Merge) -> tuple[str, ...]:
    """`tokens` with every occurrence of `pair` merged, left to right."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if i + 1 < len(tokens) and (tokens[i], tokens[i + 1]) == pair:
            out.append(tokens[i] + tokens[i + 1])
            i += 2
        else:
            out.append(tokens[i])
            i += 1
    return tuple(out)


class PairCounts:
    """Adjacent-pair frequencies over weighted token sequences, updated merge by merge, with a
    lazy max-heap (stale entries are skipped when popped)."""

    def __init__(self, words: Mapping[tuple[str, ...], int]) -> None:
        self.words = [tuple(w) for w in words]
        self.freq = list(words.values())
        self.count: dict[Merge, int] = defaultdict(int)
        self.where: dict[Merge, set[int]] = defaultdict(set)
        for idx, word in enumerate(self.words):
            self._add(idx, word, 1)
        self.heap = [(-c, p) for p, c in self.count.items()]
        heapq.heapify(self.heap)
        self.banned: set[Merge] = set()

    def best(self, min_count: int) -> Merge | None:
        """The most frequent pair not banned (ties: the smallest pair), or None below min_count."""
        while self.heap:
            neg, pair = self.heap[0]
            if pair in self.banned or self.count.get(pair, 0) != -neg:
                heapq.heappop(self.heap)
                continue
            return pair if -neg >= min_count else None
        return None

    def ban(self, pair: Merge) -> None:
        self.banned.add(pair)

    def merge(self, pair: Merge) -> None:
        """Merge `pair` in every word holding it; push the pairs whose count changed."""
        changed: set[Merge] = set()
        for idx in sorted(self.where.pop(pair, ())):
            old = self.words[idx]
            new = apply_merge(old, pair)
            changed |= self._add(idx, old, -1) | self._add(idx, new, 1)
            self.words[idx] = new
        self.count.pop(pair, None)
        for p in changed - {pair}:
            heapq.heappush(self.heap, (-self.count[p], p))

    def _add(self, idx: int, word: tuple[str, ...], sign: int) -> set[Merge]:
        pairs = set(pairwise(word))
        for p in pairwise(word):
            self.count[p] += sign * self.freq[idx]
        for p in pairs:
            if sign > 0:
                self.where[p].add(idx)
            else:
                self.where[p].discard(idx)
        return pairs
