"""Copy: tokens shared by the source and target vocabularies (OFA `get_overlapping_tokens`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hyperofa.vocab.standardize import standardize

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


def _first_index(keys: Sequence[str], skip: set[int]) -> dict[str, int]:
    """key → lowest index holding it. Lowest id wins collisions: in sentencepiece and BPE vocabs a
    lower id is the more frequent piece, so the choice is deterministic and sensible."""
    index: dict[str, int] = {}
    for i, k in enumerate(keys):
        if k and i not in skip and k not in index:
            index[k] = i
    return index


def overlapping_tokens(
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    source_specials: dict[str, int],
    target_specials: dict[str, int],
) -> CopyMap:
    """Map target tokens onto source tokens: specials by role, then exact, then case-insensitive.

    Args:
        source_tokens, target_tokens: token strings by id (empty string = unused id).
        source_specials, target_specials: role (e.g. `mask_token`) → id, for each tokenizer.
    """
    src_std, tgt_std = standardize(source_tokens), standardize(target_tokens)
    source_id = np.full(len(target_tokens), NO_SOURCE, dtype=np.int64)
    kind = np.zeros(len(target_tokens), dtype=np.int8)
    for role, t_id in target_specials.items():
        if role in source_specials and 0 <= t_id < len(target_tokens):
            source_id[t_id], kind[t_id] = source_specials[role], CopyKind.SPECIAL
    src_special_ids = set(source_specials.values())
    exact = _first_index(src_std, src_special_ids)
    lowered = _first_index([t.lower() for t in src_std], src_special_ids)
    for t_id, token in enumerate(tgt_std):
        if kind[t_id] != CopyKind.NONE or not token:
            continue
        if (s := exact.get(token)) is not None:
            source_id[t_id], kind[t_id] = s, CopyKind.EXACT
        elif (s := lowered.get(token.lower())) is not None:
            source_id[t_id], kind[t_id] = s, CopyKind.CASE_INSENSITIVE
    result = CopyMap(source_id=source_id, kind=kind)
    c = result.counts()
    log.info(
        "copy: %s source, %s target, %s exact, %s case-insensitive, %s special",
        f"{len(source_tokens):,}",
        f"{len(target_tokens):,}",
        f"{c['copied_exact']:,}",
        f"{c['copied_ci']:,}",
        f"{c['special']:,}",
    )
    return result


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
