"""Train a SentencePiece model (unigram or BPE) on text and return its ordinary pieces.

Lines are normalized by the caller's rule, blank ones dropped and over-long ones skipped and
counted; training is single-threaded so the pieces and scores are the same on every machine.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
from collections.abc import Callable, Iterable, Iterator

import sentencepiece as spm

from hyperofa.errors import ConfigError, EmptyInputError

log = logging.getLogger(__name__)

METASPACE = "\u2581"
SPM_META_PIECES = 3  # <unk>, <s>, </s>: counted in a SentencePiece vocab_size, never appended
# SentencePiece silently skips longer lines; we skip and count them so the log says so
MAX_LINE_BYTES = 1 << 16
_TOO_SMALL = re.compile(r"smaller than required_chars\. (\d+) vs (\d+)")

Pieces = list[tuple[str, float]]


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
