"""An XLM-R-like source vocabulary, a Glot500-like target that extends it, and their tokenizers.

Source: `<s> <pad> </s> <unk>`, then pieces of many scripts (about half `▁`-prefixed, some
capitalized), `<mask>` last. Target: the source's entries at the same ids, then new pieces: a few
capitalized forms of source pieces (copied case-insensitively), the rest new strings. Words are
later built only from the `used` pieces of each script (see `PiecePool`), so only part of either
vocabulary collects words, as with real tokenizers and ColexNet+.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from bench._synthetic.alphabets import SCRIPTS, Script

SPACE = "\u2581"
SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
MASK = "<mask>"
ROLES = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
    "cls_token": "<s>",
    "sep_token": "</s>",
    "mask_token": MASK,
}
CAPITALIZED_SHARE = 0.12  # of word-initial pieces in cased scripts (`▁Haus` beside `▁haus`)
CASE_VARIANT_SHARE = 0.035  # of new target pieces; the paper copies ~5k of 146k this way
USED_SOURCE, USED_NEW = 0.45, 0.6  # share of pieces words are built from (coverage)


@dataclass
class PiecePool:
    """Pieces of one script that words are built from, most frequent first: word-initial ones
    (without `▁`) and word-internal ones."""

    start: list[str]
    inner: list[str]


@dataclass
class Vocabularies:
    source: list[tuple[str, float]]  # (piece, Unigram log-probability) by id, specials included
    target: list[tuple[str, float]]
    source_pools: list[PiecePool]  # one per script in SCRIPTS
    new_pools: list[PiecePool]


def split_total(weights: list[float], total: int) -> list[int]:
    """Split `total` by `weights` (largest remainder), so the parts sum to `total` exactly."""
    raw = np.asarray(weights) / sum(weights) * total
    parts = np.floor(raw).astype(int)
    parts[np.argsort(parts - raw)[: total - parts.sum()]] += 1
    return parts.tolist()


def _strings(rng: np.random.Generator, script: Script, n: int, taken: set[str], prefix: str):
    """`n` new distinct `prefix + letters` strings (frequent letters more often), added to `taken`."""
    letters = np.array(list(script.alphabet))
    weights = 1.0 / np.arange(3, len(letters) + 3)
    out: list[str] = []
    while len(out) < n:
        m = int((n - len(out)) * 1.3) + 16
        lengths = np.minimum(rng.geometric(0.3, m), script.max_piece_chars)
        drawn = rng.choice(len(letters), int(lengths.sum()), p=weights / weights.sum())
        chars = "".join(letters[drawn].tolist())
        for end, length in zip(np.cumsum(lengths).tolist(), lengths.tolist(), strict=True):
            s = prefix + chars[end - length : end]
            if s not in taken:
                taken.add(s)
                out.append(s)
                if len(out) == n:
                    break
    return out


def _singles(script: Script, n: int, taken: set[str]) -> list[str]:
    """Single letters (bare and `▁`-prefixed, both cases), the most frequent first, at most n/4."""
    letters = list(script.alphabet[: max(1, n // 4)])
    if script.cased:
        letters += [c.upper() for c in letters if len(c.upper()) == 1 and c.upper() != c]
    out = [p for p in dict.fromkeys(p for c in letters for p in (c, SPACE + c)) if p not in taken]
    taken.update(out)
    return out[:n]


def _capitalize(pieces: list[str], rng: np.random.Generator, taken: set[str]) -> set[str]:
    """Replace a share of word-initial pieces by their capitalized form; return those."""
    chosen = set()
    for i in np.flatnonzero(rng.random(len(pieces)) < CAPITALIZED_SHARE).tolist():
        cap = SPACE + pieces[i][1:2].upper() + pieces[i][2:]
        if cap not in taken:
            taken.discard(pieces[i])
            taken.add(cap)
            pieces[i] = cap
            chosen.add(cap)
    return chosen


def _script_pieces(rng, script: Script, n: int, taken: set[str], singles: bool) -> list[str]:
    """n pieces of one script: (singles,) then about half word-initial, half word-internal."""
    out = _singles(script, n, taken) if singles else []
    n_start = (n - len(out)) // 2
    start = _strings(rng, script, n_start, taken, SPACE)
    capitalized = _capitalize(start, rng, taken) if script.cased else set()
    out += start + _strings(rng, script, n - len(out) - n_start, taken, "")
    return [p for p in out if p not in capitalized] + sorted(capitalized)


def _pool(pieces: list[str], used_share: float) -> PiecePool:
    """The word-building pool: the first `used_share` of the pieces (in frequency order), no
    capitalized ones (words are lower-case; capitalization is a matching variant)."""
    used = pieces[: int(len(pieces) * used_share)]
    start = [p[1:] for p in used if p.startswith(SPACE) and len(p) > 1 and p[1:] == p[1:].lower()]
    inner = [p for p in used if not p.startswith(SPACE) and p == p.lower()]
    return PiecePool(start=start, inner=inner)


def _ordered(rng, per_script: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """Interleave the scripts' pieces in one random frequency order; each script's own order
    follows it (so its frequent pieces get low ids and high scores)."""
    flat = [(s, p) for s, pieces in enumerate(per_script) for p in pieces]
    order = rng.permutation(len(flat))
    ordered = [flat[i] for i in order.tolist()]
    by_script: list[list[str]] = [[] for _ in per_script]
    for s, p in ordered:
        by_script[s].append(p)
    return [p for _, p in ordered], by_script


def _case_variants(rng, pools: list[PiecePool], n: int, taken: set[str]) -> list[str]:
    """n capitalized forms of lower-case source word-initial pieces of cased scripts."""
    candidates = [
        SPACE + p[:1].upper() + p[1:]
        for script, pool in zip(SCRIPTS, pools, strict=True)
        if script.cased
        for p in pool.start
    ]
    candidates = [c for c in dict.fromkeys(candidates) if c not in taken]
    chosen = [candidates[i] for i in np.sort(rng.permutation(len(candidates))[:n]).tolist()]
    taken.update(chosen)
    return chosen


def build_vocabularies(n_source: int, n_target: int, seed: int) -> Vocabularies:
    """Source (n_source entries) and target (n_target entries, the source ones first)."""
    rng = np.random.default_rng(seed)
    taken: set[str] = {SPACE, *SPECIALS, MASK}
    counts = split_total([s.piece_share for s in SCRIPTS], n_source - len(SPECIALS) - 2)
    per_script = [
        _script_pieces(rng, s, n, taken, True) for s, n in zip(SCRIPTS, counts, strict=True)
    ]
    source_pieces, by_script = _ordered(rng, per_script)
    source_pools = [_pool(p, USED_SOURCE) for p in by_script]

    n_new = n_target - n_source
    variants = _case_variants(rng, source_pools, int(n_new * CASE_VARIANT_SHARE), taken)
    counts = split_total([s.language_share for s in SCRIPTS], n_new - len(variants))
    new = [_script_pieces(rng, s, n, taken, False) for s, n in zip(SCRIPTS, counts, strict=True)]
    new_pieces, new_by_script = _ordered(rng, new)
    new_pieces = _interleave(rng, new_pieces, variants)

    source = [(t, 0.0) for t in SPECIALS] + [(SPACE, -3.0)]
    source += [(p, -float(np.log(i + 20))) for i, p in enumerate(source_pieces)]
    source.append((MASK, 0.0))
    stride = n_source / max(n_new, 1)  # new pieces span the source's score range
    target = source + [(p, -float(np.log(i * stride + 20)) - 0.5) for i, p in enumerate(new_pieces)]
    return Vocabularies(source, target, source_pools, [_pool(p, USED_NEW) for p in new_by_script])


def _interleave(rng, pieces: list[str], extra: list[str]) -> list[str]:
    out = pieces + extra
    return [out[i] for i in rng.permutation(len(out)).tolist()]


def build_tokenizer(vocab: list[tuple[str, float]]) -> PreTrainedTokenizerFast:
    """An XLM-R-shaped Unigram tokenizer (Metaspace `▁`, `<s> … </s>` template) over `vocab`.

    No normalizer: XLM-R's precompiled NFKC map is left out (the pieces are NFKC-stable letters).
    """
    tok = Tokenizer(models.Unigram(vocab, unk_id=SPECIALS.index("<unk>"), byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SPACE, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=SPACE, prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    return PreTrainedTokenizerFast(tokenizer_object=tok, **ROLES)
