import numpy as np
import pytest
import torch
from transformers import BertConfig, XLMRobertaConfig

from hyperofa.config.pretrain import PretrainConfig
from hyperofa.errors import ConfigError, IncompatibleInputsError
from hyperofa.pretrain.data import (
    SpecialIds,
    check_max_length,
    epoch_order,
    max_sequence_length,
    pack_corpus,
    temperature_probabilities,
)
from hyperofa.pretrain.datamodule import LMDataModule, MaskedBlocks, TemperatureSampler
from tests.tiny import unigram_tokenizer
from tests.unit.pretrain.conftest import make_texts


def test_packing_gives_max_length_blocks_with_specials_that_rebuild_the_text(tokenizer):
    texts = make_texts(7)
    blocks = pack_corpus(tokenizer, texts, 16, ["aaa", "bbb", "ccc"])
    ids = SpecialIds.from_tokenizer(tokenizer)
    assert blocks.input_ids.shape == (len(blocks), 16)
    for lang_index, lang in enumerate(["aaa", "bbb", "ccc"]):
        rows = np.flatnonzero(blocks.language == lang_index)
        assert (blocks.lengths[rows[:-1]] == 16).all()  # only a language's last block is short
        content = []
        for r in rows:
            row, n = blocks.input_ids[r], blocks.lengths[r]
            assert row[0] == ids.start and row[n - 1] == ids.end and (row[n:] == ids.pad).all()
            content.extend(row[1 : n - 1].tolist())
        pieces = tokenizer(texts[lang], add_special_tokens=False)["input_ids"]
        expected = [t for i, p in enumerate(pieces) for t in ([ids.end] if i else []) + p]
        assert content == expected


def test_temperature_sampling_matches_p_proportional_to_n_alpha():
    block_language = np.repeat([0, 1, 2], [400, 40, 4])
    p = temperature_probabilities(np.array([400, 40, 4]), 0.3)
    np.testing.assert_allclose(
        p, np.array([400, 40, 4]) ** 0.3 / (np.array([400, 40, 4]) ** 0.3).sum()
    )
    order = epoch_order(np.array([400, 40, 4]), p, 60_000, seed=1, epoch=0)
    freq = np.bincount(block_language[order], minlength=3) / len(order)
    np.testing.assert_allclose(freq, p, atol=0.006)
    small = order[block_language[order] == 2][:8]  # language 2 cycles through all its blocks
    assert sorted(small[:4].tolist()) == [440, 441, 442, 443] == sorted(small[4:].tolist())
    assert np.array_equal(temperature_probabilities(np.array([9, 1]), 0.0), [0.5, 0.5])


