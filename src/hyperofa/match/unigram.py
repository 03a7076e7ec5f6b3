"""A Unigram tokenizer's ids without its per-string Rust objects: the Viterbi of `tokenizers`'
Unigram model, compiled (numba) over a breadth-first trie of the pieces, for XLM-R-style
pipelines.

`tokenizers` spends ~25-35 µs of CPU on each short string of the paper-scale bench (its trie steps
through a hash map a byte, every piece found is a new `String` looked up in another map, and the
lattice is allocated anew); matching encodes millions of them. Here it is ~5 µs, and the ids are
those of `encode_optimized` + `tokenize` (tokenizers 0.23, `models/unigram/model.rs`), step for
step:

- pieces found from each start in order of length, each candidate path kept only if strictly
  better (`>`), so the earliest start wins a tie; a start without a one-character piece gets
  `<unk>` at `min_score - 10`;
- the best path read back, consecutive `<unk>` nodes fused into one string, which is then looked
  up in the vocabulary (the id of its last entry, as the model's map keeps), else `<unk>`;
- a duplicated piece scores and reads as its last entry.

Only pipelines whose every step is known exactly take this path (`unigram_encoder`): any
normalizer (run by `tokenizers` itself, `normalize_str`, a string at a time), an optional
WhitespaceSplit (Rust's `char::is_whitespace`), Metaspace `always`/`never` with or without
`split`, and a Unigram model with an `<unk>` id and no byte fallback. A string holding an added
token's text, or empty, goes to the Rust encoder; so does everything when a sample of the first
batch (`CONFIRM_SAMPLE` strings) does not give the Rust encoder's ids.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import regex

from hyperofa.match.prefix import (
    component_spec,
    holding,
    metaspace_scheme,
    pretokenizer_steps,
)
from hyperofa.match.tokenwords import THREADS, runs_of_size

log = logging.getLogger(__name__)

UNK_PENALTY = 10.0  # tokenizers' K_UNK_PENALTY: an unknown character scores min_score - 10
CONFIRM_SAMPLE = 512
_CP_BITS = 21  # a code point fits 21 bits: a build-time edge key is (node << 21) | code point
_ROOT_SPAN = 0x30000  # first characters looked up by index (the planes in use), others searched
# Rust's char::is_whitespace (Unicode White_Space), what WhitespaceSplit drops: a table by code
# point up to the last of them, U+3000
_WHITE_SPACE = np.zeros(0x3001, dtype=np.bool_)
_WHITE_SPACE[[*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B)]] = True
_WHITE_SPACE[[0x2028, 0x2029, 0x202F, 0x205F, 0x3000]] = True


def unigram_encoder(backend, fallback: Callable) -> Callable | None:
    """An encoder (texts → (ids, owners), as `FlatIds`) giving the ids of `fallback` (the Rust
    encoder of `backend`, returning `FlatIds`) through the compiled Viterbi; None where the
    pipeline is not one it knows. The vocabulary is read and its trie built on the first call."""
    model = backend.model
    if type(model).__name__ != "Unigram" or model.alpha not in (None, 0.0):
        return None  # alpha: subword sampling, not the Viterbi path
    steps = pretokenizer_steps(component_spec(backend.pre_tokenizer))
    whitespace = bool(steps) and steps[0]["type"] == "WhitespaceSplit"
    rest = steps[1:] if whitespace else steps
    if len(rest) != 1 or rest[0]["type"] != "Metaspace" or len(rest[0]["replacement"]) != 1:
        return None
    scheme = metaspace_scheme(rest[0])
    if scheme not in ("always", "never"):
        return None  # `first` depends on where a piece sits in the original text
    plan = (whitespace, ord(rest[0]["replacement"]), scheme == "always", rest[0].get("split", True))
    identity = _identity(component_spec(backend.normalizer))
    normalize = None if identity else backend.normalizer.normalize_str
    added = [a.content for a in backend.get_added_tokens_decoder().values()]
    return _Encoder(model, plan, normalize, added, fallback)


def _identity(normalizer: dict | None) -> bool:
    if normalizer is None:
        return True
    return normalizer["type"] == "Sequence" and all(map(_identity, normalizer["normalizers"]))


def code_points(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The texts' code points, flat (uint32), and where each text starts (int64, n + 1)."""
    flat = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)), out=starts[1:])
    return flat, starts


