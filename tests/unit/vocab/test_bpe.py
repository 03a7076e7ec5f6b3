"""BPE extension on small decoder tokenizers (Gemma-style with byte fallback, byte-level): source ids
and protected text kept, merges that reach every new piece, training and tokenization agree."""

from __future__ import annotations

import json
import logging
from collections import Counter

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from hyperofa.errors import EmptyInputError, IncompatibleInputsError
from hyperofa.vocab.bpe import BYTE_LEVEL, METASPACE_BPE, bpe_kind, segmented_words
from hyperofa.vocab.bpe_spec import bpe_spec, source_merges
from hyperofa.vocab.bpe_train import apply_merge
from hyperofa.vocab.extend import extend_tokenizer, save_tokenizer
from tests.bpe_tiny import ENGLISH, byte_level, gemma_style
from tests.unit.vocab.test_extend import new_language

ENGLISH_LINES = ENGLISH.splitlines()
KINDS = ["gemma", "byte_level", "byte_level_ignore_merges"]


def build_source(kind: str) -> PreTrainedTokenizerFast:
    if kind == "gemma":
        return gemma_style(ENGLISH_LINES)
    return byte_level(ENGLISH_LINES, ignore_merges=kind.endswith("ignore_merges"))


def ids(tok, texts: list[str]) -> list[list[int]]:
    return tok(texts, add_special_tokens=False)["input_ids"]


@pytest.fixture(scope="module", params=KINDS)
def case(request):
    source = build_source(request.param)
    target, counts = extend_tokenizer(
        source, new_language(300, seed=1), vocab_size=120, protected_texts=ENGLISH_LINES
    )
    return source, target, counts


def test_every_source_id_merge_and_special_is_kept(case):
    source, target, counts = case
    old, new = source.get_vocab(), target.get_vocab()
    assert {piece: new[piece] for piece in old} == old
    assert sorted(new.values()) == list(range(len(target)))
    assert counts["source_size"] == len(old) and len(target) == counts["target_size"]
    assert counts["added"] == counts["trained_pieces"] == len(target) - len(old) > 60
    assert target.all_special_ids == source.all_special_ids
    old_merges = source_merges(bpe_spec(source)["model"])
    new_merges = source_merges(bpe_spec(target)["model"])
    assert new_merges[: len(old_merges)] == old_merges
    assert len(new_merges) == len(old_merges) + counts["merges_added"]


def test_new_merges_make_the_new_pieces_in_id_order(case):
    source, target, counts = case
    spec = bpe_spec(target)["model"]
    merges = source_merges(spec)[len(source_merges(bpe_spec(source)["model"])) :]
    appended = target.convert_ids_to_tokens(range(counts["source_size"], counts["target_size"]))
    chars = appended[: counts["new_characters"]]
    assert all(len(c) == 1 for c in chars)
    assert [a + b for a, b in merges] == appended[len(chars) :]
    assert all(a in spec["vocab"] and b in spec["vocab"] for a, b in merges)


def test_every_new_piece_is_produced_from_its_own_characters(case):
    _, target, counts = case
    model = target.backend_tokenizer.model
    appended = target.convert_ids_to_tokens(range(counts["source_size"], counts["target_size"]))
    if bpe_spec(target)["model"].get("ignore_merges"):
        return  # a whole pre-token in the vocab is taken as it is
    assert all([t.value for t in model.tokenize(p)] == [p] for p in appended)


def test_new_language_gets_shorter_and_english_is_unchanged(case):
    source, target, _ = case
    heldout = new_language(50, seed=2)
    before = sum(map(len, ids(source, heldout)))
    after = sum(map(len, ids(target, heldout)))
    assert after < 0.3 * before
    assert ids(target, ENGLISH_LINES) == ids(source, ENGLISH_LINES)
    assert target(ENGLISH_LINES[0])["input_ids"][0] == source.bos_token_id  # BOS template kept


def test_training_and_tokenization_agree_on_every_training_word(case):
    """Replaying the learned merges, in order, on the source segmentation gives what the extended
    tokenizer produces for every word of the training text."""
    source, target, counts = case
    spec = bpe_spec(source)
    merges = source_merges(bpe_spec(target)["model"])[len(source_merges(spec["model"])) :]
    chars = target.convert_ids_to_tokens(
        range(counts["source_size"], counts["source_size"] + counts["new_characters"])
    )
    backend = source.backend_tokenizer
    pretokens = Counter(w for line in new_language(300, seed=1) for w in _pretokens(backend, line))
    words = segmented_words(spec, backend, chars, pretokens, bpe_kind(spec, backend))
    model = target.backend_tokenizer.model
    for word in words:
        replayed = word
        for merge in merges:
            replayed = apply_merge(replayed, merge)
        assert [t.value for t in model.tokenize("".join(word))] == list(replayed), word


def _pretokens(backend, line: str) -> list[str]:
    from hyperofa.vocab.bpe import pretokens

    return pretokens(backend, line)


