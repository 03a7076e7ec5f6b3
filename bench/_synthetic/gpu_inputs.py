"""Paper-size inputs for the GPU checks (`bench/gpu_check.sh`), drawn in seconds without
tokenizers: token → word maps whose degrees follow the CPU bench's synthetic match (lognormal
fits of its p50 and p99), a 3.6M × 200 word table and XLM-R-sized coordinates, all random."""

from __future__ import annotations

import numpy as np

from bench._synthetic.inputs import Sizes
from hyperofa.match import TokenWordMap

COVERED = 0.5  # of the tokens with ≥ 1 word (the CPU bench's synthetic match: 0.50)
SOURCE_DEGREE = (
    np.log(29),
    1.96,
)  # lognormal (μ, σ) of words per covered source token: p50 29, p99 ~2,800
TARGET_DEGREE = (np.log(17), 1.88)  # target: p50 17, p99 ~1,300
ROWS_DIM = 400  # D' of the coordinates the initializers fill (OFA's best XLM-R setting)


class NoGPUError(RuntimeError):
    """A GPU check ran where torch sees no CUDA device, or faiss has no GPU support."""


def require_gpu(faiss_too: bool = False) -> str:
    """The CUDA device's name; NoGPUError naming what is missing."""
    import torch

    if not torch.cuda.is_available():
        raise NoGPUError(
            "no CUDA device visible to torch (torch.cuda.is_available() is False): run "
            "bench/gpu_check.sh on a GPU node, with a CUDA build of torch"
        )
    if faiss_too:
        import faiss

        if not hasattr(faiss, "StandardGpuResources") or faiss.get_num_gpus() == 0:
            raise NoGPUError(
                "faiss has no GPU support here: pip uninstall -y faiss-cpu && pip install "
                "faiss-gpu-cu12"
            )
    return torch.cuda.get_device_name(0)


def token_word_map(
    rng: np.random.Generator, tokens: int, words: int, degree: tuple[float, float]
) -> TokenWordMap:
    """A CSR map: COVERED of the tokens hold lognormal-many distinct words (sorted), each with
    a multiplicity of 1..3."""
    covered = rng.random(tokens) < COVERED
    deg = np.zeros(tokens, dtype=np.int64)
    drawn = np.rint(rng.lognormal(degree[0], degree[1], int(covered.sum())))
    deg[covered] = np.clip(drawn, 1, words // 4).astype(np.int64)
    token = np.repeat(np.arange(tokens, dtype=np.int64), deg)
    pair = np.unique(token * words + rng.integers(0, words, len(token)))  # sorted, distinct
    token = pair // words
    indptr = np.zeros(tokens + 1, dtype=np.int64)
    np.cumsum(np.bincount(token, minlength=tokens), out=indptr[1:])
    multiplicity = rng.integers(1, 4, len(pair)).astype(np.int8)
    return TokenWordMap(indptr, pair - token * words, multiplicity)


def word_vectors(rng: np.random.Generator, sizes: Sizes) -> np.ndarray:
    """float32 (words, word_dim), drawn in blocks (2.9 GB at paper size)."""
    out = np.empty((sizes.words, sizes.word_dim), dtype=np.float32)
    for start in range(0, sizes.words, 1 << 18):
        block = out[start : start + (1 << 18)]
        block[:] = rng.standard_normal(block.shape, dtype=np.float32)
    return out


def source_rows(rng: np.random.Generator, sizes: Sizes) -> np.ndarray:
    """Coordinates-like rows, float32 (source_vocab, ROWS_DIM)."""
    return rng.standard_normal((sizes.source_vocab, ROWS_DIM), dtype=np.float32) * 0.05
