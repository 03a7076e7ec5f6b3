"""Why appended BPE merges need protection, and which merges `MergeRules` refuses."""

from __future__ import annotations

import json

from tokenizers import Tokenizer, models

from hyperofa.vocab.bpe_spec import Extension, MergeRules, extended_spec

SOURCE_VOCAB = {"<unk>": 0, "a": 1, "b": 2, "c": 3, "ab": 4, "▁": 5, "▁a": 6, "1": 7, "2": 8}
SOURCE_MERGES = [["a", "b"], ["▁", "a"]]


def spec(**model) -> dict:
    base = {"type": "BPE", "vocab": SOURCE_VOCAB, "merges": SOURCE_MERGES, "unk_token": "<unk>"}
    return {"added_tokens": [{"id": 0, "content": "<unk>"}], "model": {**base, **model}}


def tokenize(spec_: dict, text: str) -> list[str]:
    model = json.loads(Tokenizer(models.BPE()).to_str())
    model["model"] = {**model["model"], **spec_["model"]}
    return [t.value for t in Tokenizer.from_str(json.dumps(model)).model.tokenize(text)]


def test_an_appended_merge_fires_where_no_source_merge_applies():
    source = spec()
    target = extended_spec(source, Extension(["bc"], [("b", "c")]))
    assert target["model"]["merges"][:2] == SOURCE_MERGES
    # `ab` is merged first (lower rank), so `b c` never meets: unchanged
    assert tokenize(source, "abc") == tokenize(target, "abc") == ["ab", "c"]
    # no source merge applies to `b c`: the appended merge changes source text
    assert tokenize(source, "cbc") == ["c", "b", "c"] and tokenize(target, "cbc") == ["c", "bc"]


def test_rules_refuse_protected_pairs_and_count_them():
    rules = MergeRules(spec(), [("cbc", ["c", "b", "c"])], max_length=8, metaspace=False)
    assert not rules("b", "c") and not rules("c", "b")
    assert rules("a", "c") and rules.refused_for_protected == 2
    assert not rules("<unk>", "a") and rules.refused_for_protected == 2


def test_with_ignore_merges_a_protected_pre_token_never_becomes_a_piece():
    protected = [("ac", ["a", "c"]), ("abc", ["ab", "c"])]
    plain = MergeRules(spec(), protected, max_length=8, metaspace=False)
    whole = MergeRules(spec(ignore_merges=True), protected, max_length=8, metaspace=False)
    assert plain("a", "bc") and not whole("a", "bc") and not whole("ab", "c")


def test_rules_for_the_spelling_of_pieces():
    rules = MergeRules(spec(byte_fallback=True), [], max_length=4, metaspace=True)
    assert rules("▁a", "bc") and not rules("▁ab", "cd")  # 5 characters
    assert not rules("<0xC5>", "<0x8B>") and not rules("a", "<0x8B>")
    assert not rules("1", "2") and rules("▁", "1")  # the source has no two digits in a row
    assert not rules("a", "▁b") and not rules("ab", ".") and not rules("a", "1")
    assert rules("é", "\u0301") and rules("▁", "▁")  # a letter and a mark; a run of spaces
    digits = MergeRules(spec(vocab={**SOURCE_VOCAB, "12": 9}), [], max_length=4, metaspace=False)
    assert digits("1", "2") and digits("ab", ".")  # byte-level: the pre-tokenizer decides
