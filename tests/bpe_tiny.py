"""Small decoder tokenizers trained in the test: a Gemma-style SentencePiece BPE with byte fallback
(no dummy prefix, `▁` for a space, BOS added) and a GPT-2 / Llama-3-style byte-level BPE."""

from __future__ import annotations

import io
from collections.abc import Sequence

import sentencepiece as spm
from tokenizers import (
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)
from transformers import PreTrainedTokenizerFast
from transformers.tokenization_utils_base import generate_merges

GEMMA_SPECIALS = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]
GEMMA_ROLES = {
    "pad_token": "<pad>",
    "eos_token": "<eos>",
    "bos_token": "<bos>",
    "unk_token": "<unk>",
    "mask_token": "<mask>",
}
BOS_BYTE_LEVEL = "<|begin_of_text|>"
EOS_BYTE_LEVEL = "<|end_of_text|>"

ENGLISH = """\
All human beings are born free and equal in dignity and rights.
They are endowed with reason and conscience and should act towards one another in a spirit of
brotherhood. Everyone is entitled to all the rights and freedoms set forth in this Declaration,
without distinction of any kind, such as race, colour, sex, language, religion, political or other
opinion, national or social origin, property, birth or other status.
Everyone has the right to life, liberty and security of person.
No one shall be held in slavery or servitude; slavery and the slave trade shall be prohibited in all
their forms. No one shall be subjected to torture or to cruel, inhuman or degrading treatment or
punishment. Everyone has the right to recognition everywhere as a person before the law.
All are equal before the law and are entitled without any discrimination to equal protection of the
law. Everyone has the right to an effective remedy by the competent national tribunals for acts
violating the fundamental rights granted him by the constitution or by law.
No one shall be subjected to arbitrary arrest, detention or exile.
Everyone is entitled in full equality to a fair and public hearing by an independent and impartial
tribunal, in the determination of his rights and obligations and of any criminal charge against him.
"""


def gemma_style(texts: Sequence[str], vocab_size: int = 800) -> PreTrainedTokenizerFast:
    """Gemma's shape (transformers' GGUF conversion): specials, the 256 byte pieces, then
    SentencePiece BPE pieces in merge order; merges from every split of each piece, by position."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=model,
        model_type="bpe",
        vocab_size=vocab_size,
        byte_fallback=True,
        add_dummy_prefix=False,
        split_digits=True,
        character_coverage=1.0,
        num_threads=1,
        minloglevel=2,
    )
    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
    ordinary = [
        sp.id_to_piece(i)
        for i in range(sp.get_piece_size())
        if not (sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i))
    ]
    tokens = [*GEMMA_SPECIALS, *(f"<0x{b:02X}>" for b in range(256)), *ordinary]
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = generate_merges(vocab, {t: -i for i, t in enumerate(tokens)})
    backend = Tokenizer(
        models.BPE(vocab, merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True)
    )
    backend.normalizer = normalizers.Replace(" ", "\u2581")
    backend.pre_tokenizer = pre_tokenizers.Split(" ", behavior="merged_with_previous")
    backend.decoder = decoders.Sequence(
        [decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse()]
    )
    backend.post_processor = processors.TemplateProcessing(
        single="<bos> $A", special_tokens=[("<bos>", vocab["<bos>"])]
    )
    return PreTrainedTokenizerFast(tokenizer_object=backend, **GEMMA_ROLES)


def byte_level(
    texts: Sequence[str], vocab_size: int = 600, ignore_merges: bool = False
) -> PreTrainedTokenizerFast:
    """A byte-level BPE (GPT-2 pre-tokenizer, every byte in the alphabet) trained by `tokenizers`,
    with Llama 3's BOS template; `ignore_merges` as Llama 3 sets it."""
    backend = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[BOS_BYTE_LEVEL, EOS_BYTE_LEVEL],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer)
    backend.post_processor = processors.TemplateProcessing(
        single=f"{BOS_BYTE_LEVEL} $A",
        special_tokens=[(BOS_BYTE_LEVEL, backend.token_to_id(BOS_BYTE_LEVEL))],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token=BOS_BYTE_LEVEL, eos_token=EOS_BYTE_LEVEL
    )
