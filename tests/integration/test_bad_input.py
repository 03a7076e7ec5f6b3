"""Each bad input is a named error raised before any heavy stage, leaving no artifact behind."""

import pytest

from hyperofa import pipeline
from hyperofa.errors import (
    BadFileError,
    ConfigError,
    EmptyInputError,
    IncompatibleInputsError,
    MissingPathError,
)
from hyperofa.paths import cache_root
from tests.tiny import tiny_bert

from .conftest import compose_run, xlmr_tokenizer

pytestmark = pytest.mark.integration


def _run(tmp_path, overrides):
    return pipeline.run(compose_run(overrides, tmp_path / "run"))


def _assert_no_artifact():
    root = cache_root()
    assert not list(root.rglob("manifest.json")) and not list(root.rglob("*.tmp-*"))


def _vectors(tmp_path, text):
    path = tmp_path / "bad.w2v"
    path.write_text(text)
    return f"word_vectors.path={path}"


@pytest.mark.parametrize(
    "override, error, message",
    [
        ("model.path=/nonexistent/model", MissingPathError, "model.path"),
        ("word_vectors.path=/nonexistent/vectors.w2v", MissingPathError, "word_vectors.path"),
        ("tokenizer.path=/nonexistent/tok", MissingPathError, "tokenizer.path"),
        ("factorize.dim=0", ConfigError, "factorize.dim"),
        ("factorize.dim=-4", ConfigError, "factorize.dim"),
        ("factorize.dim=33", ConfigError, "factorize.dim"),  # tiny model: hidden 32
        ("langset.languages=[qqq]", EmptyInputError, "langset.languages"),
        ("initializer.top_k=0", ConfigError, "top_k"),
        ("eval=[step0,pos]", ConfigError, "eval.pos.path"),  # composed without its data path
        ("+eval.pos.path=/nonexistent/ud", MissingPathError, "eval.pos.path"),
        ("eval.udhr_languages=some", ConfigError, "eval.udhr_languages"),
        ("pretrain.max_steps=0", ConfigError, "pretrain.max_steps"),
        ("pretrain.max_length=65", ConfigError, "pretrain.max_length"),  # tiny model: 64 positions
    ],
)
def test_bad_config_values_and_paths(tmp_path, tiny_overrides, override, error, message):
    if override.startswith("+eval.pos"):
        override = f"eval=[step0,pos] {override[1:]}"
    stages = "stages=[match,factorize,copy,initialize,assemble,pretrain,evaluate]"
    fits = "pretrain.max_length=48"  # the tiny model has 64 positions
    with pytest.raises(error, match=message):
        _run(tmp_path, [*tiny_overrides, stages, fits, *override.split()])
    _assert_no_artifact()


@pytest.mark.parametrize(
    "content, message",
    [
        ("2 3\ndeu:haus 0.1 0.2 0.3\ndeu:baum 0.1 0.2\n", r":3"),  # row too short, line 3
        ("2 3\ndeu:haus 0.1 0.2 0.3\ndeu:baum 0.1 zwei 0.3\n", r":3"),  # not a number
        ("2 3\ndeu:haus 0.1 0.2 0.3\nbaum 0.1 0.2 0.3\n", "baum"),  # key without `lang:`
        ("two three\n", r":1"),  # header
    ],
)
def test_malformed_word_vector_files(tmp_path, tiny_overrides, content, message):
    with pytest.raises(BadFileError, match=message):
        _run(tmp_path, [*tiny_overrides, _vectors(tmp_path, content)])
    _assert_no_artifact()


def test_unreadable_tokenizer_dir(tmp_path, tiny_overrides):
    empty = tmp_path / "empty_tok"
    empty.mkdir()
    (empty / "tokenizer.json").write_text("{not json")
    with pytest.raises(BadFileError, match="model.tokenizer_path"):
        _run(tmp_path, [*tiny_overrides, f"model.tokenizer_path={empty}"])
    _assert_no_artifact()


def test_tokenizer_larger_than_the_embedding_matrix(tmp_path, tiny_overrides):
    small = tmp_path / "small_model"
    tiny_bert(1000, hidden=32).save_pretrained(small)
    xlmr_tokenizer().save_pretrained(small)
    with pytest.raises(IncompatibleInputsError, match="250,002 tokens.*1,000 rows"):
        _run(tmp_path, [*tiny_overrides, f"model.path={small}"])
    _assert_no_artifact()
