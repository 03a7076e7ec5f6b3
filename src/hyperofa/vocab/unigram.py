"""Unigram (SentencePiece, XLM-R) tokenizer extension: train a unigram model on the new text and
append every piece the source vocabulary lacks after the source's last id, so source ids, special
tokens and the source pipeline (normalizer, pre-tokenizer, post-processor) stay as they are.

Score rule for an appended piece: log p_new(piece) + log(V_new / V_source), floored at the source's
lowest score. Unigram segmentation maximizes the sum of piece scores; mixing the two unigram models
with weights proportional to their vocabulary sizes and dropping the common normalizer leaves the
source scores as they are and shifts the new ones by log(V_new / V_source). At Glot500's own sizes
(250K new pieces on 250K XLM-R pieces) the shift is ~0, i.e. Glot500's rule of copying the new
model's score (`tokenization/run.py`). A small new model (8K pieces) has higher log-probs than the
250K source, and unshifted they would displace source pieces in source-language text for no gain:
on 30 UDHR languages the shift cuts the high-resource paragraphs whose segmentation changes from
13% to 8%, with the same tokens per word on the new languages. The floor keeps the Unigram
unknown-token penalty (lowest score - 10 in `tokenizers`) as it was.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterable
from typing import Any

from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

from hyperofa.errors import IncompatibleInputsError
from hyperofa.vocab.sentencepiece import METASPACE, Pieces, train_unigram

log = logging.getLogger(__name__)


def extend_unigram(
    source: PreTrainedTokenizerFast,
    texts: Iterable[str],
    *,
    vocab_size: int,
    seed: int = 0,
    character_coverage: float = 0.9999,
    max_piece_length: int = 16,
) -> tuple[PreTrainedTokenizerFast, dict[str, int]]:
    """Extend a Unigram `source` with unigram pieces learned from `texts` (see `extend_tokenizer`).

    Returns the target tokenizer (source ids unchanged, new pieces at source_size..target_size-1)
    and counts {source_size, trained_pieces, added, target_size}.
    """
    spec = _unigram_spec(source)
    normalizer = source.backend_tokenizer.normalizer
    started = time.perf_counter()
    trained = train_unigram(
        texts,
        vocab_size=vocab_size,
        seed=seed,
        character_coverage=character_coverage,
        max_piece_length=max_piece_length,
        normalize=normalizer.normalize_str if normalizer is not None else None,
    )
    seconds = time.perf_counter() - started
    target_spec, added = append_pieces(spec, trained)
    target_size = len(target_spec["model"]["vocab"])
    counts = {
        "source_size": target_size - added,  # added tokens past the model vocab included
        "trained_pieces": len(trained),
        "added": added,
        "target_size": target_size,
    }
    log.info(
        "extend_tokenizer: %s source, %s trained, %s added, %s target (trained in %.1fs)",
        *(f"{counts[k]:,}" for k in ("source_size", "trained_pieces", "added", "target_size")),
        seconds,
    )
    return wrap_spec(target_spec, source), counts


def append_pieces(spec: dict[str, Any], pieces: Pieces) -> tuple[dict[str, Any], int]:
    """Return a copy of a Unigram tokenizer spec (tokenizer.json as a dict) with `pieces` appended.

    `pieces`: the whole new model, (piece, log-prob) in its order. Pieces already in the vocabulary
    (or equal to an added token) are skipped; the others keep their order and get the module's
    score rule. `spec` is not modified. Returns (new spec, number appended).
    """
    vocab = list(spec["model"]["vocab"])
    target = {**spec, "model": {**spec["model"], "vocab": vocab}}
    shift = math.log(max(len(pieces), 1) / len(vocab))
    floor = min(score for _, score in vocab)
    _cover_added_tokens(vocab, target.get("added_tokens", []), floor)
    known = {piece for piece, _ in vocab} | {t["content"] for t in target.get("added_tokens", [])}
    added = 0
    for piece, score in pieces:
        if piece not in known:
            vocab.append([piece, max(score + shift, floor)])
            known.add(piece)
            added += 1
    return target, added


def _unigram_spec(source: PreTrainedTokenizerFast) -> dict[str, Any]:
    """The source's tokenizer.json as a dict, checked to be a SentencePiece-style Unigram."""
    backend = getattr(source, "backend_tokenizer", None)
    if backend is None:
        raise IncompatibleInputsError(
            f"extend_tokenizer: source {type(source).__name__} has no `tokenizers` backend; "
            "load it as a fast tokenizer"
        )
    spec = json.loads(backend.to_str())
    model_type = spec["model"].get("type")
    if model_type != "Unigram":
        raise IncompatibleInputsError(
            f"extend_tokenizer: the source tokenizer's model is {model_type}; only Unigram "
            "(SentencePiece), WordPiece and BPE sources can be extended"
        )
    if not _has_metaspace(spec.get("pre_tokenizer")):
        raise IncompatibleInputsError(
            "extend_tokenizer: the source Unigram tokenizer has no Metaspace pre-tokenizer with "
            f"replacement {METASPACE!r}, so SentencePiece pieces would never match its input"
        )
    return spec


def _has_metaspace(pre_tokenizer: dict[str, Any] | None) -> bool:
    if not pre_tokenizer:
        return False
    if pre_tokenizer.get("type") == "Sequence":
        return any(_has_metaspace(p) for p in pre_tokenizer.get("pretokenizers", []))
    return (
        pre_tokenizer.get("type") == "Metaspace" and pre_tokenizer.get("replacement") == METASPACE
    )


def _cover_added_tokens(
    vocab: list[list[Any]], added_tokens: list[dict[str, Any]], floor: float
) -> None:
    """Give added tokens whose ids lie past the end of `vocab` a model entry there (in place).

    Unigram ids are list positions, so appended pieces must start after the highest id in use.
    The added-token pass matches such a token before the model sees the text, so its entry only
    holds the id.
    """
    beyond = sorted((t["id"], t["content"]) for t in added_tokens if t["id"] >= len(vocab))
    for token_id, content in beyond:
        if token_id != len(vocab):
            raise IncompatibleInputsError(
                f"extend_tokenizer: added token {content!r} has id {token_id}, but ids "
                f"{len(vocab)}..{token_id - 1} are unused; ids must be contiguous"
            )
        vocab.append([content, floor])


def wrap_spec(spec: dict[str, Any], source: PreTrainedTokenizerFast) -> PreTrainedTokenizerFast:
    """A generic fast tokenizer over `spec`, with the source's special-token roles and limits."""
    kwargs: dict[str, Any] = dict(source.special_tokens_map)
    extra = getattr(source, "extra_special_tokens", None)
    if isinstance(extra, (list, tuple)) and extra:  # transformers 5; 4.x has them in the map
        kwargs["extra_special_tokens"] = list(extra)
    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(spec)),
        model_max_length=source.model_max_length,
        padding_side=source.padding_side,
        truncation_side=source.truncation_side,
        **kwargs,
    )
