"""Word-per-line tagged files (`token<TAB>tag`, a blank line between sentences): PAN-X / WikiANN
NER as XTREME and Glot500 preprocess it, raw WikiANN with its `lang:` token prefix, and the
UD-POS files of the same preprocessing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hyperofa.errors import BadFileError
from hyperofa.evaluate.datasets.common import read_lines
from hyperofa.evaluate.datasets.layouts import layout

# raw WikiANN puts its wiki's code before every token: `en:`, `zh-yue:`, `bat-smg:`, `simple:`
PREFIX = re.compile(r"([a-z]{2,3}(?:-[a-z]+)*|simple):(.+)")
NER_TAG = re.compile(r"O|[BIES]-\S+")


@dataclass(frozen=True)
class TaggedSentence:
    """Words of one sentence and one tag per word."""

    words: tuple[str, ...]
    tags: tuple[str, ...]


def read_tagged(
    path: str | Path, fmt: str = "wikiann", limit: int | None = None
) -> list[TaggedSentence]:
    """Sentences of a `token<TAB>tag` file (its first `limit` lines if given); `-DOCSTART-` lines
    end a sentence. The `lang:` prefix of raw WikiANN is detected per file and stripped; in such
    a file every token must carry it."""
    records: list[list[tuple[int, str, str]]] = [[]]
    for number, line in read_lines(path, limit):
        if not line.strip() or line.startswith("-DOCSTART-"):
            records.append([])
            continue
        token, tag = _token_and_tag(path, fmt, number, line)
        records[-1].append((number, token, tag))
    records = [sentence for sentence in records if sentence]
    prefix = _prefix(records[0][0][1]) if records and fmt == "wikiann" else None
    return [_sentence(path, fmt, sentence, prefix) for sentence in records]


def _token_and_tag(path: str | Path, fmt: str, number: int, line: str) -> tuple[str, str]:
    fields = line.split("\t")
    if len(fields) == 1:
        raise BadFileError(
            path,
            f"no tag after the token {line[:40]!r} (XTREME's preprocessing strips the tags of "
            f"test files; Glot500's keeps them); expected {layout(fmt)}",
            number,
        )
    # the token may be empty: XTREME's panx_preprocess writes `<TAB>O` for a whitespace token
    token, tag = fields[0].strip(), fields[-1].strip()
    if len(fields) > 2 or not tag or (fmt == "wikiann" and not NER_TAG.fullmatch(tag)):
        expected = "token<TAB>tag` or `lang:token<TAB>tag" if fmt == "wikiann" else "word<TAB>UPOS"
        raise BadFileError(path, f"expected `{expected}`, got {line[:60]!r}", number)
    return token, tag


def _prefix(first_token: str) -> str | None:
    """The raw-WikiANN prefix of the file's first token, which then every token must carry."""
    match = PREFIX.fullmatch(first_token)
    return match[1] if match else None


def _sentence(
    path: str | Path, fmt: str, records: list[tuple[int, str, str]], prefix: str | None
) -> TaggedSentence:
    words = []
    for number, token, _ in records:
        if prefix is not None:
            if not token.startswith(f"{prefix}:"):
                raise BadFileError(
                    path,
                    f"token {token[:40]!r} lacks the `{prefix}:` prefix of the file's first token; "
                    f"expected one layout per file: {layout(fmt)}",
                    number,
                )
            token = token[len(prefix) + 1 :]
        words.append(token)
    return TaggedSentence(tuple(words), tuple(tag for _, _, tag in records))
