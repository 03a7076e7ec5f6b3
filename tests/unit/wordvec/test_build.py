"""Word graph → walks → skip-gram on the tiny planted parallel corpus of `test_graph`."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hyperofa.errors import ConfigError
from hyperofa.wordvec.build import (
    WordGraphConfig,
    build_udhr_word_vectors,
    random_walks,
    train_skipgram,
)
from hyperofa.wordvec.graph import Graph, build_alignment_graph, graph_from_links
from tests.unit.wordvec.test_graph import PLANTED, corpus, edge_set


def star() -> Graph:
    return graph_from_links(
        {("deu:a", "eng:x"): 0.9, ("deu:b", "eng:x"): 0.1, ("deu:c", "eng:y"): 0.5}
    )


def test_walks_are_deterministic_and_follow_edges():
    graph = build_alignment_graph(corpus())
    walks = random_walks(graph, walks_per_node=3, walk_length=6, seed=7)
    assert walks == random_walks(graph, walks_per_node=3, walk_length=6, seed=7)
    assert walks != random_walks(graph, walks_per_node=3, walk_length=6, seed=8)
    assert len(walks) == 3 * len(graph.nodes) and {len(w) for w in walks} == {6}
    assert sorted(w[0] for w in walks) == sorted(graph.nodes * 3)
    edges = edge_set(graph)
    for walk in walks:
        for a, b in itertools.pairwise(walk):
            assert (a, b) in edges or (b, a) in edges


def test_walks_are_weighted_and_isolated_nodes_stay():
    graph = star()
    walks = random_walks(graph, walks_per_node=4000, walk_length=2, seed=0)
    after_x = [w[1] for w in walks if w[0] == "eng:x"]
    assert after_x.count("deu:a") / len(after_x) == pytest.approx(0.9, abs=0.03)
    lonely = Graph(["deu:z", *graph.nodes], graph.edges + 1, graph.weights)
    walks = random_walks(lonely, walks_per_node=2, walk_length=5, seed=0)
    assert [w for w in walks if w[0] == "deu:z"] == [["deu:z"], ["deu:z"]]


def cosine(wv, a: str, b: str) -> float:
    u, v = wv.vectors[wv.index[a]], wv.vectors[wv.index[b]]
    return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))


def test_skipgram_puts_translations_nearer_than_unrelated_words():
    graph = build_alignment_graph(corpus())
    walks = random_walks(graph, walks_per_node=20, walk_length=10, seed=0)
    wv = train_skipgram(walks, dim=16, window=3, epochs=20, seed=0)
    assert sorted(wv.keys) == graph.nodes and wv.dim == 16
    for foreign, eng in PLANTED:
        others = [cosine(wv, foreign, e) for _, e in PLANTED if e != eng]
        assert cosine(wv, foreign, eng) > max(others)
    again = train_skipgram(walks, dim=16, window=3, epochs=20, seed=0)
    np.testing.assert_array_equal(wv.vectors, again.vectors)  # workers=1: reproducible


def test_build_udhr_word_vectors_reports_counts():
    cfg = WordGraphConfig(dim=8, walks_per_node=2, walk_length=4, epochs=1, cldr_kinds=("days",))
    wv, counts = build_udhr_word_vectors(corpus(), cfg)
    assert counts["udhr_edges"] == len(PLANTED) and counts["cldr_edges"] > 0
    assert counts["nodes"] == len(wv) and counts["walks"] == 2 * counts["nodes"]
    assert set(counts["seconds"]) == {"graph", "walks", "skipgram"}
    assert "deu:montag" in wv.index and wv.dim == 8


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"dim": 0}, "word_graph.dim"),
        ({"max_english_share": 0.0}, "max_english_share"),
        ({"cldr_kinds": ("scripts",)}, "cldr_kinds"),
    ],
)
def test_config_is_validated(change, key):
    with pytest.raises(ConfigError, match=key):
        WordGraphConfig(**change)
