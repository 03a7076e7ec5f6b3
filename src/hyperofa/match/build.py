"""Build the token → word CSR map: each distinct word string encoded once (however many languages
hold it), each distinct surface form once (`forms`), the pairs packed into one int64 a pair and
sorted in place, so memory stays a few bytes per (token, word) pair."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import chain

import numpy as np
from tqdm.auto import tqdm

from hyperofa.errors import IncompatibleInputsError
from hyperofa.match.encoders import Encoder, FlatIds, TokenizerEncoder
from hyperofa.match.forms import surface_forms
from hyperofa.match.prefix import LeadingSpace
from hyperofa.match.tokenwords import TokenWordMap

log = logging.getLogger(__name__)
_MULTIPLICITY_BITS = 2  # a pair's multiplicity (1..3) rides in the low bits of its packed key
_CONFIRM_SAMPLE = 512  # strings a dummy-prefix rule is checked on before a run relies on it
_DECODE_CHUNK = 1 << 22


def build_token_word_map(
    words: Sequence[str], encode_batch: Encoder, vocab_size: int, batch_size: int = 20_000
) -> TokenWordMap:
    """Match every word (the part after `lang:`) to the subword ids of its surface forms.

    Args:
        words: word strings, row i of the word-vector table (language prefix already removed).
        encode_batch: tokenizes a list of strings, each as one `tokenizer(text,
            add_special_tokens=False)` call would (`tokenizer_encoder`, whose leading-space rule
            lets a word's `w` and `" " + w` be encoded once).
        vocab_size: number of token ids (rows of the map); ids outside [0, vocab_size) are dropped.
        batch_size: distinct words encoded per call.
    """
    distinct, rows_of = _distinct(words)
    space = encode_batch.leading_space if isinstance(encode_batch, TokenizerEncoder) else None
    packed: list[np.ndarray] = []
    for start in tqdm(range(0, len(distinct), batch_size), desc="match", unit="batch", leave=False):
        forms = surface_forms(distinct[start : start + batch_size], space)
        if start == 0 and space is not None and not _confirmed(space, encode_batch, forms):
            space = None
            forms = surface_forms(distinct[:batch_size], None)
        if forms.texts:
            tokens, owners, counts = _word_token_pairs(forms, encode_batch, vocab_size)
            packed.append(_packed_rows(tokens, owners + start, counts, rows_of, len(words)))
    return _to_csr(packed, vocab_size, len(words))


def _distinct(words: Sequence[str]) -> tuple[list[str], tuple[np.ndarray, np.ndarray]]:
    """The distinct word strings in first-seen order, and the rows holding each as CSR
    (`rows[ptr[u]:ptr[u + 1]]`, ascending), int64."""
    import pandas as pd  # its hash table: ~1.5× a dict's setdefault per word; heavy to import

    table = np.empty(len(words), dtype=object)
    table[:] = words
    first, uniques = pd.factorize(table)  # strings are never missing values: no -1 codes
    del table
    distinct = uniques.tolist()
    ptr = np.zeros(len(distinct) + 1, dtype=np.int64)
    np.cumsum(np.bincount(first, minlength=len(distinct)), out=ptr[1:])
    return distinct, (ptr, np.argsort(first, kind="stable"))


def _confirmed(space: LeadingSpace, encode: Encoder, forms) -> bool:
    """Check the leading-space rule on a sample of the strings it let go without their space."""
    bare = [t for t in forms.texts if t[:1] != " "]
    sample = [t for t, d in zip(bare, space.drops(bare).tolist(), strict=True) if d]
    sample = sample[:: max(1, len(sample) // _CONFIRM_SAMPLE)][:_CONFIRM_SAMPLE]
    if not sample or space.confirm(encode, sample):
        return True
    log.warning(
        "match: the tokenizer's config promises a dummy prefix its ids do not keep; "
        "encoding every surface form"
    )
    return False


def _word_token_pairs(
    forms, encode: Encoder, vocab_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(token, word, multiplicity) for each distinct (token, word) pair of the forms' encodings,
    int64 each: a form holding a token twice counts once (the public code's `set(tokenized)`),
    and a string standing for n forms n times."""
    tokens, text_rows = _text_token_pairs(forms.texts, encode, vocab_size)
    key = forms.owners[text_rows] * vocab_size + tokens
    pair, inverse = np.unique(key, return_inverse=True)
    multiplicity = np.bincount(inverse, weights=forms.counts[text_rows], minlength=len(pair))
    return pair % vocab_size, pair // vocab_size, multiplicity.astype(np.int64)


def _text_token_pairs(
    texts: list[str], encode: Encoder, vocab_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (token id, text index) pairs of the texts' encodings, int64 (n,) each."""
    encoded = encode(texts)
    if isinstance(encoded, FlatIds):
        ids, text_rows = encoded.ids, encoded.owners
    else:
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        ids = np.fromiter(chain.from_iterable(encoded), dtype=np.int64, count=int(lengths.sum()))
        text_rows = np.repeat(np.arange(len(encoded), dtype=np.int64), lengths)
    valid = (ids >= 0) & (ids < vocab_size)
    pair = _sorted_unique(text_rows[valid] * vocab_size + ids[valid])
    return pair % vocab_size, pair // vocab_size


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """`np.unique(keys)`, by sorting: numpy 2's hash-based unique is ~30× slower on these."""
    keys = np.sort(keys)
    first = np.ones(len(keys), dtype=bool)
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    return keys[first]


def _packed_rows(
    tokens: np.ndarray,
    words: np.ndarray,
    multiplicity: np.ndarray,
    rows_of: tuple[np.ndarray, np.ndarray],
    num_rows: int,
) -> np.ndarray:
    """Each (token, distinct word) pair once per row holding the word, packed into one int64:
    (token · num_rows + row) · 4 + multiplicity."""
    ptr, rows = rows_of
    reps = ptr[words + 1] - ptr[words]
    ends = np.cumsum(reps)
    picked = rows[
        np.repeat(ptr[words] - (ends - reps), reps) + np.arange(ends[-1] if len(ends) else 0)
    ]
    pair = np.repeat(tokens, reps) * num_rows + picked
    return (pair << _MULTIPLICITY_BITS) | np.repeat(multiplicity, reps)


def _to_csr(packed: list[np.ndarray], vocab_size: int, num_rows: int) -> TokenWordMap:
    """CSR from packed pairs (each (token, row) once), sorted by token, then row."""
    if vocab_size * max(num_rows, 1) >= 1 << (63 - _MULTIPLICITY_BITS):
        raise IncompatibleInputsError(
            f"{vocab_size:,} tokens × {num_rows:,} words do not fit the packed int64 pair keys"
        )
    keys = np.concatenate(packed) if packed else np.zeros(0, np.int64)
    packed.clear()
    keys.sort()
    degree = np.zeros(vocab_size, dtype=np.int64)
    indices = np.empty(len(keys), dtype=np.int64)
    multiplicity = np.empty(len(keys), dtype=np.int8)
    for s in range(0, len(keys), _DECODE_CHUNK):
        chunk = keys[s : s + _DECODE_CHUNK]
        pair = chunk >> _MULTIPLICITY_BITS
        token = pair // max(num_rows, 1)
        degree += np.bincount(token, minlength=vocab_size)
        indices[s : s + len(chunk)] = pair - token * max(num_rows, 1)
        multiplicity[s : s + len(chunk)] = chunk & ((1 << _MULTIPLICITY_BITS) - 1)
    indptr = np.zeros(vocab_size + 1, dtype=np.int64)
    np.cumsum(degree, out=indptr[1:])
    return TokenWordMap(indptr, indices, multiplicity)