def reference_epoch_order(block_language, probabilities, num_samples, seed, epoch):
    """The order as first written, over the language of each block (any layout)."""
    rng = np.random.default_rng([seed, epoch])
    langs = rng.choice(len(probabilities), size=num_samples, p=probabilities)
    order = np.empty(num_samples, dtype=np.int64)
    for lang in range(len(probabilities)):
        where = np.flatnonzero(langs == lang)
        if not len(where):
            continue
        blocks = np.flatnonzero(block_language == lang)
        passes = -(-len(where) // len(blocks))
        perms = np.argsort(rng.random((passes, len(blocks))), axis=1).ravel()[: len(where)]
        order[where] = blocks[perms]
    return order


def test_epoch_order_from_counts_equals_the_order_over_block_languages():
    counts = np.array([7, 0, 30, 2])
    p = temperature_probabilities(counts, 0.3)
    want = reference_epoch_order(np.repeat(np.arange(4), counts), p, 500, seed=5, epoch=2)
    assert np.array_equal(epoch_order(counts, p, 500, seed=5, epoch=2), want)


def test_sampler_is_deterministic_and_resumes_from_its_state():
    langs = np.array([30, 5])  # blocks per language
    p = temperature_probabilities(np.array([30, 5]), 0.5)
    full = list(TemperatureSampler(langs, p, 40, seed=3))
    again = TemperatureSampler(langs, p, 40, seed=3)
    for key in full[:13]:
        again.consumed(key[1])
    resumed = TemperatureSampler(langs, p, 40, seed=3)
    resumed.load_state_dict(again.state_dict())
    assert list(resumed) == full[13:]
    ranks = [list(TemperatureSampler(langs, p, 40, seed=3, rank=r, world_size=2)) for r in (0, 1)]
    assert sorted(ranks[0] + ranks[1]) == sorted(full) and len(ranks[0]) == 20
    resumed.set_epoch(1)
    assert resumed.position == 0 and [k[0] for k in resumed][:1] == [1]
    assert list(TemperatureSampler(langs, p, 40, seed=4)) != full


def test_ranks_take_whole_micro_batches_so_an_update_matches_accumulation():
    counts = np.array([30, 5])
    p = temperature_probabilities(counts, 0.5)
    single = list(TemperatureSampler(counts, p, 48, seed=3, batch_size=2))
    ranks = [list(TemperatureSampler(counts, p, 48, 3, r, 2, batch_size=2)) for r in (0, 1)]
    # one process, micro-batches of 2 ↔ two ranks: micro-batch m on rank m mod 2
    micro = [single[i : i + 2] for i in range(0, 48, 2)]
    assert ranks[0] == [k for m in micro[0::2] for k in m]
    assert ranks[1] == [k for m in micro[1::2] for k in m]
    assert [len(TemperatureSampler(counts, p, 47, 3, r, 2, batch_size=2)) for r in (0, 1)] == [
        24,
        23,
    ]
    resumed = TemperatureSampler(counts, p, 48, 3, 1, 2, batch_size=2)
    resumed.consumed(ranks[1][5][1])  # rank 1 trained its third micro-batch (round 2)
    assert resumed.position == 12
    one = TemperatureSampler(counts, p, 48, seed=3, batch_size=2)  # resumed on one process
    one.load_state_dict(resumed.state_dict())
    assert list(one) == single[12:]


def test_masks_depend_on_the_key_only(tokenizer):
    blocks = pack_corpus(tokenizer, make_texts(5), 24, ["aaa", "bbb", "ccc"])
    data = MaskedBlocks(blocks, SpecialIds.from_tokenizer(tokenizer), 0.3, seed=0)
    a, b, c = data[(0, 7, 2)], data[(0, 7, 2)], data[(0, 8, 2)]
    assert torch.equal(a["input_ids"], b["input_ids"]) and torch.equal(a["labels"], b["labels"])
    assert not torch.equal(a["labels"], c["labels"])
    row = torch.from_numpy(blocks.input_ids[2].astype(np.int64))
    special = torch.isin(row, torch.tensor(sorted(data.ids.special))) | (a["attention_mask"] == 0)
    assert (a["labels"][special] == -100).all()
    chosen = a["labels"] != -100
    assert torch.equal(a["labels"][chosen], row[chosen])


def test_datamodule_counts_only_trained_batches_and_saves_its_position(tokenizer):
    blocks = pack_corpus(tokenizer, make_texts(5), 24, ["aaa", "bbb", "ccc"])
    ids = SpecialIds.from_tokenizer(tokenizer)
    dm = LMDataModule(
        blocks, blocks, ids, PretrainConfig(max_steps=5, batch_size=2, val_check_interval=5)
    )
    loader = iter(dm.train_dataloader())
    first, second = next(loader), next(loader)  # the second is only prefetched
    dm.on_after_batch_transfer(first, 0)
    dm.on_after_batch_transfer(next(iter(dm.val_dataloader())), 0)  # validation does not count
    assert dm.state_dict()["position"] == 2
    fresh = LMDataModule(blocks, blocks, ids, dm.cfg)
    fresh.load_state_dict(dm.state_dict())
    assert torch.equal(next(iter(fresh.train_dataloader()))["input_ids"], second["input_ids"])


def test_limit_per_language_keeps_the_first_blocks(tokenizer):
    blocks = pack_corpus(tokenizer, make_texts(9), 16, ["aaa", "bbb", "ccc"])
    kept = blocks.limit_per_language(2)
    assert kept.counts().tolist() == [2, 2, 2]
    assert np.array_equal(kept.input_ids[:2], blocks.input_ids[blocks.language == 0][:2])


def test_max_length_respects_positions_and_the_roberta_offset():
    bert = BertConfig(max_position_embeddings=64)
    xlmr = XLMRobertaConfig(max_position_embeddings=514, pad_token_id=1)
    assert max_sequence_length(bert) == 64 and max_sequence_length(xlmr) == 512
    check_max_length(512, xlmr)
    with pytest.raises(ConfigError, match="pretrain.max_length") as err:
        check_max_length(513, xlmr)
    assert "<= 512" in str(err.value)
    with pytest.raises(ConfigError, match="pretrain.max_length"):
        check_max_length(65, bert)


def test_a_tokenizer_without_a_mask_token_is_refused():
    with pytest.raises(IncompatibleInputsError, match="mask"):
        SpecialIds.from_tokenizer(unigram_tokenizer(["\u2581a"], with_mask=False))
