"""FOCUS's auxiliary token embeddings: fastText on target-language text, as target tokens.

deepfocus (`fasttext_embs.train_fasttext`) tokenizes each line of the text with the target
tokenizer, writes the token strings space-separated and trains fastText on them (CBOW, neg 10,
3 epochs, dim 100, min_count 10); a token's static vector is fastText's vector of that "word"
(its own vector averaged with its character n-grams'). Tokens rarer than min_count have none and
stay random. Ours trains gensim's FastText, seeded, on one worker by default so that a rerun gives
the same vectors; text longer than fastText's 1,024-word line buffer is cut into such lines.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from hyperofa.errors import EmptyInputError

if TYPE_CHECKING:
    from hyperofa.config.initializers import StaticVectorsConfig

log = logging.getLogger(__name__)
LINE_WORDS = 1_024  # fastText's MAX_LINE_SIZE: it reads at most this many words per line
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class StaticVectors:
    """Static embeddings of the target vocabulary: `vectors` float32 (V_t, d); `known` bool
    (V_t,): the token occurred at least min_count times (the other rows are zero)."""

    vectors: np.ndarray
    known: np.ndarray

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or len(self.vectors) != len(self.known):
            raise ValueError(f"static vectors {self.vectors.shape} vs known {self.known.shape}")


def fasttext_word(token: str) -> str:
    """A token string as one whitespace-free fastText word (`\\n` → `<U+000A>`)."""
    return _SPACE.sub(lambda m: f"<U+{ord(m[0]):04X}>", token)


class _Words:
    """Restartable: each text's token ids as fastText words, in lines of ≤ LINE_WORDS."""

    def __init__(self, texts: Iterable[Sequence[int]], words: Sequence[str]):
        self.texts, self.words = texts, words

    def __iter__(self) -> Iterator[list[str]]:
        for ids in self.texts:
            for start in range(0, len(ids), LINE_WORDS):
                yield [self.words[i] for i in ids[start : start + LINE_WORDS]]


def train_static_vectors(
    texts: Iterable[Sequence[int]], tokens: Sequence[str], cfg: StaticVectorsConfig
) -> StaticVectors:
    """fastText vectors of the target tokens from `texts`.

    Args:
        texts: restartable (iterated once per epoch and once for the vocabulary): each text's
            target token ids, no special tokens.
        tokens: the target token string of every id (`convert_ids_to_tokens`), V_t of them.
    """
    from gensim.models import FastText  # heavy import, only for this stage

    words = [fasttext_word(t) for t in tokens]
    corpus = _Words(texts, words)
    model = FastText(
        vector_size=cfg.dim, window=cfg.window, min_count=cfg.min_count, sg=0 if cfg.cbow else 1,
        negative=cfg.negative, alpha=cfg.lr, min_n=cfg.min_n, max_n=cfg.max_n, bucket=cfg.bucket,
        sample=cfg.sample, workers=cfg.workers, seed=cfg.seed, epochs=cfg.epochs,
    )  # fmt: skip
    model.build_vocab(corpus_iterable=corpus)
    if not model.wv.key_to_index:
        raise EmptyInputError(
            f"focus: no target token occurs {cfg.min_count}+ times in the text (static.min_count)"
        )
    model.train(corpus_iterable=corpus, total_examples=model.corpus_count, epochs=cfg.epochs)
    vectors = np.zeros((len(tokens), cfg.dim), dtype=np.float32)
    known = np.zeros(len(tokens), dtype=bool)
    index = model.wv.key_to_index
    for token_id, word in enumerate(words):
        if word in index:
            vectors[token_id], known[token_id] = model.wv.vectors[index[word]], True
    log.info("focus static vectors: %s of %s target tokens", f"{known.sum():,}", f"{len(known):,}")
    return StaticVectors(vectors, known)
