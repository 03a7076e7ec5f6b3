"""WordPiece (BERT) tokenizer extension: learn pieces on target-language text and append them.

A WordPiece vocabulary spells a word-initial piece bare (`haus`) and a continuation piece with a
prefix (`##aus`). New pieces are learned with SentencePiece BPE on text the source pipeline has
already normalized and pre-tokenized (so pieces are spelled as the model will see them, and never
cross a pre-token boundary), then respelled: `▁x` → `x`, `x` → `##x`; every character of the
learned alphabet gets both forms, so every word of the text segments without `[UNK]`. Pieces the
source lacks are appended after its last id; source ids and special tokens stay as they are.

Why not `tokenizers`' WordPieceTrainer: it breaks ties between equally frequent merges in hash-map
order, so three runs on the demo30 text gave three different vocabularies; SentencePiece trained
single-threaded gives the same pieces on every run (DESIGN §7).

WordPiece segments greedily, longest match first, so an appended piece can change how a source-
language word is split when it is a longer match at some position (`arbitrarily`: `ar ##bit ##rar
##ily` → `arbitrar ##ily` after Maltese taught `arbitrar`; 4 of 506 UDHR English word types). A word
in the source vocabulary never changes (the whole word is the longest match). For every word of
`protected_texts` the extension drops each new piece that its extended tokenization uses, until none
does; every protected word then tokenizes exactly as with the source, because at the first
position where the two differ the extended tokenizer must have chosen a longer, hence new, piece.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

from hyperofa.errors import IncompatibleInputsError
from hyperofa.vocab.sentencepiece import METASPACE, Pieces, train_sentencepiece
from hyperofa.vocab.unigram import wrap_spec

log = logging.getLogger(__name__)

CONTINUATION = "##"  # BERT's continuing_subword_prefix, the default when a spec names none


def extend_wordpiece(
    source: PreTrainedTokenizerFast,
    texts: Iterable[str],
    *,
    vocab_size: int,
    seed: int = 0,
    character_coverage: float = 0.9999,
    max_piece_length: int = 16,
    protected_texts: Iterable[str] = (),
) -> tuple[PreTrainedTokenizerFast, dict[str, int]]:
    """Extend a WordPiece `source` with pieces learned from `texts` (see `extend_tokenizer`).

    `protected_texts`: source-language text (e.g. English) whose every word must tokenize as with
    the source. Returns the target tokenizer (source ids unchanged, new pieces at
    source_size..target_size-1) and counts {source_size, trained_pieces, added, target_size,
    protected_words, dropped_for_protected}.
    """
    spec = wordpiece_spec(source)
    started = time.perf_counter()
    trained = train_sentencepiece(
        texts,
        model_type="bpe",  # merges, as WordPiece vocabularies are built; deterministic
        vocab_size=vocab_size,
        seed=seed,
        character_coverage=character_coverage,
        max_piece_length=max_piece_length,
        normalize=pre_tokenized_line(source.backend_tokenizer),
    )
    seconds = time.perf_counter() - started
    target_spec, counts = _append_protecting(source, spec, trained, protected_texts)
    _log_counts(counts, seconds)
    return wrap_spec(target_spec, source), counts


def _append_protecting(
    source: PreTrainedTokenizerFast,
    spec: dict[str, Any],
    trained: Pieces,
    protected_texts: Iterable[str],
) -> tuple[dict[str, Any], dict[str, int]]:
    """Append the `trained` pieces in WordPiece spelling, then drop those that change a protected
    word's tokenization; (target spec, counts)."""
    pieces = to_wordpiece(trained, spec["model"]["continuing_subword_prefix"])
    source_size = len(spec["model"]["vocab"])
    target_spec, added = append_wordpieces(spec, pieces)
    words = protected_words(source.backend_tokenizer, protected_texts)
    target_spec, dropped = drop_pieces_changing(target_spec, source_size, words)
    return target_spec, {
        "source_size": source_size,
        "trained_pieces": len(trained),
        "added": added - dropped,
        "target_size": len(target_spec["model"]["vocab"]),
        "protected_words": len(words),
        "dropped_for_protected": dropped,
    }


def _log_counts(counts: dict[str, int], seconds: float) -> None:
    log.info(
        "extend_tokenizer: %s source, %s trained, %s added, %s target (WordPiece; %s new pieces "
        "dropped to keep %s protected words as they were; trained in %.1fs)",
        *(f"{counts[k]:,}" for k in ("source_size", "trained_pieces", "added", "target_size")),
        f"{counts['dropped_for_protected']:,}",
        f"{counts['protected_words']:,}",
        seconds,
    )


