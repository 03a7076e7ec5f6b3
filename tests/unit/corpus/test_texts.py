"""Language → texts: from a dir, a dataset or a mapping; cleaning; named errors for missing text."""

import pytest

from hyperofa.corpus.texts import check_texts, clean_texts, load_texts
from hyperofa.errors import EmptyInputError, IncompatibleInputsError, MissingPathError


def test_texts_from_a_dir_a_dataset_and_a_mapping(tmp_path):
    (tmp_path / "aaa.txt").write_text("one\n\n  two  \n")
    (tmp_path / "bbb.txt").write_text("three\n")
    assert clean_texts(load_texts(tmp_path)) == {"aaa": ["one", "two"], "bbb": ["three"]}
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"text": ["x", "y", "z"], "lang": ["aaa", "bbb", "aaa"]})
    assert load_texts(ds) == {"aaa": ["x", "z"], "bbb": ["y"]}
    assert load_texts({"aaa": ("x",)}) == {"aaa": ["x"]}
    with pytest.raises(MissingPathError):
        load_texts(tmp_path / "absent")
    with pytest.raises(IncompatibleInputsError, match="`lang`"):
        load_texts(datasets.Dataset.from_dict({"text": ["x"]}))


def test_missing_or_empty_text_is_a_named_error():
    with pytest.raises(EmptyInputError, match=r"\['bbb'\]"):
        check_texts({"aaa": ["x"], "bbb": []}, {"aaa": ["y"], "bbb": ["z"]})
    with pytest.raises(EmptyInputError, match=r"held-out.*\['aaa'\]"):
        check_texts({"aaa": ["x"]}, {"bbb": ["y"]})
    with pytest.raises(EmptyInputError, match="empty after dropping blank"):
        check_texts(clean_texts({"aaa": ["  ", ""]}), {"aaa": ["y"]})
