"""Tiny causal decoders built from configs: Gemma 3 (√hidden input scaling, optional final-logit
softcapping), Llama and Qwen2, each tied or untied, and Phi (a head with a bias). Weights are drawn with a wide init so logits
are far from uniform and equalities in the tests are not trivially met."""

from __future__ import annotations

from collections.abc import Callable

import torch
from transformers import (
    Gemma3ForCausalLM,
    Gemma3TextConfig,
    LlamaConfig,
    LlamaForCausalLM,
    PhiConfig,
    PhiForCausalLM,
    PreTrainedModel,
    Qwen2Config,
    Qwen2ForCausalLM,
)

COMMON = {
    "hidden_size": 16,
    "intermediate_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 8,
    "max_position_embeddings": 64,
    "initializer_range": 0.3,
    "bos_token_id": 0,
    "pad_token_id": 1,
    "eos_token_id": 2,
}


def _build(config_cls, model_cls, seed: int, **config) -> PreTrainedModel:
    torch.manual_seed(seed)
    return model_cls(config_cls(**{**COMMON, **config})).eval()


def tiny_gemma3(
    vocab_size: int, tied: bool = True, softcap: float | None = None, seed: int = 0
) -> Gemma3ForCausalLM:
    """Gemma 3 text decoder: one sliding-window and one global layer, inputs scaled by √16."""
    return _build(
        Gemma3TextConfig,
        Gemma3ForCausalLM,
        seed,
        vocab_size=vocab_size,
        tie_word_embeddings=tied,
        final_logit_softcapping=softcap,
        query_pre_attn_scalar=8,
        sliding_window=4,
        layer_types=["sliding_attention", "full_attention"],
    )


def tiny_llama(vocab_size: int, tied: bool = False, seed: int = 0) -> LlamaForCausalLM:
    return _build(
        LlamaConfig, LlamaForCausalLM, seed, vocab_size=vocab_size, tie_word_embeddings=tied
    )


def tiny_qwen2(vocab_size: int, tied: bool = True, seed: int = 0) -> Qwen2ForCausalLM:
    return _build(
        Qwen2Config, Qwen2ForCausalLM, seed, vocab_size=vocab_size, tie_word_embeddings=tied
    )


def tiny_phi(vocab_size: int, seed: int = 0) -> PhiForCausalLM:
    """Untied, with a head bias (drawn here: Phi's init sets it to zero)."""
    config = {k: v for k, v in COMMON.items() if k != "head_dim"}
    torch.manual_seed(seed)
    model = PhiForCausalLM(
        PhiConfig(**config, vocab_size=vocab_size, tie_word_embeddings=False, resid_pdrop=0.0)
    )
    with torch.no_grad():
        model.lm_head.bias.normal_(0, 1.0)
    return model.eval()


DECODERS: dict[str, Callable[..., PreTrainedModel]] = {
    "gemma3_tied": lambda v, seed=0: tiny_gemma3(v, tied=True, seed=seed),
    "gemma3_untied": lambda v, seed=0: tiny_gemma3(v, tied=False, seed=seed),
    "gemma3_softcap": lambda v, seed=0: tiny_gemma3(v, tied=True, softcap=2.0, seed=seed),
    "llama_untied": lambda v, seed=0: tiny_llama(v, tied=False, seed=seed),
    "llama_tied": lambda v, seed=0: tiny_llama(v, tied=True, seed=seed),
    "qwen2_tied": lambda v, seed=0: tiny_qwen2(v, tied=True, seed=seed),
    "qwen2_untied": lambda v, seed=0: tiny_qwen2(v, tied=False, seed=seed),
    "phi_biased": lambda v, seed=0: tiny_phi(v, seed=seed),
}