def wordpiece_spec(source: PreTrainedTokenizerFast) -> dict[str, Any]:
    """The source's tokenizer.json as a dict, checked to be WordPiece with contiguous ids; added
    tokens whose ids lie past the model vocab get an entry there, so new pieces start after them.
    Without truncation and padding: transformers sets those per call."""
    spec = json.loads(source.backend_tokenizer.to_str())
    model = spec["model"]
    if model.get("type") != "WordPiece":
        raise IncompatibleInputsError(
            f"extend_wordpiece: the source tokenizer's model is {model.get('type')}, not WordPiece"
        )
    vocab = dict(model["vocab"])
    for token in spec.get("added_tokens", []):
        vocab.setdefault(token["content"], token["id"])
    if sorted(vocab.values()) != list(range(len(vocab))):
        raise IncompatibleInputsError(
            f"extend_wordpiece: the source's {len(vocab):,} vocabulary and added-token ids are "
            f"not exactly 0..{len(vocab) - 1}; appended ids would collide or leave gaps"
        )
    prefix = model.get("continuing_subword_prefix") or CONTINUATION
    model = {**model, "vocab": vocab, "continuing_subword_prefix": prefix}
    # truncation/padding on the backend are what the last transformers call left there
    return {**spec, "model": model, "padding": None, "truncation": None}


def pre_tokenized_line(backend: Tokenizer) -> Callable[[str], str]:
    """line → the source's normalization of it, its pre-tokens joined by single spaces."""
    normalizer, pre_tokenizer = backend.normalizer, backend.pre_tokenizer

    def prepare(line: str) -> str:
        text = normalizer.normalize_str(line) if normalizer is not None else line
        if pre_tokenizer is None:
            return text
        return " ".join(word for word, _ in pre_tokenizer.pre_tokenize_str(text))

    return prepare


def to_wordpiece(pieces: Pieces, prefix: str = CONTINUATION) -> list[str]:
    """SentencePiece pieces in WordPiece spelling, in their order: `▁x` → `x`, `x` → `##x`; then the
    missing form (bare or `##`) of every character they contain. The bare `▁` and pieces with an
    inner `▁` (no word-initial meaning) are left out."""
    out: list[str] = []
    for piece, _ in pieces:
        body = piece.removeprefix(METASPACE)
        if not body or METASPACE in body:
            continue
        out.append(body if piece.startswith(METASPACE) else prefix + body)
    seen = set(out)
    characters = dict.fromkeys(c for p in out for c in p.removeprefix(prefix))
    for char in characters:
        for form in (char, prefix + char):
            if form not in seen:
                out.append(form)
                seen.add(form)
    return out


def append_wordpieces(spec: dict[str, Any], pieces: list[str]) -> tuple[dict[str, Any], int]:
    """A copy of a WordPiece spec with the `pieces` it lacks appended in order; (spec, appended)."""
    vocab = dict(spec["model"]["vocab"])
    added = 0
    for piece in pieces:
        if piece not in vocab:
            vocab[piece] = len(vocab)
            added += 1
    return {**spec, "model": {**spec["model"], "vocab": vocab}}, added


def protected_words(backend: Tokenizer, texts: Iterable[str]) -> list[str]:
    """The distinct pre-tokens (normalized words) of `texts`, sorted."""
    prepare = pre_tokenized_line(backend)
    words: set[str] = set()
    for text in [texts] if isinstance(texts, str) else texts:
        for line in text.splitlines():
            words.update(prepare(line).split())
    return sorted(words)


def drop_pieces_changing(
    spec: dict[str, Any], source_size: int, words: list[str]
) -> tuple[dict[str, Any], int]:
    """Drop appended pieces (ids ≥ `source_size`) used in tokenizing any of `words`, repeatedly,
    until none is; renumber the rest after the source. Returns (spec, pieces dropped)."""
    dropped = 0
    while words:
        tokenizer = Tokenizer.from_str(json.dumps(bare_spec(spec)))
        used = {
            i
            for encoding in tokenizer.encode_batch(words, add_special_tokens=False)
            for i in encoding.ids
            if i >= source_size
        }
        if not used:
            break
        ordered = sorted(spec["model"]["vocab"].items(), key=lambda item: item[1])
        kept = [piece for piece, i in ordered if i not in used]
        spec = {**spec, "model": {**spec["model"], "vocab": {p: i for i, p in enumerate(kept)}}}
        dropped += len(used)
    return spec, dropped


def bare_spec(spec: dict[str, Any], vocab: dict[str, int] | None = None) -> dict[str, Any]:
    """A tokenizer.json (dict) without special tokens, post-processing, padding or truncation,
    optionally with another model vocab: for encoding plain words."""
    model = spec["model"] if vocab is None else {**spec["model"], "vocab": vocab}
    return {
        **spec,
        "model": model,
        "added_tokens": [],
        "post_processor": None,
        "padding": None,
        "truncation": None,
    }
