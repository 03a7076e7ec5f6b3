"""ColexNet-style multilingual word vectors from the UDHR (DESIGN.md §4, §4.1).

graph (`hyperofa.wordvec.graph`) → weighted random walks → skip-gram (gensim). ColexNet+ runs the
same recipe on the Bible.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from tqdm.auto import tqdm

from hyperofa.corpus.udhr import UNSEGMENTED, Paragraph
from hyperofa.errors import ConfigError
from hyperofa.wordvec.graph import CLDR_KINDS, Graph, add_cldr_links, build_alignment_graph
from hyperofa.wordvec.io import WordVectors

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WordGraphConfig:
    """Knobs of the UDHR word graph and its embedding. Defaults: DESIGN §4.1, sized for the demo."""

    min_paragraphs: int = 2  # a non-English word must occur in >= this many aligned paragraphs
    min_cooccurrence: int = 2  # ... and share >= this many with an English word to link to it
    max_english_share: float = 0.5  # English words in more paragraphs become hubs: dropped
    top_english: int = 3  # links kept per non-English word (highest Dice)
    min_dice: float = 0.3
    exclude_codes: tuple[str, ...] = tuple(sorted(UNSEGMENTED))
    # Names of languages, countries, months, weekdays: ~74k nodes beyond the 38k of the UDHR graph
    # (articles 0-20) that widen vocabulary coverage; ("months", "days") alone adds 3k.
    cldr_kinds: tuple[str, ...] = CLDR_KINDS
    dim: int = 100
    # FreeDict P@10 on the UDHR vocabulary stayed 0.66-0.68 from 1.2M to 7.7M walk tokens,
    # window 3 or 5, 2 to 5 epochs: the cheapest setting that held it (~37 s CPU with CLDR).
    walks_per_node: int = 3
    walk_length: int = 10
    window: int = 3
    epochs: int = 2
    seed: int = 42
    workers: int = 1  # > 1 trains faster but gensim's threads make the result nondeterministic

    def __post_init__(self) -> None:
        positive = ("min_paragraphs", "min_cooccurrence", "top_english", "dim", "walks_per_node",
                    "walk_length", "window", "epochs", "workers")  # fmt: skip
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"word_graph.{name}", getattr(self, name), "an integer >= 1")
        if not 0 < self.max_english_share <= 1:
            raise ConfigError("word_graph.max_english_share", self.max_english_share, "in (0, 1]")
        if bad := [k for k in self.cldr_kinds if k not in CLDR_KINDS]:
            raise ConfigError("word_graph.cldr_kinds", bad, f"a subset of {CLDR_KINDS}")


def _transition_table(graph: Graph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR of the symmetric graph: (indptr (N+1,), neighbours (2E,), keys (2E,)).

    keys = row + cumulative transition probability within the row, so one global
    `searchsorted(keys, u + r)` samples a weighted neighbour of u for r ~ U[0, 1).
    """
    n = len(graph.nodes)
    src = np.concatenate([graph.edges[:, 0], graph.edges[:, 1]])
    dst = np.concatenate([graph.edges[:, 1], graph.edges[:, 0]])
    w = np.concatenate([graph.weights, graph.weights]).astype(np.float64)
    order = np.lexsort((dst, src))
    src, dst, w = src[order], dst[order], w[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    cum = np.cumsum(w)
    row_start = np.repeat(cum[indptr[:-1]] - w[indptr[:-1]], np.diff(indptr))
    row_total = np.repeat(cum[indptr[1:] - 1], np.diff(indptr)) - row_start
    return indptr, dst, src + (cum - row_start) / row_total


def random_walks(graph: Graph, walks_per_node: int, walk_length: int, seed: int) -> list[list[str]]:
    """`walks_per_node` weighted random walks of `walk_length` nodes from every node.

    A step from u goes to neighbour v with probability w(u, v) / Σ_x w(u, x). All walks advance
    together (one vectorized draw per step); the order of start nodes is shuffled per round.
    A node without neighbours gives walks of length 1. Deterministic given `seed`.
    """
    if walks_per_node < 1 or walk_length < 1:
        raise ConfigError("word_graph.walks", (walks_per_node, walk_length), "both >= 1")
    rng = np.random.default_rng(seed)
    indptr, neighbours, keys = _transition_table(graph)
    n = len(graph.nodes)
    starts = np.concatenate([rng.permutation(n) for _ in range(walks_per_node)])
    walks = np.empty((len(starts), walk_length), dtype=np.int64)
    walks[:, 0] = starts
    for t in range(1, walk_length if len(neighbours) else 1):
        cur = walks[:, t - 1]
        lo, hi = indptr[cur], indptr[cur + 1]
        pos = np.searchsorted(keys, cur + rng.random(len(cur)), side="right")
        # float rounding at a row's end must not step into the next row
        pos = np.clip(pos, lo, np.maximum(hi - 1, lo)).clip(max=len(neighbours) - 1)
        walks[:, t] = np.where(hi > lo, neighbours[pos], cur)
    lengths = np.where(indptr[starts + 1] > indptr[starts], walk_length, 1)
    names = np.array(graph.nodes, dtype=object)[walks].tolist()
    return [w if k == walk_length else w[:k] for w, k in zip(names, lengths.tolist(), strict=True)]


def _epoch_bar(epochs: int):
    """A gensim callback ticking a tqdm bar once per epoch."""
    from gensim.models.callbacks import CallbackAny2Vec

    class EpochBar(CallbackAny2Vec):
        def __init__(self) -> None:
            self.bar = tqdm(total=epochs, desc="skip-gram epochs", disable=None)

        def on_epoch_end(self, model) -> None:
            self.bar.update(1)

        def on_train_end(self, model) -> None:
            self.bar.close()

    return EpochBar()


def train_skipgram(
    walks: list[list[str]], dim: int, window: int, epochs: int, min_count: int = 1,
    seed: int = 42, workers: int = 1,
) -> WordVectors:  # fmt: skip
    """Skip-gram with negative sampling (gensim Word2Vec, sg=1) over `walks` → (N, dim) vectors.

    Only `workers=1` is reproducible: with several threads the order of updates, and so the
    vectors, vary from run to run even with a fixed seed.
    """
    from gensim.models import Word2Vec

    model = Word2Vec(
        walks, vector_size=dim, window=window, min_count=min_count, sg=1, epochs=epochs,
        seed=seed, workers=workers, callbacks=[_epoch_bar(epochs)],
    )  # fmt: skip
    return WordVectors(list(model.wv.index_to_key), np.array(model.wv.vectors, dtype=np.float32))


_GRAPH_KNOBS = (
    "min_paragraphs",
    "min_cooccurrence",
    "max_english_share",
    "top_english",
    "min_dice",
    "exclude_codes",
)


def build_udhr_word_vectors(
    paragraphs: Sequence[Paragraph], cfg: WordGraphConfig
) -> tuple[WordVectors, dict]:
    """The whole recipe on `paragraphs` → (word vectors, counts and seconds per step)."""
    clock = [time.perf_counter()]

    def lap() -> float:
        clock.append(time.perf_counter())
        return round(clock[-1] - clock[-2], 2)

    graph = build_alignment_graph(paragraphs, **{k: getattr(cfg, k) for k in _GRAPH_KNOBS})
    udhr_edges = len(graph.edges)
    if cfg.cldr_kinds:
        graph = add_cldr_links(graph, graph.languages, cfg.cldr_kinds)
    seconds = {"graph": lap()}
    walks = random_walks(graph, cfg.walks_per_node, cfg.walk_length, cfg.seed)
    seconds["walks"] = lap()
    wv = train_skipgram(walks, cfg.dim, cfg.window, cfg.epochs, seed=cfg.seed, workers=cfg.workers)
    seconds["skipgram"] = lap()
    counts = {
        "nodes": len(graph.nodes), "edges": len(graph.edges), "udhr_edges": udhr_edges,
        "cldr_edges": len(graph.edges) - udhr_edges, "languages": len(graph.languages),
        "walks": len(walks), "walk_tokens": sum(map(len, walks)), "vectors": len(wv),
        "seconds": seconds, "config": asdict(cfg),
    }  # fmt: skip
    log.info("word graph: %(nodes)d nodes, %(edges)d edges (%(cldr_edges)d CLDR), "
             "%(languages)d languages, %(walks)d walks → %(vectors)d vectors", counts)  # fmt: skip
    return wv, counts
