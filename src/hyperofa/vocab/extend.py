"""Glot500-style tokenizer extension: learn new pieces from target-language text, append them.

Unigram (SentencePiece, XLM-R) sources are handled here; WordPiece (BERT) sources in
`hyperofa.vocab.wordpiece`, which `extend_tokenizer` hands them to.

A SentencePiece unigram model is trained on the new text; every piece it learns that the source
Unigram vocabulary lacks is appended after the source's last id, so source ids, special tokens and
the source pipeline (normalizer, pre-tokenizer, post-processor) stay as they are.

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

import io
import itertools
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import sentencepiece as spm
from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

from hyperofa.artifacts import atomic_dir
from hyperofa.errors import ConfigError, EmptyInputError, IncompatibleInputsError

log = logging.getLogger(__name__)

METASPACE = "\u2581"
SPM_META_PIECES = 3  # <unk>, <s>, </s>: counted in a SentencePiece vocab_size, never appended
# SentencePiece silently skips longer lines; we skip and count them so the log says so
MAX_LINE_BYTES = 1 << 16
_TOO_SMALL = re.compile(r"smaller than required_chars\. (\d+) vs (\d+)")

Pieces = list[tuple[str, float]]


def extend_tokenizer(
    source: PreTrainedTokenizerFast,
    texts: Iterable[str],
    *,
    vocab_size: int,
    seed: int = 0,
    character_coverage: float = 0.9999,
    max_piece_length: int = 16,
    protected_texts: Iterable[str] = (),
) -> tuple[PreTrainedTokenizerFast, dict[str, int]]:
    """Extend a Unigram or WordPiece `source` tokenizer with pieces learned from `texts`.

    `texts`: target-language documents or lines (split at newlines; blank lines dropped), read once.
    `vocab_size`: size of the new SentencePiece model, its 3 meta pieces included (as in
    `spm_train`); a text too small for it yields fewer pieces. Returns the target tokenizer (ids
    0..source_size-1 as in the source, new pieces at source_size..target_size-1) and counts
    {source_size, trained_pieces, added, target_size}. A WordPiece source goes to
    `hyperofa.vocab.wordpiece.extend_wordpiece`, which alone reads `protected_texts` (source-
    language text whose tokenization must not change); a Unigram source ignores it.
    """
    if _model_type(source) == "WordPiece":
        from hyperofa.vocab.wordpiece import extend_wordpiece

        return extend_wordpiece(
            source,
            texts,
            vocab_size=vocab_size,
            seed=seed,
            character_coverage=character_coverage,
            max_piece_length=max_piece_length,
            protected_texts=protected_texts,
        )
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
    target = wrap_spec(target_spec, source)
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
    return target, counts


def train_unigram(
    texts: Iterable[str],
    *,
    vocab_size: int,
    seed: int = 0,
    character_coverage: float = 0.9999,
    max_piece_length: int = 16,
    normalize: Callable[[str], str] | None = None,
) -> Pieces:
    """Train a SentencePiece unigram model; return its ordinary pieces with log-prob scores.

    `normalize` is applied to each line first (the source tokenizer's normalizer, so pieces are
    spelled as the source pipeline will present text to the model); SentencePiece then trains with
    the identity rule. Single-threaded, because the EM sums depend on the thread count: the pieces
    and scores are the same on every machine. `seed` seeds SentencePiece's process-wide generator;
    as every line is used, training draws nothing at random today.
    """
    return train_sentencepiece(
        texts,
        model_type="unigram",
        vocab_size=vocab_size,
        seed=seed,
        character_coverage=character_coverage,
        max_piece_length=max_piece_length,
        normalize=normalize,
    )


def train_sentencepiece(
    texts: Iterable[str],
    *,
    model_type: str,
    vocab_size: int,
    seed: int = 0,
    character_coverage: float = 0.9999,
    max_piece_length: int = 16,
    normalize: Callable[[str], str] | None = None,
) -> Pieces:
    """`train_unigram` for any SentencePiece `model_type` (unigram, bpe); same rules."""
    if vocab_size <= SPM_META_PIECES:
        raise ConfigError("vocab_size", vocab_size, f"> {SPM_META_PIECES} (the meta pieces)")
    stats = {"skipped": 0}
    lines = _training_lines(texts, normalize or (lambda s: s), stats)
    spm.set_random_generator_seed(seed)
    model = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=lines,
            model_writer=model,
            model_type=model_type,
            vocab_size=vocab_size,
            character_coverage=character_coverage,
            max_sentencepiece_length=max_piece_length,
            max_sentence_length=MAX_LINE_BYTES,
            normalization_rule_name="identity",
            hard_vocab_limit=False,
            num_threads=1,
            minloglevel=2,
        )
    except RuntimeError as err:
        if (named := _vocab_too_small(err, vocab_size, character_coverage)) is None:
            raise
        raise named from err
    if stats["skipped"]:
        log.warning(
            "train_sentencepiece: skipped %d lines over %d bytes", stats["skipped"], MAX_LINE_BYTES
        )
    return _ordinary_pieces(model.getvalue(), vocab_size)


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


def save_tokenizer(tokenizer: PreTrainedTokenizerFast, out_dir: str | Path) -> Path:
    """Save `tokenizer` atomically into a new directory `out_dir` (never over an existing one).

    It is saved as the generic fast class, so `AutoTokenizer.from_pretrained(out_dir)` restores
    tokenizer.json verbatim; a model-specific class may rebuild parts of the pipeline on load.
    """
    out = Path(out_dir)
    if out.exists():
        raise FileExistsError(f"{out}: exists; a saved tokenizer is never overwritten")
    with atomic_dir(out) as tmp:
        tokenizer.save_pretrained(str(tmp))
    return out


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
            "(SentencePiece) and WordPiece sources can be extended so far"
        )
    if not _has_metaspace(spec.get("pre_tokenizer")):
        raise IncompatibleInputsError(
            "extend_tokenizer: the source Unigram tokenizer has no Metaspace pre-tokenizer with "
            f"replacement {METASPACE!r}, so SentencePiece pieces would never match its input"
        )
    return spec


def _model_type(source: PreTrainedTokenizerFast) -> str | None:
    backend = getattr(source, "backend_tokenizer", None)
    return None if backend is None else json.loads(backend.to_str())["model"].get("type")


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


def _training_lines(
    texts: Iterable[str], normalize: Callable[[str], str], stats: dict[str, int]
) -> Iterator[str]:
    """Normalized non-blank lines of `texts` (too long ones counted in `stats["skipped"]`).

    Raises EmptyInputError before any training if there is no line at all.
    """

    def lines() -> Iterator[str]:
        for text in [texts] if isinstance(texts, str) else texts:
            for line in text.splitlines():
                line = normalize(line).strip()
                if len(line.encode()) > MAX_LINE_BYTES:
                    stats["skipped"] += 1
                elif line:
                    yield line

    stream = lines()
    first = next(stream, None)
    if first is None:
        raise EmptyInputError("extend_tokenizer: `texts` holds no non-blank line to train on")
    return itertools.chain([first], stream)


def _vocab_too_small(err: RuntimeError, vocab_size: int, coverage: float) -> ConfigError | None:
    found = _TOO_SMALL.search(str(err))
    if found is None:
        return None
    needed = int(found.group(2))
    return ConfigError(
        "vocab_size",
        vocab_size,
        f">= {needed} for this text ({needed - SPM_META_PIECES} characters needed at "
        f"character_coverage={coverage}, plus {SPM_META_PIECES} meta pieces)",
    )


def _ordinary_pieces(model_proto: bytes, vocab_size: int) -> Pieces:
    processor = spm.SentencePieceProcessor(model_proto=model_proto)
    size = processor.get_piece_size()
    if size < vocab_size:
        log.warning(
            "train_sentencepiece: the text supports %d pieces, fewer than vocab_size %d",
            size,
            vocab_size,
        )
    return [
        (processor.id_to_piece(i), processor.get_score(i))
        for i in range(size)
        if not (processor.is_control(i) or processor.is_unknown(i) or processor.is_unused(i))
    ]


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