class PieceTrie:
    """The pieces in a trie over code points, its nodes numbered breadth first, a node's
    children by code point: the children of node v are nodes `first[v]`..`first[v + 1] - 1`,
    `labels[c]` the code point into node c; the root's are also in a table by code point
    (`roots`, -1 where none). `terminal[v]` is the id of the piece ending at v (its last
    entry), else -1. int32 each: ~12 bytes a node, so a Glot500 vocabulary's trie stays in
    cache far more than a hash table of its edges would."""

    def __init__(self, pieces: list[str]):
        flat, starts = code_points(pieces)
        bits = max(4, int(2 * len(flat) + 2).bit_length())
        edges = np.full((1 << bits, 2), -1, dtype=np.int64)  # (key, child): dedupes prefixes
        parent, label, depth = (np.zeros(len(flat) + 1, dtype=np.int64) for _ in range(3))
        terminal = np.full(len(flat) + 1, -1, dtype=np.int64)
        nodes = _build_trie(flat, starts, edges, parent, label, depth, terminal)
        del edges
        parent, label, depth, terminal = (
            parent[:nodes],
            label[:nodes],
            depth[:nodes],
            terminal[:nodes],
        )
        new = np.zeros(nodes, dtype=np.int64)
        taken = 1
        for level in range(1, int(depth.max()) + 1):
            members = np.flatnonzero(depth == level)
            members = members[np.lexsort((label[members], new[parent[members]]))]
            new[members] = np.arange(taken, taken + len(members))
            taken += len(members)
        children = np.bincount(new[parent[1:]], minlength=nodes)
        self.first = np.ones(nodes + 1, dtype=np.int32)
        np.cumsum(children, out=self.first[1:])
        self.first[1:] += 1
        self.labels = np.zeros(nodes, dtype=np.int32)
        self.labels[new] = label
        self.terminal = np.full(nodes, -1, dtype=np.int32)
        self.terminal[new] = terminal
        self.roots = np.full(_ROOT_SPAN, -1, dtype=np.int32)
        top = np.arange(1, self.first[1])
        near = self.labels[top] < _ROOT_SPAN
        self.roots[self.labels[top[near]]] = top[near]

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.first, self.labels, self.roots, self.terminal


