"""gensim KeyedVectors pickles (.wv): their shape from the `.vectors.npy` sidecar, nothing
unpickled; their content only with `trust_pickle` (unpickling can run arbitrary code)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hyperofa.errors import BadFileError, EmptyInputError

# KeyedVectors.save writes `<name>.vectors.npy`, a full model's save `<name>.wv.vectors.npy`;
# small models keep the vectors inside the pickle and have neither
SIDECARS = (".vectors.npy", ".wv.vectors.npy")
_NPY_HEADERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}
_EXPECTED_NPY = "gensim's float vectors of shape (count, dim)"


def sidecar(path: Path) -> Path | None:
    """The `.vectors.npy` file gensim wrote beside the pickle `path`, if any."""
    return next((p for s in SIDECARS if (p := path.with_name(path.name + s)).is_file()), None)


def untrusted_pickle_error(path: Path, why: str = "") -> BadFileError:
    return BadFileError(
        path,
        f"a gensim pickle{why}; unpickling can run arbitrary code. Set "
        "`word_vectors.trust_pickle: true` if you trust this file, or convert it to word2vec "
        "format once (KeyedVectors.load(p).save_word2vec_format(out, binary=True))",
    )


def sidecar_shape(npy: Path) -> tuple[int, int]:
    """(count, dim) from a .npy header alone: no data read, nothing unpickled."""
    try:
        with open(npy, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version not in _NPY_HEADERS:
                raise ValueError(f"npy format version {version}")
            shape, _, dtype = _NPY_HEADERS[version](f)
    except (ValueError, OSError) as err:
        raise BadFileError(
            npy, f"not a readable .npy array ({err}); expected {_EXPECTED_NPY}"
        ) from None
    if dtype.hasobject or dtype.kind != "f":
        what = "Python objects (loading them needs unpickling)" if dtype.hasobject else dtype
        raise BadFileError(npy, f"holds {what}; expected {_EXPECTED_NPY}")
    if len(shape) != 2:
        raise BadFileError(npy, f"holds an array of shape {shape}; expected {_EXPECTED_NPY}")
    return int(shape[0]), int(shape[1])


def peek_gensim(path: Path, trust_pickle: bool) -> tuple[int, int]:
    """(count, dim) from the sidecar; without one, by loading the pickle (only if trusted)."""
    npy = sidecar(path)
    if npy is not None:
        count, dim = sidecar_shape(npy)
    elif trust_pickle:
        count, dim = read_gensim(path, trust_pickle)[1].shape
    else:
        raise untrusted_pickle_error(
            path, f" without {path.name}{SIDECARS[0]} to read its shape from"
        )
    if count == 0:
        raise EmptyInputError(
            f"{npy or path}: 0 word vectors (dimension {dim}); expected at least one"
        )
    return count, dim


def _load_pickle(path: Path) -> object:
    from gensim.utils import SaveLoad

    npy = sidecar(path)
    if npy is not None:
        sidecar_shape(npy)  # a bad sidecar is named before gensim trips over it
    try:
        return SaveLoad.load(str(path), mmap="r")
    except MemoryError:
        raise
    except Exception as err:  # unpickling arbitrary bytes can raise anything
        raise BadFileError(
            path,
            f"cannot be loaded as a gensim model ({type(err).__name__}: {err}); expected "
            "KeyedVectors saved by gensim (KeyedVectors.save) or a model with `.wv`",
        ) from None


def read_gensim(path: Path, trust_pickle: bool) -> tuple[list[str], np.ndarray]:
    """Keys and float32 (count, dim) vectors of a gensim KeyedVectors (or a model's `.wv`)."""
    if not trust_pickle:
        raise untrusted_pickle_error(path)
    obj = _load_pickle(path)
    kv = getattr(obj, "wv", obj)
    keys, vectors = getattr(kv, "index_to_key", None), getattr(kv, "vectors", None)
    if not isinstance(keys, list) or not isinstance(vectors, np.ndarray):
        raise BadFileError(
            path, f"holds a {type(obj).__name__}; expected gensim KeyedVectors or a model with .wv"
        )
    if vectors.ndim != 2 or len(vectors) != len(keys) or vectors.dtype.kind != "f":
        raise BadFileError(
            path,
            f"{len(keys)} keys but {vectors.dtype} vectors of shape {vectors.shape}; "
            f"expected float vectors of shape ({len(keys)}, dim)",
        )
    if not keys:
        raise EmptyInputError(f"{path}: 0 word vectors in the gensim model; expected at least one")
    if (bad := next((k for k in keys if not isinstance(k, str)), None)) is not None:
        raise BadFileError(path, f"key {bad!r} is a {type(bad).__name__}; expected str keys")
    return list(keys), np.array(vectors, dtype=np.float32)  # a copy: no memmap left open
