"""The word-vector table is held once: a word2vec file is read into one float32 array (no second
copy on the way), and a memory-mapped table stays mapped through to the hypernetwork."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import hyperofa.wordvec.word2vec as word2vec
from hyperofa.config.hypernet import HypernetModelConfig
from hyperofa.hypernet.models import build_hypernet
from hyperofa.wordvec.io import WordVectors, load_word_vectors, save_word_vectors

ROWS, DIM = 3_000, 256  # 3 MB of float32 against a few kB of keys


@pytest.mark.parametrize("binary", [True, False])
def test_reading_a_word2vec_file_holds_one_float32_copy(tmp_path, monkeypatch, binary):
    vectors = np.random.default_rng(0).normal(size=(ROWS, DIM)).astype(np.float32)
    keys = [f"deu:w{i}" for i in range(ROWS)]
    path = save_word_vectors(WordVectors(keys, vectors), tmp_path / "v.w2v", binary=binary)
    monkeypatch.setattr(word2vec, "_CHUNK_BYTES", 1 << 16)  # reading buffers far below the table
    tracemalloc.start()
    try:
        wv = load_word_vectors(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(wv.vectors, vectors)
    assert wv.vectors.dtype == np.float32 and wv.vectors.flags.c_contiguous
    assert peak < 1.5 * vectors.nbytes  # one table (+ keys, text rows, a chunk), not two


def test_a_memory_mapped_table_is_never_copied(tmp_path):
    vectors = np.random.default_rng(1).normal(size=(ROWS, 16)).astype(np.float32)
    np.save(tmp_path / "v.npy", vectors)
    mapped = np.load(tmp_path / "v.npy", mmap_mode="r")
    wv = WordVectors([f"eng:w{i}" for i in range(ROWS)], mapped)
    assert np.shares_memory(wv.vectors, mapped)
    net = build_hypernet(HypernetModelConfig(input_dim=16), wv.vectors, output_dim=4)
    assert net.words.weight.data_ptr() == wv.vectors.ctypes.data  # the frozen table is the map
