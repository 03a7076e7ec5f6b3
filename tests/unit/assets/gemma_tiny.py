"""A tiny Gemma 3 written as a GGUF the way llama.cpp writes one, with the `gguf` package's writer.

llama.cpp stores Gemma's RMSNorm weights as 1 + w (the model multiplies by 1 + w) and omits the
LM head when it is tied; the vocabulary is SentencePiece-style (▁ for spaces, `<0xNN>` byte
pieces for byte fallback) with no merges, which transformers rebuilds from the piece order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from transformers import Gemma3ForCausalLM, Gemma3TextConfig

SPECIALS = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]  # Gemma's first five ids
LETTERS = list("▁acdehinst")
MERGED = [
    "▁t",
    "he",
    "▁the",
    "at",
    "▁c",
    "▁cat",
    "▁h",
    "▁hat",
    "in",
    "▁in",
    "an",
    "▁a",
    "▁an",
    "▁and",
]
BYTES = [f"<0x{b:02X}>" for b in range(256)]
PIECES = SPECIALS + BYTES + LETTERS + MERGED
TEXTS = {"one": "the cat and the hat", "two": "a cat in the hat sat in the hat"}
BYTE_TEXTS = {"bytes": "the çat ☃ in"}  # ç and ☃ are no pieces: they go to <0xNN> pieces

# gguf TokenType: 1 normal, 2 unknown, 3 control, 6 byte
_TYPES = {
    "<unk>": 2,
    **dict.fromkeys(["<pad>", "<eos>", "<bos>", "<mask>"], 3),
    **dict.fromkeys(BYTES, 6),
}


def tiny_config() -> Gemma3TextConfig:
    """6 layers, so the default pattern has sliding (window 4) and full attention layers."""
    return Gemma3TextConfig(
        vocab_size=len(PIECES),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=6,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
        max_position_embeddings=64,
        sliding_window=4,
    )


def tiny_model(seed: int = 0) -> Gemma3ForCausalLM:
    """Random weights, with norm weights away from 0 so that the 1 + w convention matters."""
    torch.manual_seed(seed)
    model = Gemma3ForCausalLM(tiny_config()).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name:
                param.normal_(0.0, 0.5)
    return model


def _write_metadata(writer, config: Gemma3TextConfig) -> None:
    writer.add_name("tiny gemma3")
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_key_length(config.head_dim)
    writer.add_value_length(config.head_dim)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_rope_freq_base(config.rope_parameters["full_attention"]["rope_theta"])
    writer.add_sliding_window(config.sliding_window)


def _write_tokenizer(writer) -> None:
    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(PIECES)
    writer.add_token_scores([0.0] * len(PIECES))
    writer.add_token_types([_TYPES.get(p, 1) for p in PIECES])
    writer.add_bos_token_id(2)
    writer.add_eos_token_id(1)
    writer.add_unk_token_id(3)
    writer.add_pad_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_add_space_prefix(False)


def write_tiny_gguf(model: Gemma3ForCausalLM, path: Path) -> Path:
    """Write `model` (tied) and the tiny vocabulary as an F32 GGUF at `path`."""
    import gguf

    config = model.config
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.GEMMA3, config.num_hidden_layers)
    writer = gguf.GGUFWriter(str(path), "gemma3")
    _write_metadata(writer, config)
    _write_tokenizer(writer)
    for key, tensor in model.state_dict().items():
        if key == "lm_head.weight":
            continue  # tied: llama.cpp writes no `output.weight`
        values = tensor.numpy().astype(np.float32)
        if "norm" in key:
            values = values + 1.0
        writer.add_tensor(names.get_name(key.removesuffix(".weight")) + ".weight", values)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
