"""The UDHR word graph (DESIGN.md §4.1): non-English `lang:word` ↔ `eng:word` links by Dice over
aligned-paragraph occurrence, plus CLDR name links (languages, territories, months, days).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from hyperofa.corpus.udhr import ENGLISH_CODE, UNSEGMENTED, Paragraph, aligned_paragraphs, words
from hyperofa.errors import ConfigError, EmptyInputError
from hyperofa.wordvec.io import split_key

CLDR_KINDS = ("languages", "territories", "months", "days")
UNDETERMINED = "und"  # 10 UDHR files of unidentified varieties: no language to prefix


@dataclass(eq=False)
class Graph:
    """Undirected weighted graph: edge i joins nodes[edges[i, 0]] and nodes[edges[i, 1]].

    nodes: `lang:word` keys, sorted; edges: (E, 2) int64, each pair once; weights: (E,) float64.
    """

    nodes: list[str]
    edges: np.ndarray
    weights: np.ndarray
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = {k: i for i, k in enumerate(self.nodes)}

    @property
    def languages(self) -> set[str]:
        return {split_key(k)[0] for k in self.nodes}


def graph_from_links(links: dict[tuple[str, str], float]) -> Graph:
    """Graph over the keys in `links` ((key_a, key_b) → weight; a pair and its reverse merge by max)."""
    merged: dict[tuple[str, str], float] = {}
    for (a, b), w in links.items():
        pair = (a, b) if a < b else (b, a)
        merged[pair] = max(w, merged.get(pair, 0.0))
    nodes = sorted({k for pair in merged for k in pair})
    index = {k: i for i, k in enumerate(nodes)}
    edges = np.array([(index[a], index[b]) for a, b in merged], dtype=np.int64).reshape(-1, 2)
    return Graph(nodes, edges, np.fromiter(merged.values(), dtype=np.float64, count=len(merged)))


def _occurrences(paragraphs: Iterable[Paragraph], pid: dict[tuple[int, int], int]):
    """lang → (word → set of paragraph ids, set of paragraph ids the language covers)."""
    per_lang: dict[str, tuple[dict[str, set[int]], set[int]]] = {}
    for p in paragraphs:
        j = pid.get((p.article, p.index))
        if j is None:
            continue
        occ, covered = per_lang.setdefault(p.lang, ({}, set()))
        covered.add(j)
        for w in set(words(p.text)):
            occ.setdefault(w, set()).add(j)
    return per_lang


def _incidence(occ: dict[str, set[int]], vocab: list[str], n_par: int) -> np.ndarray:
    """(len(vocab), n_par) float32 0/1 matrix: word i occurs in paragraph j."""
    out = np.zeros((len(vocab), n_par), dtype=np.float32)
    for i, w in enumerate(vocab):
        out[i, list(occ[w])] = 1.0
    return out


def _top_links(
    x: np.ndarray, y: np.ndarray, covered: np.ndarray, min_co: int, top: int, min_dice: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, dice) of each x-word's `top` English links. x: (n, P), y: (m, P), covered: (P,)."""
    co = x @ y.T
    dice = 2.0 * co / (x.sum(1)[:, None] + (y @ covered)[None, :])
    dice[co < min_co] = 0.0
    k = min(top, y.shape[0])
    best = np.argpartition(-dice, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(dice, best, axis=1)
    rows, pos = np.nonzero((vals >= min_dice) & (vals > 0))
    return rows, best[rows, pos], vals[rows, pos]


def _english_side(english: list[Paragraph], max_share: float):
    """pid ((article, index) → column), English vocabulary (no hubs), its (m, P) incidence."""
    pid = {(p.article, p.index): j for j, p in enumerate(english)}
    occ = _occurrences(english, pid)["eng"][0] if english else {}
    vocab = sorted(w for w, s in occ.items() if len(s) <= max_share * len(pid))
    return pid, vocab, _incidence(occ, vocab, len(pid))


def build_alignment_graph(
    paragraphs: Sequence[Paragraph],
    *,
    min_paragraphs: int = 2,
    min_cooccurrence: int = 2,
    max_english_share: float = 0.5,
    top_english: int = 3,
    min_dice: float = 0.3,
    exclude_codes: Iterable[str] = UNSEGMENTED,
) -> Graph:
    """Link each non-English word to its top English words by Dice over aligned paragraphs.

    Paragraph identity is (article, index) among English's paragraphs; a file contributes the
    articles in which it has English's paragraph count (`aligned_paragraphs`). Files of one
    language pool their occurrences; Dice's English side counts only the paragraphs that language
    covers. Left out: `exclude_codes` (unsegmented scripts) and undetermined-language files.
    """
    excluded = set(exclude_codes)
    aligned = [p for p in aligned_paragraphs(paragraphs) if p.code not in excluded]
    english = [p for p in aligned if p.code == ENGLISH_CODE]
    pid, eng_vocab, y = _english_side(english, max_english_share)
    others = [p for p in aligned if p.lang not in ("eng", UNDETERMINED)]
    links: dict[tuple[str, str], float] = {}
    for lang, (occ, covered) in tqdm(
        sorted(_occurrences(others, pid).items()), desc="word graph", disable=None
    ):
        vocab = sorted(w for w, s in occ.items() if len(s) >= min_paragraphs)
        if not vocab or not eng_vocab:
            continue
        mask = np.zeros(len(pid), dtype=np.float32)
        mask[list(covered)] = 1.0
        x = _incidence(occ, vocab, len(pid))
        rows, cols, vals = _top_links(x, y, mask, min_cooccurrence, top_english, min_dice)
        for r, c, v in zip(rows.tolist(), cols.tolist(), vals.tolist(), strict=True):
            links[(f"{lang}:{vocab[r]}", f"eng:{eng_vocab[c]}")] = v
    if not links:
        raise EmptyInputError(f"word graph: no links from {len(aligned)} aligned paragraphs")
    return graph_from_links(links)


def _babel_locale(lang: str):
    from babel import Locale
    from babel.core import UnknownLocaleError, get_global

    try:
        return Locale.parse(get_global("language_aliases").get(lang, lang))
    except (UnknownLocaleError, ValueError):
        return None


def _cldr_names(locale, kind: str) -> dict[object, str]:
    if kind in ("months", "days"):
        return dict(getattr(locale, kind)["format"]["wide"].items())
    return dict(getattr(locale, kind).items())


def _single_word(name: str) -> str | None:
    found = words(name)
    word = found[0] if len(found) == 1 else None
    return word if word and word == name.lower() and not any(c.isdigit() for c in word) else None


def cldr_links(languages: Iterable[str], kinds: Sequence[str] = CLDR_KINDS) -> dict:
    """(`xxx:name`, `eng:name`) → 1.0 for CLDR names (one word each side) in each language."""
    from babel import Locale

    if bad := [k for k in kinds if k not in CLDR_KINDS]:
        raise ConfigError("word_graph.cldr_kinds", bad, f"a subset of {CLDR_KINDS}")
    english = Locale("en")
    links: dict[tuple[str, str], float] = {}
    for lang in sorted(set(languages) - {"eng"}):
        if (locale := _babel_locale(lang)) is None:
            continue
        for kind in kinds:
            eng_names = _cldr_names(english, kind)
            for code, name in _cldr_names(locale, kind).items():
                native, eng = _single_word(name), _single_word(eng_names.get(code, ""))
                if native and eng:
                    links[(f"{lang}:{native}", f"eng:{eng}")] = 1.0
    return links


def add_cldr_links(graph: Graph, languages: Iterable[str], kinds: Sequence[str] = CLDR_KINDS):
    """A new graph: `graph` plus CLDR name links (weight 1.0) for `languages`."""
    links = {
        (graph.nodes[a], graph.nodes[b]): w
        for (a, b), w in zip(graph.edges.tolist(), graph.weights.tolist(), strict=True)
    }
    for pair, w in cldr_links(languages, kinds).items():
        links.setdefault(pair, w)
    return graph_from_links(links)
