"""Small real objects built in memory: a Unigram tokenizer over a hand-written vocabulary and a
tiny BERT/RoBERTa masked LM. Hand-checkable, so tests can assert exact results."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
from transformers import (
    BertConfig,
    BertForMaskedLM,
    PreTrainedTokenizerFast,
    XLMRobertaConfig,
    XLMRobertaForMaskedLM,
)

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
# XLM-R's special-token roles, for wrapping a raw tokenizer in PreTrainedTokenizerFast
XLMR_SPECIALS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
    "cls_token": "<s>",
    "sep_token": "</s>",
    "mask_token": "<mask>",
}


def unigram_tokenizer(pieces: Sequence[str], with_mask: bool = True) -> PreTrainedTokenizerFast:
    """XLM-R-style: specials 0..3, then `pieces` (scores favour longer pieces), then `<mask>`."""
    vocab = [(s, 0.0) for s in SPECIALS]
    vocab += [(p, -10.0 + len(p)) for p in pieces]
    if with_mask:
        vocab.append(("<mask>", 0.0))
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, **{**XLMR_SPECIALS, "mask_token": "<mask>" if with_mask else None}
    )


def _tiny(config_cls, model_cls, vocab_size: int, hidden: int, seed: int, **extra):
    torch.manual_seed(seed)
    cfg = config_cls(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        **extra,
    )
    return model_cls(cfg).eval()


def tiny_bert(vocab_size: int, hidden: int = 16, seed: int = 0) -> BertForMaskedLM:
    return _tiny(BertConfig, BertForMaskedLM, vocab_size, hidden, seed)


def tiny_xlmr(vocab_size: int, hidden: int = 16, seed: int = 0) -> XLMRobertaForMaskedLM:
    return _tiny(XLMRobertaConfig, XLMRobertaForMaskedLM, vocab_size, hidden, seed, pad_token_id=1)
