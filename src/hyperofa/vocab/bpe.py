"""BPE (decoder) tokenizer extension: SentencePiece-style BPE with byte fallback (Gemma, Llama 2)
and byte-level BPE (GPT-2, Llama 3, Qwen).

BPE training continues from the source (`bpe_train`): the target text is segmented by the source
pipeline and model, with the characters the source lacks (which it spells in byte-fallback pieces)
added as new pieces; then merges are learned on that segmentation and appended after every source
merge, each making a new piece appended after the source's last id. Learned this way, every new
piece is produced where training produced it. Appending instead the pieces of a separately trained
SentencePiece BPE model, with every merge that spells each, loses to it: on Gemma 3 and the demo30
UDHR text 489 of 4,425 such pieces were never produced, even alone (the source's merges fire first
and split them otherwise), and at the same 4,425 pieces tokens per held-out word fell by 16 / 25 /
41 % (Latin / Cyrillic / other scripts) against 19 / 33 / 43 % here.

Source ids, merges, added tokens and the pipeline (normalizer, pre-tokenizer, post-processor with
BOS, decoder) stay as they are; `protected_texts` (source-language text) keeps its tokenization
exactly (`bpe_spec.MergeRules`), which `check_protected` verifies.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

from hyperofa.errors import EmptyInputError, IncompatibleInputsError
from hyperofa.vocab.bpe_spec import Extension, MergeRules, bpe_model, bpe_spec, extended_spec
from hyperofa.vocab.bpe_train import learn_merges
from hyperofa.vocab.sentencepiece import METASPACE
from hyperofa.vocab.unigram import wrap_spec

log = logging.getLogger(__name__)

BYTE_LEVEL, METASPACE_BPE = "byte-level", "metaspace"


def extend_bpe(
    source: PreTrainedTokenizerFast,
    texts: Iterable[str],
    *,
    vocab_size: int,
    seed: int = 0,
    character_coverage: float = 0.9999,
    max_piece_length: int = 16,
    protected_texts: Iterable[str] = (),
) -> tuple[PreTrainedTokenizerFast, dict[str, int]]:
    """Extend a BPE `source` with up to `vocab_size` pieces learned on `texts`: the characters
    the source lacks that `character_coverage` keeps (most frequent first), then one piece per
    learned merge (pieces of at most `max_piece_length` characters, byte symbols for byte-level).

    `protected_texts`: source-language text whose tokenization must stay exactly as with the source.
    `seed` is unused: learning draws nothing at random and breaks ties by string order. Returns the
    target tokenizer (source ids unchanged, new pieces at source_size..target_size-1) and counts
    {source_size, trained_pieces, added, target_size, new_characters, merges_added,
    protected_words, refused_for_protected}.
    """
    del seed
    spec = bpe_spec(source)
    backend = source.backend_tokenizer
    kind = bpe_kind(spec, backend)
    protected_texts = (
        [protected_texts] if isinstance(protected_texts, str) else list(protected_texts)
    )
    protected = protected_pretokens(backend, protected_texts)
    rules = MergeRules(spec, protected, max_length=max_piece_length, metaspace=kind != BYTE_LEVEL)
    started = time.perf_counter()
    taboo = {c for word, _ in protected for c in word}
    ext, chars = learn_extension(
        spec, backend, texts, kind, rules, vocab_size, coverage=character_coverage, taboo=taboo
    )
    seconds = time.perf_counter() - started
    target = wrap_spec(extended_spec(spec, ext), source)
    check_protected(source, target, protected_texts)
    counts = _counts(spec, ext, chars, len(protected), rules.refused_for_protected)
    _log_counts(counts, kind, seconds)
    return target, counts


def learn_extension(
    spec: dict[str, Any],
    backend: Tokenizer,
    texts: Iterable[str],
    kind: str,
    rules: MergeRules,
    vocab_size: int,
    *,
    coverage: float,
    taboo: set[str],
) -> tuple[Extension, int]:
    """The new characters (none of `taboo`), then merges learned on the source segmentation of
    `texts` under `rules`: `vocab_size` pieces at most; (extension, number of new characters)."""
    pretoken_counts = target_pretokens(backend, texts)
    chars = new_characters(pretoken_counts, spec["model"]["vocab"], coverage, taboo)[:vocab_size]
    words = segmented_words(spec, backend, chars, pretoken_counts, kind)
    known = spec["model"]["vocab"].keys() | set(chars)
    merges = learn_merges(words, budget=vocab_size - len(chars), known=known, allowed=rules)
    return Extension([*chars, *(a + b for a, b in merges)], merges), len(chars)


def bpe_kind(spec: dict[str, Any], backend: Tokenizer) -> str:
    """BYTE_LEVEL if the pre-tokenizer writes bytes (`ByteLevel`), METASPACE_BPE if the pipeline
    writes a space as `▁`; IncompatibleInputsError otherwise."""
    if _has_component(spec.get("pre_tokenizer"), "ByteLevel"):
        return BYTE_LEVEL
    if METASPACE + "b" in "".join(pretokens(backend, "a b")):
        return METASPACE_BPE
    raise IncompatibleInputsError(
        "extend_bpe: the source BPE neither pre-tokenizes into bytes (ByteLevel) nor writes a space "
        f"as {METASPACE!r} (SentencePiece style); its pieces' spelling is unknown"
    )


def _has_component(node: dict[str, Any] | None, kind: str) -> bool:
    if not node:
        return False
    if node.get("type") == "Sequence":
        return any(_has_component(p, kind) for p in node.get("pretokenizers", []))
    return node.get("type") == kind


def pretokens(backend: Tokenizer, text: str) -> list[str]:
    """`text` normalized and pre-tokenized as the source pipeline hands it to its model."""
    if backend.normalizer is not None:
        text = backend.normalizer.normalize_str(text)
    if backend.pre_tokenizer is None:
        return [text]
    return [word for word, _ in backend.pre_tokenizer.pre_tokenize_str(text)]


def target_pretokens(backend: Tokenizer, texts: Iterable[str]) -> Counter[str]:
    """Pre-token → count over the non-blank lines of `texts` (EmptyInputError if there is none)."""
    counts: Counter[str] = Counter()
    for text in [texts] if isinstance(texts, str) else texts:
        for line in text.splitlines():
            if line.strip():
                counts.update(pretokens(backend, line.strip()))
    if not counts:
        raise EmptyInputError("extend_tokenizer: `texts` holds no non-blank line to train on")
    return counts


def protected_pretokens(backend: Tokenizer, texts: list[str]) -> list[tuple[str, list[str]]]:
    """The distinct pre-tokens of `texts` (sorted), each with its source tokenization."""
    words = {w for text in texts for w in pretokens(backend, text)}
    return [(w, [t.value for t in backend.model.tokenize(w)]) for w in sorted(words) if w]


def new_characters(
    pretoken_counts: Counter[str], vocab: dict[str, int], coverage: float, taboo: set[str]
) -> list[str]:
    """The characters the source vocab lacks among the most frequent ones that together make
    `coverage` of the text (SentencePiece's rule), most frequent first; none of `taboo`."""
    chars: Counter[str] = Counter()
    for pretoken, n in pretoken_counts.items():
        for char, k in Counter(pretoken).items():
            chars[char] += k * n
    total, covered, out = sum(chars.values()), 0, []
    for char, n in sorted(chars.items(), key=lambda item: (-item[1], item[0])):
        if covered >= coverage * total:
            break
        covered += n
        if char not in vocab and char not in taboo:
            out.append(char)
    return out


def segmented_words(
    spec: dict[str, Any],
    backend: Tokenizer,
    chars: list[str],
    pretoken_counts: Counter[str],
    kind: str,
) -> Counter[tuple[str, ...]]:
    """Word (as source tokens, `chars` as pieces) → count, for words of two tokens or more. A
    byte-level pre-token is a word; a `▁` pre-token (a whole text for Gemma) is cut before each
    token that starts with `▁`, so no merge is learned across words."""
    model = bpe_model(spec["model"], chars) if chars else backend.model
    words: Counter[tuple[str, ...]] = Counter()
    for pretoken, n in pretoken_counts.items():
        for word in _words([t.value for t in model.tokenize(pretoken)], kind):
            if len(word) > 1:
                words[word] += n
    return words


def _words(tokens: list[str], kind: str) -> Iterator[tuple[str, ...]]:
    if kind == BYTE_LEVEL:
        yield tuple(tokens)
        return
    start = 0
    for i, token in enumerate(tokens):
        if i > start and token.startswith(METASPACE):
            yield tuple(tokens[start:i])
            start = i
    yield tuple(tokens[start:])


def check_protected(
    source: PreTrainedTokenizerFast, target: PreTrainedTokenizerFast, texts: list[str]
) -> None:
    """IncompatibleInputsError if any protected text tokenizes differently with the target."""
    if not texts:
        return
    old = source(texts, add_special_tokens=False)["input_ids"]
    new = target(texts, add_special_tokens=False)["input_ids"]
    for text, before, after in zip(texts, old, new, strict=True):
        if before != after:
            raise IncompatibleInputsError(
                f"extend_bpe: protected text {text[:60]!r} tokenizes differently after extension "
                "(its pipeline does something the protection rule does not model)"
            )


def _counts(
    spec: dict[str, Any], ext: Extension, chars: int, protected: int, refused: int
) -> dict[str, int]:
    size = len(spec["model"]["vocab"])
    return {
        "source_size": size,
        "trained_pieces": len(ext.pieces),
        "added": len(ext.pieces),
        "target_size": size + len(ext.pieces),
        "new_characters": chars,
        "merges_added": len(ext.merges),
        "protected_words": protected,
        "refused_for_protected": refused,
    }


def _log_counts(counts: dict[str, int], kind: str, seconds: float) -> None:
    log.info(
        "extend_tokenizer: %s source, %s trained, %s added, %s target (%s BPE: %s new characters, "
        "%s merges; %s merges refused to keep %s protected words as they were; learned in %.1fs)",
        *(f"{counts[k]:,}" for k in ("source_size", "trained_pieces", "added", "target_size")),
        kind,
        *(
            f"{counts[k]:,}"
            for k in ("new_characters", "merges_added", "refused_for_protected", "protected_words")
        ),
        seconds,
    )