@pytest.mark.parametrize("kind", KINDS)
def test_appended_merges_change_unprotected_text_and_protection_keeps_it(kind):
    """Merges ranked after every source merge still fire on source-language text where no source
    merge applies; refusing the protected text's pairs keeps every protected word exactly."""
    source = build_source(kind)
    loanwords = sorted({w for line in new_language(20, seed=3) for w in line.split()})
    probe = [f"The {w} law of {w}s" for w in loanwords] + ENGLISH_LINES
    free, _ = extend_tokenizer(source, new_language(300, seed=1), vocab_size=120)
    assert sum(a != b for a, b in zip(ids(free, probe), ids(source, probe), strict=True)) > 10
    kept, counts = extend_tokenizer(
        source, new_language(300, seed=1), vocab_size=120, protected_texts=probe
    )
    assert ids(kept, probe) == ids(source, probe)
    assert counts["refused_for_protected"] > 0 and counts["protected_words"] > 0


def test_byte_fallback_characters_become_pieces_unless_protected():
    source = build_source("gemma")
    assert source.tokenize("ŋa")[:2] == ["<0xC5>", "<0x8B>"]
    target, counts = extend_tokenizer(source, new_language(300, seed=1), vocab_size=120)
    assert "ŋ" in target.get_vocab() and counts["new_characters"] >= 4
    assert target.decode(ids(target, ["ŋa ɖo"])[0]) == "ŋa ɖo"
    kept, kept_counts = extend_tokenizer(
        source, new_language(300, seed=1), vocab_size=120, protected_texts=["ŋ"]
    )
    assert "ŋ" not in kept.get_vocab() and kept_counts["new_characters"] < counts["new_characters"]
    assert ids(kept, ["ŋ", "xŋy"]) == ids(source, ["ŋ", "xŋy"])


def test_same_inputs_give_an_identical_tokenizer():
    source = build_source("byte_level")
    texts = new_language(200, seed=4)
    first, _ = extend_tokenizer(source, texts, vocab_size=80, seed=7)
    second, _ = extend_tokenizer(source, iter(texts), vocab_size=80, seed=3)
    joined, _ = extend_tokenizer(source, "\n".join(texts), vocab_size=80)
    assert first.backend_tokenizer.to_str() == second.backend_tokenizer.to_str()
    assert joined.backend_tokenizer.to_str() == first.backend_tokenizer.to_str()


@pytest.mark.parametrize("kind", ["gemma", "byte_level"])
def test_saved_dir_reloads_with_identical_ids(kind, tmp_path):
    target, _ = extend_tokenizer(build_source(kind), new_language(100, seed=5), vocab_size=60)
    reloaded = AutoTokenizer.from_pretrained(save_tokenizer(target, tmp_path / "tok"))
    texts = [ENGLISH_LINES[0], *new_language(5, seed=3), "kaluŋa  ro\tŋ xyz"]
    assert reloaded(texts)["input_ids"] == target(texts)["input_ids"]
    assert reloaded.get_vocab() == target.get_vocab()


def test_kinds_and_the_counts_log_line(caplog):
    assert bpe_kind(*_spec_and_backend("gemma")) == METASPACE_BPE
    assert bpe_kind(*_spec_and_backend("byte_level")) == BYTE_LEVEL
    with caplog.at_level(logging.INFO, logger="hyperofa.vocab"):
        _, counts = extend_tokenizer(build_source("gemma"), new_language(50, 5), vocab_size=40)
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("extend_"))
    assert line.startswith(
        f"extend_tokenizer: {counts['source_size']} source, {counts['trained_pieces']} trained, "
        f"{counts['added']} added, {counts['target_size']} target (metaspace BPE: "
    )


@pytest.mark.parametrize("texts", [[], ["", "  \n\t"]])
def test_empty_texts_raise(texts):
    with pytest.raises(EmptyInputError, match="no non-blank line"):
        extend_tokenizer(build_source("byte_level"), texts, vocab_size=50)


def _bpe(pre_tokenizer, **model) -> PreTrainedTokenizerFast:
    vocab = {"<unk>": 0, "a": 1, "b": 2, "ab": 3}
    backend = Tokenizer(models.BPE(vocab, [("a", "b")], unk_token="<unk>", **model))
    backend.pre_tokenizer = pre_tokenizer
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (_bpe(pre_tokenizers.Whitespace()), "neither pre-tokenizes into bytes"),
        (_bpe(pre_tokenizers.ByteLevel(), end_of_word_suffix="</w>"), "end_of_word_suffix"),
    ],
)
def test_a_bpe_of_unknown_spelling_raises(source, message):
    with pytest.raises(IncompatibleInputsError, match=message):
        extend_tokenizer(source, ["a b ab"], vocab_size=50)


def test_ids_with_a_gap_raise():
    source = _bpe(pre_tokenizers.ByteLevel())
    spec = json.loads(source.backend_tokenizer.to_str())
    spec["model"]["vocab"]["ab"] = 7
    gapped = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(json.dumps(spec)))
    with pytest.raises(IncompatibleInputsError, match="not exactly 0..3"):
        extend_tokenizer(gapped, ["a b ab"], vocab_size=50)


def _spec_and_backend(kind: str):
    source = build_source(kind)
    return bpe_spec(source), source.backend_tokenizer
