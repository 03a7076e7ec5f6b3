"""The script prior: a token's row guessed from the Unicode script of its text alone — the mean
source row of the source tokens written in the same script at the same word position.

e5 and XLM-R rows cluster by language and script (DESIGN §4.1), so this mean is a prior that
needs nothing but a token's characters. A token's script is that of its first letter (the first
word of the letter's Unicode name: `LATIN`, `CYRILLIC`, `CJK`, …; Python has no script property);
a token without a letter falls in the class of its first character (`N` digits, `P`
punctuation, `S` symbols, …). Word position is whether the surface form starts a word (a leading
space, `init.subword`). A (script, position) group no source token has backs off to the script
at any position; a script no source token is written in has no prior.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

ANY_POSITION = "*"
CHUNK = 65_536  # source rows summed at once


def script_of(form: str | None) -> str | None:
    """The script of a surface form's first letter, else the category class of its first
    character; None for no text."""
    text = (form or "").lstrip(" ")
    if not text:
        return None
    for char in text:
        if unicodedata.category(char).startswith("L"):
            return unicodedata.name(char, "UNNAMED").split(" ")[0]
    return unicodedata.category(text[0])[0]


def script_keys(forms: Sequence[str | None]) -> list[tuple[str, str] | None]:
    """(script, position) per surface form: position `1` starts a word, `0` continues one."""
    keys: list[tuple[str, str] | None] = []
    for form in forms:
        script = script_of(form)
        keys.append(None if script is None else (script, "1" if form.startswith(" ") else "0"))
    return keys


class ScriptGroups:
    """The script keys of every source token, numbered once into groups: `fine` (n,) the code of
    each token's (script, position) group and `coarse` (n,) of its (script, any) group, -1 for a
    token without text."""

    def __init__(self, keys: Sequence[tuple[str, str] | None]):
        self.index: dict[tuple[str, str], int] = {}
        self.fine, self.coarse = self.codes(keys, add=True)

    def codes(self, keys, add: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """int64 (n,) × 2: each key's (script, position) and (script, any) group, -1 if none."""
        out = np.full((2, len(keys)), -1, dtype=np.int64)
        for n, key in enumerate(keys):
            if key is None:
                continue
            for level, group in enumerate((key, (key[0], ANY_POSITION))):
                if add:
                    self.index.setdefault(group, len(self.index))
                out[level, n] = self.index.get(group, -1)
        return out[0], out[1]


class ScriptPrior:
    """Means of source rows by (script, position) group and by script, over the source tokens
    `ids` (those a prediction may read) of `groups`."""

    def __init__(self, groups: ScriptGroups, ids: np.ndarray, rows: np.ndarray):
        self.groups = groups
        fine, coarse, size = groups.fine, groups.coarse, len(groups.index)
        ids = np.asarray(ids, dtype=np.int64)
        ids = ids[fine[ids] >= 0]
        self.counts = np.bincount(np.concatenate([fine[ids], coarse[ids]]), minlength=size)
        sums = np.zeros((size, rows.shape[1]))
        for start in range(0, len(ids), CHUNK):  # float64 copies of one chunk of rows at a time
            block = ids[start : start + CHUNK]
            members = sp.csr_matrix(
                (np.ones(2 * len(block)), (np.concatenate([fine[block], coarse[block]]),
                 np.tile(np.arange(len(block)), 2))),
                shape=(size, len(block)),
            )  # fmt: skip
            sums += members @ rows[block].astype(np.float64)
        self.means = sums / np.maximum(self.counts, 1)[:, None]

    def rows(self, keys: Sequence[tuple[str, str] | None]) -> tuple[np.ndarray, np.ndarray]:
        """float32 (n, k): the mean of each key's (script, position) group, else of its script;
        bool (n,): a prior exists (zero rows where none does)."""
        fine, coarse = self.groups.codes(keys)
        counts = np.append(self.counts, 0)  # code -1 (no such group) reads the trailing 0
        group = np.where(counts[fine] > 0, fine, np.where(counts[coarse] > 0, coarse, -1))
        present = group >= 0
        out = np.zeros((len(keys), self.means.shape[1]), dtype=np.float32)
        out[present] = self.means[group[present]]
        return out, present
