"""Glot500-style tokenizer extension: learn new pieces from target-language text, append them.

`extend_tokenizer` hands a source to the extension of its tokenizer model: Unigram (SentencePiece,
XLM-R) sources to `hyperofa.vocab.unigram`, WordPiece (BERT) sources to `hyperofa.vocab.wordpiece`,
BPE sources (decoders: Gemma, Llama, Qwen, GPT-2) to `hyperofa.vocab.bpe`; all train with
`hyperofa.vocab.sentencepiece` and keep source ids, special tokens and the source pipeline as they
are. `save_tokenizer` writes the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from transformers import PreTrainedTokenizerFast

from hyperofa.artifacts import atomic_dir
from hyperofa.vocab.bpe import extend_bpe
from hyperofa.vocab.unigram import extend_unigram
from hyperofa.vocab.wordpiece import extend_wordpiece


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
    """Extend a Unigram, WordPiece or BPE `source` tokenizer with pieces learned from `texts`.

    `texts`: target-language documents or lines (split at newlines; blank lines dropped), read once.
    `vocab_size`: size of the new SentencePiece model, its 3 meta pieces included (as in
    `spm_train`); a text too small for it yields fewer pieces. For a BPE source, the most pieces
    appended (new characters and one per learned merge; learning stops when no pair of tokens
    occurs twice). Returns the target tokenizer (ids
    0..source_size-1 as in the source, new pieces at source_size..target_size-1) and counts
    {source_size, trained_pieces, added, target_size} (and more for WordPiece and BPE). A
    WordPiece source goes to `hyperofa.vocab.wordpiece.extend_wordpiece`, a BPE source to
    `hyperofa.vocab.bpe.extend_bpe`; both read `protected_texts` (source-language text whose
    tokenization must not change); a Unigram source ignores it. Any other source raises
    IncompatibleInputsError naming its model.
    """
    options = {
        "vocab_size": vocab_size,
        "seed": seed,
        "character_coverage": character_coverage,
        "max_piece_length": max_piece_length,
    }
    model_type = _model_type(source)
    if model_type == "WordPiece":
        return extend_wordpiece(source, texts, protected_texts=protected_texts, **options)
    if model_type == "BPE":
        return extend_bpe(source, texts, protected_texts=protected_texts, **options)
    return extend_unigram(source, texts, **options)


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


def _model_type(source: PreTrainedTokenizerFast) -> str | None:
    """`BPE`, `Unigram`, `WordPiece`, … (not from `to_str`: ~5 s for Gemma's 262k pieces)."""
    backend = getattr(source, "backend_tokenizer", None)
    return None if backend is None else type(backend.model).__name__
