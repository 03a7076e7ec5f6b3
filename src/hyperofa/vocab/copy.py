"""Copy: tokens shared by the source and target vocabularies, as the public OFA code finds them.

cisnlp/ofa `ofa/utils.py::get_overlapping_tokens` (fuzzy_search on, fuzzy_whitespace off, as
`ofa.py` calls it), on tokens standardized by `standardized_vocab`:
- Each vocabulary becomes a dict standardized token → id built in ascending id order, so when
  several ids standardize alike the highest id stands for them (in the target, the others are
  not copied at all).
- Exact: a target token whose standardized form is in the source dict copies that id.
- Case-insensitive, for the rest: the source dict lowercased as
  `{token.lower(): id for token, id in sorted(source.items())}` — on a collision the last token in
  sorted string order wins — and looked up with a truthiness test, so source id 0 never matches.
Ours adds one rule first: target special tokens map to the source's special of the same role
(`mask_token` …) whatever their spelling; the public code copies them only by exact overlap. And
byte-level vocabularies (GPT-2, Llama 3, Qwen) are read from their bytes rather than decoded id by
id (`standardize`), so tokens ending inside a character no longer all standardize to `�`; an
extended tokenizer then copies every source id onto itself, whatever the tokenizer family.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hyperofa.vocab.standardize import standardized_vocab

log = logging.getLogger(__name__)

NO_SOURCE = -1
# roles whose source counterpart a target special token maps to, whatever its surface form
SPECIAL_ROLES = (
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
)


class CopyKind:
    """What `CopyMap.kind` holds per target token."""

    NONE = 0
    SPECIAL = 1
    EXACT = 2
    CASE_INSENSITIVE = 3


@dataclass(frozen=True)
class CopyMap:
    """`source_id[t]`: the source id whose row target token t copies, or -1; `kind[t]`: CopyKind."""

    source_id: np.ndarray  # int64 (V_t,)
    kind: np.ndarray  # int8 (V_t,)

    def counts(self) -> dict[str, int]:
        return {
            "special": int((self.kind == CopyKind.SPECIAL).sum()),
            "copied_exact": int((self.kind == CopyKind.EXACT).sum()),
            "copied_ci": int((self.kind == CopyKind.CASE_INSENSITIVE).sum()),
            "not_copied": int((self.kind == CopyKind.NONE).sum()),
        }


def _by_form(standardized: Sequence[str | None]) -> dict[str, int]:
    """standardized token → id, built in ascending id order (the highest id of a form wins)."""
    return {form: i for i, form in enumerate(standardized) if form is not None}


def public_overlap(
    source_std: Sequence[str | None], target_std: Sequence[str | None]
) -> dict[int, tuple[int, int]]:
    """target id → (source id, CopyKind.EXACT or CASE_INSENSITIVE) by the public code's rule."""
    source, target = _by_form(source_std), _by_form(target_std)
    out = {target[f]: (source[f], CopyKind.EXACT) for f in target.keys() & source.keys()}
    lowered = {form.lower(): i for form, i in sorted(source.items())}
    for form, t_id in target.items():
        if form in source:
            continue
        s_id = lowered.get(form.lower())
        if s_id:  # the public code's truthiness test: source id 0 never matches
            out[t_id] = (s_id, CopyKind.CASE_INSENSITIVE)
    return out


def overlapping_tokens(
    source_std: Sequence[str | None],
    target_std: Sequence[str | None],
    source_specials: dict[str, int],
    target_specials: dict[str, int],
) -> CopyMap:
    """Map target tokens onto source tokens: specials by role, then `public_overlap`.

    Args:
        source_std, target_std: standardized token by id (`standardized_vocab`, or `standardize`
            of the token strings); None = unused id.
        source_specials, target_specials: role (e.g. `mask_token`) → id, for each tokenizer.
    """
    source_id = np.full(len(target_std), NO_SOURCE, dtype=np.int64)
    kind = np.zeros(len(target_std), dtype=np.int8)
    for role, t_id in target_specials.items():
        if role in source_specials and 0 <= t_id < len(target_std):
            source_id[t_id], kind[t_id] = source_specials[role], CopyKind.SPECIAL
    for t_id, (s_id, how) in public_overlap(source_std, target_std).items():
        if kind[t_id] == CopyKind.NONE:
            source_id[t_id], kind[t_id] = s_id, how
    result = CopyMap(source_id=source_id, kind=kind)
    c = result.counts()
    log.info(
        "copy: %s source, %s target, %s exact, %s case-insensitive, %s special",
        f"{len(source_std):,}",
        f"{len(target_std):,}",
        f"{c['copied_exact']:,}",
        f"{c['copied_ci']:,}",
        f"{c['special']:,}",
    )
    return result


def copy_map(source_tokenizer, target_tokenizer) -> CopyMap:
    """`overlapping_tokens` of two transformers tokenizers."""
    return overlapping_tokens(
        standardized_vocab(source_tokenizer),
        standardized_vocab(target_tokenizer),
        special_ids(source_tokenizer),
        special_ids(target_tokenizer),
    )


def special_ids(tokenizer) -> dict[str, int]:
    """Role → id of a transformers tokenizer's special tokens (roles it lacks are left out)."""
    out = {}
    for role in SPECIAL_ROLES:
        token = getattr(tokenizer, role, None)
        if token is not None:
            idx = tokenizer.convert_tokens_to_ids(token)
            if idx is not None:
                out[role] = int(idx)
    return out
