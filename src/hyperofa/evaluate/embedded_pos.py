"""The embedded zero-shot POS pair (DESIGN §4): Turkish UD → Indonesian UD, both from PyPI.

Train/dev: the Turkish Web Treebank of `turkish-treebanks` 1.0.0 (`data/web.conllu` 2,540 and
`data/wiki.conllu` 2,309 sentences, UD v1 tag set). Zero-shot test: the 102 hand-annotated
Indonesian UD sentences shipped inside `aksara` 1.14. Files are located through the installed
distributions' metadata, so neither package is imported (aksara's imports need an old torch).
"""

from __future__ import annotations

import importlib.metadata as md
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hyperofa.errors import IncompatibleInputsError, MissingPathError
from hyperofa.evaluate.datasets import TaggedSentence, read_conllu, read_ud_pos

TREEBANK = ("turkish-treebanks", "1.0.0", ("data/web.conllu", "data/wiki.conllu"))
AKSARA = ("aksara", "1.14", ("aksara/_nlp_internal/etc/dataset/informal_gold_standard.conllu",))
# The treebank uses the UD v1 / Google universal tags. v1 CONJ and PRT were renamed in v2; ONOM
# (reduplicated onomatopoeia, 13 tokens) is closest to INTJ, AFFIX (a detached prefix, 3 tokens)
# to X. Every other tag it uses (ADJ ADP ADV DET NOUN NUM PRON PUNCT VERB X) is in UD v2.
UD_V1_TO_V2 = {"CONJ": "CCONJ", "PRT": "PART", "ONOM": "INTJ", "AFFIX": "X"}
UPOS_TAGS = (
    "ADJ",
    "ADP",
    "ADV",
    "AUX",
    "CCONJ",
    "DET",
    "INTJ",
    "NOUN",
    "NUM",
    "PART",
    "PRON",
    "PROPN",
    "PUNCT",
    "SCONJ",
    "SYM",
    "VERB",
    "X",
)


def package_files(distribution: str, version: str, relative: Sequence[str]) -> list[Path]:
    """Paths of data files inside an installed distribution of exactly `version`."""
    hint = f"`pip install {distribution}=={version}`"
    try:
        dist = md.distribution(distribution)
    except md.PackageNotFoundError:
        raise MissingPathError(f"package {distribution}", "<not installed>", hint) from None
    if dist.version != version:
        raise IncompatibleInputsError(
            f"{distribution} {dist.version} is installed; the embedded POS data is pinned to {hint}"
        )
    paths = [Path(str(dist.locate_file(r))) for r in relative]
    for path in paths:
        if not path.is_file():
            raise MissingPathError(f"{distribution} data file", path, hint)
    return paths


def merge_inflectional_groups(tokens: Sequence[dict]) -> TaggedSentence:
    """Join the treebank's inflectional groups back into surface words.

    The treebank splits a derived word into groups (`Açık` `la` `nma` `yan`): each later group has
    lemma `_` and follows a token marked SpaceAfter=No. Subword models see the surface word
    (`Açıklanmayan`), so the groups are joined; the word takes its last group's tag, the category
    the derivation ends in.
    """
    words: list[str] = []
    tags: list[str] = []
    glued = False  # the previous token had SpaceAfter=No
    for token in tokens:
        tag = UD_V1_TO_V2.get(token["upos"], token["upos"])
        if glued and token["lemma"] == "_" and words:
            words[-1] += token["form"]
            tags[-1] = tag
        else:
            words.append(token["form"])
            tags.append(tag)
        glued = (token["misc"] or {}).get("SpaceAfter") == "No"
    return TaggedSentence(tuple(words), tuple(tags))


def turkish_sentences() -> list[TaggedSentence]:
    """Every sentence of web.conllu then wiki.conllu, groups joined, tags in UD v2."""
    paths = package_files(*TREEBANK)
    return [merge_inflectional_groups(s.tokens) for path in paths for s in read_conllu(path)]


def indonesian_sentences() -> list[TaggedSentence]:
    """The 102 Indonesian gold sentences (syntactic words: `karirnya` → `karir` `nya`)."""
    return read_ud_pos(package_files(*AKSARA)[0])


def turkish_indonesian_pos(
    train_sentences: int | None, dev_sentences: int, split_seed: int = 0
) -> tuple[list[TaggedSentence], list[TaggedSentence], list[TaggedSentence]]:
    """(Turkish train, Turkish dev, Indonesian test). Turkish sentences are shuffled with
    `split_seed`; dev takes the first `dev_sentences`, train up to `train_sentences` of the rest
    (None = all)."""
    turkish = turkish_sentences()
    order = np.random.default_rng(split_seed).permutation(len(turkish))
    dev = [turkish[i] for i in order[:dev_sentences]]
    rest = order[dev_sentences:]
    train = [turkish[i] for i in (rest if train_sentences is None else rest[:train_sentences])]
    return train, dev, indonesian_sentences()
