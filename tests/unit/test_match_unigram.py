"""The compiled Unigram Viterbi (`hyperofa.match.unigram`) gives the ids `tokenizers` gives."""

import logging
import random

import numpy as np
import pytest
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from hyperofa.match import pretokenized_encoder, tokenizer_encoder, word_variants
from hyperofa.match.unigram import PieceTrie, _lookup, code_points, unigram_encoder
from tests.tiny import unigram_tokenizer
from tests.unit.test_match import ODD, PIECES, WORDS, _xlmr
from tests.unit.test_match_prefix import TRICKY

ALPHABET = list("hausbmHBkn<>/ ▁ßİ中文😀ǆﬁx") + ["\u0301", "\u00a0", "\u3000", "\t", "\u200d"]


def _texts(seed: int = 0, n: int = 3_000) -> list[str]:
    rng = random.Random(seed)
    texts = [form for w in TRICKY + WORDS for form in word_variants(w)] + ODD
    texts += ["<unk>", "x<unk>y", "☃☃", "☃<unk>☃", "▁", "▁▁", "a▁", "▁▁a▁b", "haus  baum"]
    return texts + [
        "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 14))) for _ in range(n)
    ]


def _crafted(pre_tokenizer, normalizer=None, scores_from: float = -10.0) -> Tokenizer:
    """A Unigram whose vocabulary has what the Viterbi must get right: duplicated pieces
    (the last entry's score and id count), tied paths, pieces holding `▁`, a multi-character
    string of unknown characters that is itself a piece (reached by fusing `<unk>` nodes when
    every score is high), and `<unk>`'s own text as a piece."""
    vocab = [(s, scores_from) for s in ("<s>", "<pad>", "</s>", "<unk>")]
    vocab += [(p, scores_from + len(p)) for p in PIECES]
    vocab += [("ha", scores_from + 2.0), ("us", scores_from + 2.0), ("hau", scores_from + 1.0)]
    vocab += [("s", scores_from + 1.0), ("▁haus", scores_from), ("a▁b", scores_from + 3.0)]
    vocab += [("☃☃", scores_from + 5.0), ("▁", scores_from + 1.0), ("m", scores_from)]
    vocab += [("▁haus", scores_from + 7.0), ("<mask>", scores_from)]  # a duplicate, scored last
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.pre_tokenizer, tok.normalizer = pre_tokenizer, normalizer
    tok.add_special_tokens(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    return tok


def _metaspace(scheme="always", split=True):
    return pre_tokenizers.Metaspace(replacement="▁", prepend_scheme=scheme, split=split)


BACKENDS = {
    "xlmr": lambda: _xlmr().backend_tokenizer,
    "tiny": lambda: unigram_tokenizer(PIECES).backend_tokenizer,
    "crafted": lambda: _crafted(_metaspace()),
    "crafted, high scores": lambda: _crafted(_metaspace(), scores_from=30.0),
    "never, unsplit": lambda: _crafted(_metaspace("never", split=False)),
    "whitespace, raw": lambda: _crafted(
        pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), _metaspace()])
    ),
    "whitespace, nfkc": lambda: _crafted(
        pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), _metaspace()]),
        normalizers.NFKC(),
    ),
}


class _Counted:
    def __init__(self, encode):
        self.encode, self.texts = encode, []

    def __call__(self, texts):
        self.texts += texts
        return self.encode(texts)


@pytest.mark.parametrize("name", list(BACKENDS))
def test_compiled_viterbi_gives_the_ids_of_one_tokenizer_call_per_string(name):
    backend = BACKENDS[name]()
    texts = _texts()
    alone = [backend.encode(t, add_special_tokens=False).ids for t in texts]
    rust = _Counted(pretokenized_encoder(backend))
    compiled = unigram_encoder(backend, rust)
    ids, owners = compiled(texts)
    assert compiled.confirmed, "the first batch's sample agrees with the tokenizer"
    assert ids.tolist() == [i for a in alone for i in a]
    assert owners.tolist() == [j for j, a in enumerate(alone) for _ in a]
    # after the first batch, only empty strings and those holding an added token go to Rust
    rust.texts.clear()
    assert compiled(texts)[0].tolist() == ids.tolist()
    normalize = backend.normalizer.normalize_str if backend.normalizer else str
    added = [a.content for a in backend.get_added_tokens_decoder().values()]
    assert rust.texts == [
        t for t in texts if not t or any(a in t or a in normalize(t) for a in added)
    ]
    assert "" in rust.texts and "<unk>" in rust.texts and len(rust.texts) < len(texts) / 4