class _Encoder:
    """The compiled path with its Rust fallback (see `unigram_encoder`)."""

    def __init__(self, model, plan, normalize, added: list[str], fallback: Callable):
        self.model, self.plan, self.normalize, self.fallback = model, plan, normalize, fallback
        contents = {c for c in added if c}
        if normalize is not None:
            contents |= {normalize(c) for c in contents} - {""}
        ordered = sorted(contents, key=len, reverse=True)
        self.added = regex.compile("|".join(map(regex.escape, ordered))) if ordered else None
        self.confirmed: bool | None = None

    def _load(self) -> bool:
        """Read the vocabulary into the trie; False where the model needs what is not built
        here (no `<unk>` id, byte fallback)."""
        spec = json.loads(self.model.__getstate__())
        if spec.get("unk_id") is None or spec.get("byte_fallback"):
            return False
        self.trie = PieceTrie([piece for piece, _ in spec["vocab"]])
        self.scores = np.array([score for _, score in spec["vocab"]], dtype=np.float64)
        self.unk_id, self.unk_score = int(spec["unk_id"]), self.scores.min() - UNK_PENALTY
        return True

    def __call__(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(ids, owners) of the texts, as `FlatIds`."""
        if self.confirmed is None:
            self.confirmed = self._load() and self._confirm(texts)
        return self._encode(texts) if self.confirmed else self.fallback(texts)

    def _encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        normalized = texts if self.normalize is None else list(map(self.normalize, texts))
        rust = self._for_rust(texts, normalized)
        ids, owners = self._compiled(normalized)
        if len(rust):
            keep = ~np.isin(owners, rust)
            other = self.fallback([texts[i] for i in rust.tolist()])
            ids = np.concatenate([ids[keep], other.ids])
            owners = np.concatenate([owners[keep], rust[other.owners]])
            order = np.argsort(owners, kind="stable")
            ids, owners = ids[order], owners[order]
        return ids, owners

    def _confirm(self, texts: list[str]) -> bool:
        sample = texts[:: max(1, len(texts) // CONFIRM_SAMPLE)][:CONFIRM_SAMPLE]
        ours, theirs = self._encode(sample), self.fallback(sample)
        same = all(np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))
        if same:
            log.info(
                "match: Unigram ids by the compiled Viterbi (%d strings confirmed)", len(sample)
            )
        else:
            log.warning(
                "match: the compiled Unigram Viterbi disagrees with the tokenizer on a sample; "
                "encoding with the tokenizer"
            )
        return same

    def _for_rust(self, texts: list[str], normalized: list[str]) -> np.ndarray:
        """Positions of the texts the Rust encoder takes: empty, or holding an added token."""
        empty = [i for i, t in enumerate(texts) if not t]
        held = []
        if self.added is not None:
            for batch in (texts, normalized) if self.normalize else (texts,):
                held.append(holding(self.added, batch))
        return np.unique(np.concatenate([np.asarray(empty, np.int64), *held]))

    def _compiled(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        if not texts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        flat, starts = code_points(texts)
        sizes = np.diff(starts)
        runs = runs_of_size(sizes, -(-len(flat) // THREADS))  # about a thread's share of characters
        longest = int(sizes.max())

        def run(lo_hi: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
            lo, hi = lo_hi
            size = 2 * int(starts[hi] - starts[lo]) + (hi - lo)  # ≤ 2 tokens a character + 1
            ids, owners = np.empty(size, np.int64), np.empty(size, np.int64)
            n = _encode_texts(
                flat, starts, lo, hi, *self.plan[:1], _WHITE_SPACE, *self.plan[1:],
                *self.trie.arrays, self.scores, self.unk_id, self.unk_score, longest, ids, owners,
            )  # fmt: skip
            return ids[:n], owners[:n]

        with ThreadPoolExecutor(THREADS, thread_name_prefix="unigram") as pool:
            parts = list(pool.map(run, [(r[0], r[-1] + 1) for r in runs]))
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


@numba.njit(nogil=True, cache=True)
def _slot(edges, key):
    """The table row holding `key`, or the empty row where it would go (linear probing)."""
    mask = len(edges) - 1
    h = np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)
    s = np.int64(h ^ (h >> np.uint64(32))) & mask
    while edges[s, 0] != -1 and edges[s, 0] != key:
        s = (s + 1) & mask
    return s


@numba.njit(nogil=True, cache=True)
def _build_trie(flat, starts, edges, parent, label, depth, terminal):
    """Insert the pieces into a hash trie (node 0 the root), recording each node's parent,
    label and depth; the number of nodes."""
    nodes = 1
    for p in range(len(starts) - 1):
        if starts[p + 1] == starts[p]:
            continue  # an empty piece: the model's prefix search never yields it
        node = 0
        for j in range(starts[p], starts[p + 1]):
            cp = np.int64(flat[j])
            key = (node << _CP_BITS) | cp
            s = _slot(edges, key)
            if edges[s, 0] == -1:
                edges[s, 0], edges[s, 1] = key, nodes
                parent[nodes], label[nodes], depth[nodes] = node, cp, depth[node] + 1
                nodes += 1
            node = edges[s, 1]
        terminal[node] = p  # a later duplicate overwrites: the model's map keeps the last id
    return nodes


@numba.njit(nogil=True, cache=True)
def _child(first, labels, roots, node, cp):
    """The child of `node` by code point `cp`, or -1 (binary search over its children)."""
    if node == 0 and cp < len(roots):
        return roots[cp]
    lo, hi = first[node], first[node + 1]
    end = hi
    while lo < hi:
        mid = (lo + hi) >> 1
        if labels[mid] < cp:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < end and labels[lo] == cp else -1


@numba.njit(nogil=True, cache=True)
def _lookup(first, labels, roots, terminal, piece, a, b):
    """The id of the string piece[a:b] in the vocabulary, or -1."""
    node = 0
    for j in range(a, b):
        node = _child(first, labels, roots, node, piece[j])
        if node < 0:
            return -1
    return terminal[node]


@numba.njit(nogil=True, cache=True)
def _viterbi(
    piece, length, first, labels, roots, terminal, scores, unk_id, unk_score, best, path, out, n,
    owner, owners,
):  # fmt: skip
    """Append the ids of piece[:length] (one pre-tokenized piece) to out[n:]; the new n."""
    start, ident, ends = path[0], path[1], path[2]
    for e in range(length + 1):
        start[e] = -1
    best[0] = 0.0
    for s in range(length):
        till_here = best[s]
        single = False
        node = 0
        for e in range(s, length):
            node = _child(first, labels, roots, node, piece[e])
            if node < 0:
                break
            token = terminal[node]
            if token >= 0:
                candidate = scores[token] + till_here
                if start[e + 1] < 0 or candidate > best[e + 1]:
                    best[e + 1], start[e + 1], ident[e + 1] = candidate, s, token
                if e == s:
                    single = True
        if not single:
            candidate = unk_score + till_here
            if start[s + 1] < 0 or candidate > best[s + 1]:
                best[s + 1], start[s + 1], ident[s + 1] = candidate, s, unk_id
    # read the path back (ends, in reverse), then emit it forwards with <unk> runs fused
    m, e = 0, length
    while e > 0:
        ends[m] = e
        m += 1
        e = start[e]
    i = m - 1
    while i >= 0:
        e = ends[i]
        token = ident[e]
        if token == unk_id:
            a = start[e]
            while i > 0 and ident[ends[i - 1]] == unk_id:
                i -= 1
            e = ends[i]
            found = _lookup(first, labels, roots, terminal, piece, a, e)
            token = found if found >= 0 else unk_id
        out[n], owners[n] = token, owner
        n += 1
        i -= 1
    return n


@numba.njit(nogil=True, cache=True)
def _encode_texts(
    flat, starts, lo, hi, whitespace, white, replacement, prepend, split,
    first, labels, roots, terminal, scores, unk_id, unk_score, longest, out, owners,
):  # fmt: skip
    """Ids of texts lo..hi-1 (code points flat[starts[t]:starts[t + 1]]) into out/owners, in
    order; returns how many. Per text: WhitespaceSplit's words (or the text), each through
    Metaspace (spaces → replacement, the replacement prepended unless there, split before each
    replacement) and the Viterbi."""
    piece = np.empty(longest + 1, np.int64)
    best, path = np.empty(longest + 2), np.empty((3, longest + 2), np.int64)
    n = 0
    for t in range(lo, hi):
        a, end = starts[t], starts[t + 1]
        while a < end:
            if whitespace:
                while a < end and _is_white(white, flat[a]):
                    a += 1
                if a == end:
                    break
                b = a
                while b < end and not _is_white(white, flat[b]):
                    b += 1
            else:
                b = end
            m = 0
            lead = replacement if flat[a] == 32 else flat[a]
            if prepend and lead != replacement:
                piece[0] = replacement
                m = 1
            for j in range(a, b):
                piece[m] = replacement if flat[j] == 32 else flat[j]
                m += 1
            left = 0
            for right in range(1, m + 1):
                if right == m or (split and piece[right] == replacement):
                    n = _viterbi(
                        piece[left:right], right - left, first, labels, roots, terminal, scores,
                        unk_id, unk_score, best, path, out, n, t, owners,
                    )  # fmt: skip
                    left = right
            a = b
    return n


@numba.njit(nogil=True, cache=True)
def _is_white(white, c):
    return c < len(white) and white[c]
