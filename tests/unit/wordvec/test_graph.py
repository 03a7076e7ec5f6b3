"""The UDHR word graph on a tiny planted parallel corpus (and the real UDHR when slow)."""

from __future__ import annotations

import numpy as np
import pytest

from hyperofa.corpus.udhr import Paragraph, split_by_article
from hyperofa.errors import EmptyInputError
from hyperofa.wordvec.graph import Graph, add_cldr_links, build_alignment_graph

CONCEPTS = {
    "eng": ["water", "fire", "house", "tree", "dog", "moon"],
    "deu": ["wasser", "feuer", "haus", "baum", "hund", "mond"],
    "fra": ["eau", "feu", "maison", "arbre", "chien", "lune"],
}
N_PARAGRAPHS = 13
# {0, 1, 3, 9} is a perfect difference set mod 13: concept i occurs in 4 paragraphs and any two
# concepts share exactly one, so co-occurrence 1 < min_cooccurrence keeps them apart.
OCCURS = [{(i + d) % N_PARAGRAPHS for d in (0, 1, 3, 9)} for i in range(6)]
PLANTED = {
    (f"{lang}:{w}", f"eng:{e}")
    for lang in ("deu", "fra")
    for w, e in zip(CONCEPTS[lang], CONCEPTS["eng"], strict=True)
}


def corpus() -> list[Paragraph]:
    """13 aligned paragraphs in eng/deu/fra (article 1), + a spa file misaligned in article 1."""
    out = []
    for lang, concepts in CONCEPTS.items():
        for j in range(N_PARAGRAPHS):
            text = " ".join(w for w, occ in zip(concepts, OCCURS, strict=True) if j in occ)
            filler = " the" if lang == "eng" else ""  # in every paragraph: a hub, dropped
            out.append(Paragraph(lang, lang, 1, j, text + filler))
    out += [Paragraph("spa", "spa", 1, j, "agua fuego") for j in range(N_PARAGRAPHS - 1)]
    return out


def edge_set(graph: Graph) -> set[tuple[str, str]]:
    pairs = {tuple(sorted((graph.nodes[a], graph.nodes[b]))) for a, b in graph.edges.tolist()}
    return {(a, b) if b.startswith("eng:") else (b, a) for a, b in pairs}


def test_graph_links_the_planted_translations_only():
    graph = build_alignment_graph(corpus())
    assert edge_set(graph) == PLANTED
    assert np.allclose(graph.weights, 1.0)  # identical occurrence sets: Dice 1
    assert "eng:the" not in graph.index and not any(k.startswith("spa:") for k in graph.nodes)
    assert graph.languages == {"eng", "deu", "fra"}


def test_graph_with_no_link_is_an_error():
    with pytest.raises(EmptyInputError, match="no links"):
        build_alignment_graph(corpus(), min_paragraphs=5)


def test_held_out_articles_never_reach_the_graph():
    extra = [
        Paragraph(lang, lang, 2, j, word)
        for j in range(2)
        for lang, word in (("eng", "secret"), ("deu", "geheim"), ("fra", "secret"))
    ]
    assert "deu:geheim" in build_alignment_graph(corpus() + extra).index
    train, _ = split_by_article(corpus() + extra, [2])
    assert "deu:geheim" not in build_alignment_graph(train).index


def test_cldr_links_add_month_and_country_names():
    graph = add_cldr_links(
        build_alignment_graph(corpus()), {"deu"}, kinds=("months", "territories")
    )
    edges = edge_set(graph)
    assert edges >= PLANTED
    assert {("deu:januar", "eng:january"), ("deu:deutschland", "eng:germany")} <= edges
    assert {k[:4] for k in graph.nodes} == {"deu:", "eng:", "fra:"}
    assert not any(k.startswith("fra:") and k.endswith("janvier") for k in graph.nodes)


@pytest.mark.slow
def test_real_udhr_graph_has_the_measured_size():
    from hyperofa.assets.udhr import default_udhr_dir, fetch_udhr
    from hyperofa.corpus.udhr import load_udhr

    train, _ = split_by_article(load_udhr(fetch_udhr(default_udhr_dir())), range(21, 31))
    graph = build_alignment_graph(train)
    assert 30_000 < len(graph.nodes) < 50_000 and len(graph.languages) > 400
    assert {("fra:liberté", "eng:freedom"), ("swh:uhuru", "eng:freedom")} <= edge_set(graph)