def test_high_scores_make_fused_unknowns_a_piece():
    """Where every score is ≥ 20, two `<unk>` nodes (20 each) beat the piece `☃☃` (35); their
    fused string is then looked up, as the model's map does: `☃☃` is that piece, `☃♞` is
    `<unk>`."""
    backend = BACKENDS["crafted, high scores"]()
    texts = ["☃☃", "☃♞"]
    alone = [backend.encode(t, add_special_tokens=False).ids for t in texts]
    assert alone[0][-1] == backend.get_vocab()["☃☃"] and alone[1][-1] == 3
    ids, _ = unigram_encoder(backend, pretokenized_encoder(backend))(texts)
    assert ids.tolist() == alone[0] + alone[1]


def test_trie_finds_every_piece_with_its_last_id():
    vocab = _xlmr().backend_tokenizer.get_vocab()
    pieces = sorted(vocab, key=vocab.get)
    trie = PieceTrie([*pieces, pieces[7]])  # a duplicate at the end wins
    last = {p: i for i, p in enumerate([*pieces, pieces[7]])}
    probe = pieces[::97] + [p + "\u0300" for p in pieces[::997]] + ["☃", "▁haus☃", pieces[7]]
    probe += ["\U00030000", "\U0010ffff"]  # past the root's table: hashed
    flat, starts = code_points(probe)
    found = [_lookup(*trie.arrays, flat, starts[i], starts[i + 1]) for i in range(len(probe))]
    assert found == [last.get(p, -1) for p in probe]
    assert found[-3] == len(pieces)


def _byte_fallback():
    tok = _crafted(_metaspace())
    spec = tok.to_str().replace('"byte_fallback":false', '"byte_fallback":true')
    return Tokenizer.from_str(spec)


@pytest.mark.parametrize(
    ("make", "known"),
    [
        (lambda: _crafted(_metaspace("first")), False),
        (lambda: _crafted(pre_tokenizers.Sequence([_metaspace(), pre_tokenizers.Digits()])), False),
        (lambda: Tokenizer(models.BPE()), False),
        (_byte_fallback, True),  # known from its config; the model's state sends it to Rust
    ],
)
def test_pipelines_it_does_not_reproduce_stay_with_the_tokenizer(make, known):
    backend = make()
    rust = _Counted(pretokenized_encoder(backend))
    compiled = unigram_encoder(backend, rust)
    assert (compiled is not None) == known
    if compiled is not None:
        texts = _texts(n=50)
        assert compiled(texts)[0].tolist() == rust.encode(texts).ids.tolist()
        assert compiled.confirmed is False and rust.texts == texts


def test_a_sample_that_disagrees_sends_everything_to_the_tokenizer(monkeypatch, caplog):
    backend = BACKENDS["tiny"]()
    rust = _Counted(pretokenized_encoder(backend))
    compiled = unigram_encoder(backend, rust)
    monkeypatch.setattr("hyperofa.match.unigram.UNK_PENALTY", -50.0)  # unknowns would win
    texts = _texts(n=200)
    with caplog.at_level(logging.WARNING, logger="hyperofa.match.unigram"):
        ids, owners = compiled(texts)
    assert compiled.confirmed is False
    assert "disagrees with the tokenizer" in caplog.text
    assert np.array_equal(ids, rust.encode(texts).ids)
    assert rust.texts[-len(texts) :] == texts


def test_the_matching_encoder_takes_the_compiled_path_for_xlmr(caplog):
    tok = _xlmr()
    texts = _texts(n=500)
    with caplog.at_level(logging.INFO, logger="hyperofa.match.unigram"):
        flat = tokenizer_encoder(tok)(texts)
    alone = tok(texts, add_special_tokens=False)["input_ids"]
    assert flat.ids.tolist() == [i for a in alone for i in a]
    assert flat.owners.tolist() == [j for j, a in enumerate(alone) for _ in a]
    assert "Unigram ids by the compiled Viterbi" in caplog.text
