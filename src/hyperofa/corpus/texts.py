"""Language → texts for continued pre-training: from a mapping, a dir of `<lang>.txt` files or a
`datasets` table, cleaned and checked (every language has train and held-out text)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hyperofa.errors import EmptyInputError, IncompatibleInputsError, MissingPathError


def texts_from_dir(directory: str | Path, suffix: str = ".txt") -> dict[str, list[str]]:
    """`<dir>/<lang>.txt`, one text per line → language → texts."""
    directory = Path(directory)
    if not directory.is_dir():
        raise MissingPathError("pretrain text dir", directory, f"a dir of <lang>{suffix} files")
    return {
        path.name.removesuffix(suffix): path.read_text(encoding="utf-8").splitlines()
        for path in sorted(directory.glob(f"*{suffix}"))
    }


def texts_from_dataset(
    dataset: Any, text_column: str = "text", lang_column: str = "lang"
) -> dict[str, list[str]]:
    """A `datasets.Dataset` (or any table with `column_names`) with text and language columns."""
    for column in (text_column, lang_column):
        if column not in dataset.column_names:
            raise IncompatibleInputsError(
                f"dataset has no `{column}` column: {dataset.column_names}"
            )
    out: dict[str, list[str]] = {}
    for text, lang in zip(dataset[text_column], dataset[lang_column], strict=True):
        out.setdefault(str(lang), []).append(text)
    return out


def load_texts(source: Mapping[str, Sequence[str]] | str | Path | Any) -> dict[str, list[str]]:
    """language → texts from a mapping, a dir of `<lang>.txt` files, or a `datasets` dataset."""
    if isinstance(source, Mapping):
        return {str(k): list(v) for k, v in source.items()}
    if isinstance(source, str | Path):
        return texts_from_dir(source)
    return texts_from_dataset(source)


def select_texts(
    texts: Mapping[str, Sequence[str]],
    cap: int | None = None,
    languages: Sequence[str] | None = None,
) -> dict[str, list[str]]:
    """The first `cap` texts (as stored, blank ones included) of each language in `languages`
    (all when None); a language of `languages` that `texts` lacks maps to no text."""
    keep = list(texts) if languages is None else list(languages)
    return {lang: list(texts.get(lang, ()))[:cap] for lang in keep}


def clean_texts(texts: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Strip each text and drop the empty ones (the only filter)."""
    return {lang: [t.strip() for t in ts if t and t.strip()] for lang, ts in texts.items()}


def check_texts(train: Mapping[str, Sequence[str]], val: Mapping[str, Sequence[str]]) -> None:
    """EmptyInputError when the (cleaned) corpus is empty, or a training language has no train or
    no held-out text; each message names the languages."""
    check_text_counts(
        {lang: len(ts) for lang, ts in train.items()}, {lang: len(ts) for lang, ts in val.items()}
    )


def check_text_counts(train: Mapping[str, int], val: Mapping[str, int]) -> None:
    """`check_texts` on the number of (cleaned) texts per language."""
    if not any(train.values()):
        raise EmptyInputError(
            f"the pre-training corpus is empty after dropping blank texts ({len(train)} languages)"
        )
    no_train = sorted(lang for lang, n in train.items() if not n)
    if no_train:
        raise EmptyInputError(f"no pre-training text for languages {no_train} of the language set")
    no_val = sorted(lang for lang in train if not val.get(lang))
    if no_val:
        raise EmptyInputError(
            f"no held-out (validation) text for languages {no_val} of the language set"
        )
