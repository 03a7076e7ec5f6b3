"""The entry point's preflight (before any heavy work) accepts good word-vector files under the
shipped config groups and refuses empty ones with a named error."""

from __future__ import annotations

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from hyperofa.cli import CONF_DIR
from hyperofa.config import RunConfig, to_run_config
from hyperofa.errors import BadFileError, EmptyInputError
from hyperofa.preflight import preflight
from hyperofa.wordvec.io import WordVectors, save_word_vectors


def run_config(*overrides: str) -> RunConfig:
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        return to_run_config(compose("config", overrides=[*overrides, "run_dir=."]))


def small_gensim(path):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=3)
    kv.add_vectors(["eng:a", "deu:b"], np.ones((2, 3), dtype=np.float32))
    kv.save(str(path))  # small: the vectors stay inside the pickle, no .vectors.npy
    return path


def test_binary_vectors_pass_under_the_default_group(tmp_path):
    wv = WordVectors(["eng:a", "deu:b"], np.arange(6, dtype=np.float32).reshape(2, 3))
    path = save_word_vectors(wv, tmp_path / "v.bin", binary=True)
    preflight(run_config(f"word_vectors.path={path}"))


def test_trusted_small_gensim_passes_and_an_untrusted_one_is_refused(tmp_path):
    path = small_gensim(tmp_path / "colex.wv")
    group = ["word_vectors=colexnet_plus", f"word_vectors.path={path}"]
    preflight(run_config(*group, "word_vectors.trust_pickle=true"))
    with pytest.raises(BadFileError, match="trust_pickle: true") as err:
        preflight(run_config(*group))
    assert str(path) in str(err.value)


def test_zero_vectors_fail_at_preflight(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("0 100\n")
    with pytest.raises(EmptyInputError) as err:
        preflight(run_config(f"word_vectors.path={path}"))
    assert str(path) in str(err.value) and "expected at least one" in str(err.value)
