"""A hand-written BERT-style WordPiece tokenizer (uncased normalizer, BERT pre-tokenizer, `##`
continuation pieces), small enough to check tokenizations by hand."""

from __future__ import annotations

from collections.abc import Sequence

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
BERT_ROLES = {
    "pad_token": "[PAD]",
    "unk_token": "[UNK]",
    "cls_token": "[CLS]",
    "sep_token": "[SEP]",
    "mask_token": "[MASK]",
}


def wordpiece_tokenizer(
    pieces: Sequence[str], lowercase: bool = True, letters: str = ""
) -> PreTrainedTokenizerFast:
    """Specials at ids 0..4, then `pieces`, then the bare and `##` form of each of `letters`."""
    vocab = {token: i for i, token in enumerate(BERT_SPECIALS)}
    for piece in [*pieces, *(f for c in letters for f in (c, "##" + c))]:
        vocab.setdefault(piece, len(vocab))
    backend = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", continuing_subword_prefix="##"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.decoder = decoders.WordPiece()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    return PreTrainedTokenizerFast(tokenizer_object=backend, **BERT_ROLES)
