"""ColexNet+-like word vectors: `lang:word` keys over ~1,000 languages (Zipf-sized) whose words
are concatenations of vocabulary pieces, plus random vectors; and XLM-R-like source embeddings.

Pieces are drawn Zipf-like within each script's pool, so a few pieces occur in a large share of a
script's words and most in a handful: the heavy-tailed token→word degree of the real map.
Languages outside the source set (all but the largest tenth) also draw from the new pieces.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench._synthetic.alphabets import SCRIPTS
from bench._synthetic.vocab import PiecePool, split_total

PIECES_PER_WORD = (0.3, 0.35, 0.22, 0.1, 0.03)  # P(1 piece), P(2), … P(5)
INTERNAL_SHARE = 0.05  # `$` keys: word-internal pieces
NEW_PIECE_SHARE = 0.4  # per piece of a word of a language the source does not cover
SOURCE_LANGUAGE_SHARE = 0.1  # XLM-R covers 100 of Glot500-c's ~1,000 languages
ZIPF = 1.05
_ROWS_PER_CHUNK = 1 << 17


def language_codes(n: int, seed: int) -> list[str]:
    """`eng` first, then distinct random 3-letter codes."""
    rng = np.random.default_rng(seed)
    codes = {"eng": None}
    while len(codes) < n:
        codes.setdefault("".join(chr(97 + c) for c in rng.integers(0, 26, 3).tolist()))
    return list(codes)


class _Sampler:
    """Zipf-like draws from a list of strings (earlier = more frequent)."""

    def __init__(self, items: list[str]):
        self.items = items
        self.cdf = np.cumsum(np.arange(5, len(items) + 5, dtype=np.float64) ** -ZIPF)

    def draw(self, rng: np.random.Generator, m: int) -> list[str]:
        idx = np.searchsorted(self.cdf, rng.random(m) * self.cdf[-1])
        return [self.items[i] for i in np.minimum(idx, len(self.items) - 1).tolist()]


def _slot(rng, m: int, source: _Sampler, new: _Sampler | None) -> list[str]:
    """m pieces for one position of m words, each from the new pool with NEW_PIECE_SHARE."""
    out = source.draw(rng, m)
    if new is None:
        return out
    fresh, pick = new.draw(rng, m), rng.random(m) < NEW_PIECE_SHARE
    return [f if p else s for s, f, p in zip(out, fresh, pick.tolist(), strict=True)]


def _batch(rng, m: int, samplers: dict[str, _Sampler | None]) -> list[str]:
    """m candidate words: plain ones (a word-initial piece, then word-internal ones) and `$` ones."""
    k = rng.choice(len(PIECES_PER_WORD), m, p=PIECES_PER_WORD) + 1
    internal = rng.random(m) < INTERNAL_SHARE
    k[internal] = np.minimum(k[internal], 2)
    first = _slot(rng, m, samplers["start"], samplers["new_start"])
    first_inner = _slot(rng, m, samplers["inner"], samplers["new_inner"])
    words = [
        "$" + b if i else a for a, b, i in zip(first, first_inner, internal.tolist(), strict=True)
    ]
    for j in range(1, len(PIECES_PER_WORD)):
        rows = np.flatnonzero(k > j)
        extra = _slot(rng, len(rows), samplers["inner"], samplers["new_inner"])
        for r, piece in zip(rows.tolist(), extra, strict=True):
            words[r] += piece
    return words


def _words_of_language(rng, n: int, samplers: dict[str, _Sampler | None]) -> list[str]:
    """n distinct words of one language."""
    words: dict[str, None] = {}
    for _ in range(50):
        for w in _batch(rng, int((n - len(words)) * 1.2) + 8, samplers):
            words.setdefault(w)
        if len(words) >= n:
            break
    return list(words)[:n]


def _samplers(source: PiecePool, new: PiecePool, in_source: bool) -> dict[str, _Sampler | None]:
    use_new = not in_source and new.start and new.inner
    return {
        "start": _Sampler(source.start),
        "inner": _Sampler(source.inner),
        "new_start": _Sampler(new.start) if use_new else None,
        "new_inner": _Sampler(new.inner) if use_new else None,
    }


def build_words(
    n_words: int,
    n_languages: int,
    source_pools: list[PiecePool],
    new_pools: list[PiecePool],
    seed: int,
) -> tuple[list[str], np.ndarray]:
    """Keys `lang:word` (shuffled across languages) and the language index of each key."""
    rng = np.random.default_rng(seed)
    codes = language_codes(n_languages, seed)
    scripts = rng.choice(len(SCRIPTS), n_languages, p=_language_script_p())
    scripts[0] = 0  # eng: Latin
    sizes = split_total((np.arange(n_languages) + 2.0) ** -ZIPF, n_words)
    n_in_source = max(1, int(n_languages * SOURCE_LANGUAGE_SHARE))
    keys: list[str] = []
    langs: list[np.ndarray] = []
    for lang, (code, script, size) in enumerate(zip(codes, scripts.tolist(), sizes, strict=True)):
        samplers = _samplers(source_pools[script], new_pools[script], lang < n_in_source)
        keys += [f"{code}:{w}" for w in _words_of_language(rng, size, samplers)]
        langs.append(np.full(size, lang, dtype=np.int32))
    order = rng.permutation(len(keys))
    lang_of = np.concatenate(langs)[order]
    return [keys[i] for i in order.tolist()], lang_of


def _language_script_p() -> np.ndarray:
    p = np.array([s.language_share for s in SCRIPTS])
    return p / p.sum()


def write_word_vectors(path: Path, lang_of: np.ndarray, dim: int, seed: int) -> None:
    """float32 (N, dim) `.npy`: a per-language centre plus noise, written in chunks."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((int(lang_of.max()) + 1, dim), dtype=np.float32) * 0.6
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(len(lang_of), dim))
    for start in range(0, len(lang_of), _ROWS_PER_CHUNK):
        rows = lang_of[start : start + _ROWS_PER_CHUNK]
        noise = rng.standard_normal((len(rows), dim), dtype=np.float32)
        out[start : start + len(rows)] = centres[rows] + noise
    out.flush()
    del out


def write_embeddings(path: Path, rows: int, hidden: int, seed: int, rank: int = 64) -> None:
    """float32 (rows, hidden) `.npy`: low rank plus noise, so the SVD spectrum decays."""
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((rank, hidden), dtype=np.float32) * 0.02
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, hidden))
    for start in range(0, rows, _ROWS_PER_CHUNK):
        m = min(_ROWS_PER_CHUNK, rows - start)
        mix = rng.standard_normal((m, rank), dtype=np.float32)
        noise = rng.standard_normal((m, hidden), dtype=np.float32) * 0.02
        out[start : start + m] = mix @ basis + noise
    out.flush()
    del out
