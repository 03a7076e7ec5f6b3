"""Match: every subword of a tokenizer collects the words of a word-vector space it occurs in.

As the public OFA code does it (cisnlp/ofa `ofa/utils.py::get_subword_embeddings_in_word_embedding_space`,
DESIGN §3.1): every `$` of a word becomes a space, then three surface forms are tokenized — the word,
the word after a space, and a capitalized form — each with one `tokenizer(form,
add_special_tokens=False)` call. Every token id in a form's tokenization collects the word once per
form, so a token holds a word up to three times. The map keeps the word rows of each token sorted
and unique (what the hypernetwork reads, like hyper-ofa's de-duplicated lists) and, aligned with
them, that multiplicity: OFA's token vector is the mean over the multiset.

The map is CSR (indptr, indices, multiplicity) so that 401k tokens × 3.6M words stays compact.
The result is the public algorithm's; only the work differs: a word string held by several
languages is encoded once, and so is a string standing for several forms — the same string, or
`w` and `" " + w` where the tokenizer's dummy prefix makes them tokenize alike (`prefix`); and an
XLM-R-style Unigram tokenizer's ids come from a compiled Viterbi that reproduces its model
(`unigram`), not from its Rust encoder.
"""

from hyperofa.match.build import build_token_word_map
from hyperofa.match.encoders import (
    Encoder,
    FlatIds,
    TokenizerEncoder,
    pretokenized_encoder,
    tokenizer_encoder,
)
from hyperofa.match.forms import WORD_INTERNAL, surface_forms, word_variants
from hyperofa.match.prefix import LeadingSpace
from hyperofa.match.tokenwords import WEIGHTINGS, TokenWordMap, token_vectors

__all__ = [
    "WEIGHTINGS",
    "WORD_INTERNAL",
    "Encoder",
    "FlatIds",
    "LeadingSpace",
    "TokenWordMap",
    "TokenizerEncoder",
    "build_token_word_map",
    "pretokenized_encoder",
    "surface_forms",
    "token_vectors",
    "tokenizer_encoder",
    "word_variants",
]
