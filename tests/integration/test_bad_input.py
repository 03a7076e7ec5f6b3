"""Each bad input is a named error raised before any heavy stage, leaving no artifact behind."""

from pathlib import Path

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


@pytest.mark.parametrize(
    "overrides, key",
    [
        (["+sed=3"], r"`sed`.*did you mean \['seed'\]"),
        (["+pretrian.max_steps=5"], r"`pretrian`.*did you mean"),
        (["seed=-1"], r"`seed` = -1: expected >= 0"),
        (["pretrain.lr=fast"], r"`pretrain.lr` = 'fast': expected a value of type float"),
        (["initializer.top_k=2.5"], r"`initializer.top_k` = 2.5: expected a value of type integer"),
        (["initializer.temperature=nan"], r"`initializer.temperature` = nan: expected a finite"),
        (["initializer.name=fancy"], r"`initializer.name` = 'fancy'"),
        (["word_vectors=colexnet_plus"], r"`word_vectors.path` = '\?\?\?'"),
        (["tokenizer=glot500"], r"`tokenizer.path` = '\?\?\?'"),
        (["model=xlmr_base"], r"`model.path` = '\?\?\?'"),
        (["hypernet.train.split=[0.5,0.5]"], r"`hypernet.train.split`"),
        (["eval=[step0,pos]"], r"`eval.pos.path` = '\?\?\?'"),
    ],
)
def test_bad_config_values_are_named_by_the_one_validator(tmp_path, overrides, key):
    """Before any file is read: the entry point's validator names the key and what it expects."""
    with pytest.raises(ConfigError, match=key):
        compose_run(overrides, tmp_path / "run")
    _assert_no_artifact()


def test_only_the_composed_eval_list_decides_what_runs(tmp_path):
    """experiment=demo sets eval.embedded_pos values for when the task is composed; with
    `eval=[step0]` the task does not run."""
    assert list(compose_run(["experiment=demo"], tmp_path / "a").eval.downstream()) == [
        "embedded_pos"
    ]
    assert compose_run(["experiment=demo", "eval=[step0]"], tmp_path / "b").eval.downstream() == {}


def _not_gzip(tmp_path: Path) -> Path:
    path = tmp_path / "v.w2v.gz"
    path.write_text("2 3\n")
    return path


def _a_directory(tmp_path: Path) -> Path:
    (tmp_path / "vectors").mkdir()
    return tmp_path / "vectors"


def _zero_rows(tmp_path: Path) -> Path:
    path = tmp_path / "v.w2v"
    path.write_text("0 100\n")
    return path


@pytest.mark.parametrize(
    "write, error, message",
    [
        (_not_gzip, BadFileError, "not gzip"),
        (_a_directory, BadFileError, "a directory"),
        (_zero_rows, EmptyInputError, "header says 0 word vectors"),
    ],
)
def test_bad_vector_files_fail_before_any_stage(tmp_path, tiny_overrides, write, error, message):
    with pytest.raises(error, match=message):
        _run(tmp_path, [*tiny_overrides, f"word_vectors.path={write(tmp_path)}"])
    _assert_no_artifact()


def test_a_word2vec_binary_passes_under_the_default_group(tmp_path, tiny_overrides, tiny_vectors):
    from hyperofa.wordvec.io import load_word_vectors, save_word_vectors

    binary = save_word_vectors(load_word_vectors(tiny_vectors), tmp_path / "v.bin", binary=True)
    run = compose_run([*tiny_overrides, f"word_vectors.path={binary}", "stages=[match]"], tmp_path)
    assert pipeline.run(run)["artifacts"]["match_source"]


@pytest.mark.usefixtures("warm_cache")
def test_the_hypernet_input_dim_comes_from_the_vectors(tmp_path, tiny_overrides):
    """colexnet_plus (200-d) or our 12-d test vectors: `hypernet.model.input_dim: null` fits both."""
    overrides = [*tiny_overrides, "initializer=hyperofa", "stages=[match,copy,initialize]"]
    overrides += ["hypernet.model.hidden_size=8", "hypernet.train.max_epochs=1"]
    overrides += ["hypernet.train.batch_size=32", "hypernet.train.split=[0.8,0.1,0.1]"]
    assert compose_run(overrides, tmp_path).hypernet.model.input_dim is None
    assert pipeline.run(compose_run(overrides, tmp_path))["artifacts"]["initialize"]


def test_a_slurm_sweep_without_srun_is_a_named_error(monkeypatch, caplog):
    from omegaconf import OmegaConf

    from hyperofa.cli.common import check_launcher

    monkeypatch.setenv("PATH", "/nonexistent")
    target = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
    with pytest.raises(SystemExit) as stop:
        check_launcher(OmegaConf.create({"hydra": {"launcher": {"_target_": target}}}))
    assert stop.value.code == 2 and "`srun` on the PATH" in caplog.text
    basic = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"
    check_launcher(OmegaConf.create({"hydra": {"launcher": {"_target_": basic}}}))
