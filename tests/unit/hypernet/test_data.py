import numpy as np
import pytest
import torch

from hyperofa.errors import ConfigError
from hyperofa.hypernet.data import (
    Augmentation,
    LengthGroupedSampler,
    TokenWordSets,
    augment_subset,
    collate,
    eval_batches,
    split_tokens,
)
from hyperofa.hypernet.models import PAD_ID


def test_split_is_deterministic_disjoint_and_sized_like_hyper_ofa():
    tokens = np.arange(1000, 2000)
    train, val, test = split_tokens(tokens, (0.97, 0.025, 0.005), seed=42)
    assert (len(train), len(val), len(test)) == (970, 25, 5)
    assert np.array_equal(np.sort(np.concatenate([train, val, test])), tokens)
    again = split_tokens(tokens, (0.97, 0.025, 0.005), seed=42)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again, strict=True))
    other = split_tokens(tokens, (0.97, 0.025, 0.005), seed=43)
    assert not np.array_equal(val, other[1])
    with pytest.raises(ConfigError, match="split"):
        split_tokens(tokens, (0.9, 0.2, 0.0), seed=0)


def test_augmentation_keeps_at_least_half_in_order_and_skips_short_tokens():
    rng = np.random.default_rng(0)
    words = np.arange(100, 111)  # 11 words
    changed = 0
    for _ in range(400):
        kept = augment_subset(words, rng, p=0.5, min_words=4, keep_range=(0.5, 1.0))
        assert len(kept) >= len(words) / 2
        assert np.all(np.isin(kept, words)) and np.all(np.diff(kept) > 0)  # a subset, in order
        changed += len(kept) < len(words)
    assert 120 < changed < 230  # ~p = 0.5 of the draws (minus those keeping all 11)
    for n in range(1, 5):  # ≤ 4 words: never touched, even with p = 1
        short = np.arange(n)
        assert all(augment_subset(short, rng, 1.0, 4, (0.5, 1.0)) is short for _ in range(50))
    five = np.arange(5)  # ceil: 0.5 of 5 keeps 3, never 2
    assert min(len(augment_subset(five, rng, 1.0, 4, (0.5, 0.5))) for _ in range(50)) == 3


def _dataset(augmentation=None, max_context=3):
    indptr = np.array([0, 2, 2, 7, 8])  # token 1 has no words
    indices = np.array([5, 6, 0, 1, 2, 3, 4, 9])
    targets = np.arange(4 * 2, dtype=np.float32).reshape(4, 2)
    return TokenWordSets(indptr, indices, np.array([0, 2, 3]), targets, max_context, augmentation)


def test_dataset_truncates_to_the_first_words_and_shifts_past_pad():
    data = _dataset()
    assert data.lengths().tolist() == [2, 3, 1]
    token, rows, target = data[1]
    assert token == 2 and rows.tolist() == [1, 2, 3]  # words 0, 1, 2 → rows 1, 2, 3
    assert target.tolist() == [4.0, 5.0]


def test_augmented_items_depend_only_on_seed_epoch_and_token():
    aug = Augmentation(p=1.0, min_words=2, keep_range=(0.5, 0.6), seed=1)
    data = _dataset(aug, max_context=10)
    a, b = data[(0, 1)][1], data[(0, 1)][1]
    assert np.array_equal(a, b) and len(a) == 3  # ceil(5 · u), u ∈ [0.5, 0.6]
    draws = {tuple(data[(epoch, 1)][1]) for epoch in range(20)}
    assert len(draws) > 1  # a new subset each epoch
    assert np.array_equal(data[1][1], [1, 2, 3, 4, 5])  # an int key is the eval view: unchanged


def test_collate_pads_with_pad_and_returns_lengths():
    batch = collate([_dataset()[i] for i in range(3)])
    assert batch.word_ids.tolist() == [[6, 7, PAD_ID], [1, 2, 3], [10, PAD_ID, PAD_ID]]
    assert batch.lengths.tolist() == [2, 3, 1]
    assert batch.token_ids.tolist() == [0, 2, 3]
    assert batch.targets.dtype == torch.float32 and batch.targets.shape == (3, 2)


def _heavy_tailed(n=1000, seed=0):
    return np.minimum(np.random.default_rng(seed).zipf(1.5, n), 256)


def test_sampler_yields_each_index_once_per_epoch_and_groups_lengths():
    lengths = _heavy_tailed()
    sampler = LengthGroupedSampler(lengths, batch_size=32, chunk_factor=4, seed=0)
    assert len(sampler) == 1000 // 32
    for epoch in range(3):
        sampler.set_epoch(epoch)
        batches = list(sampler)
        assert len(batches) == len(sampler) and all(len(b) == 32 for b in batches)
        assert {e for b in batches for e, _ in b} == {epoch}
        seen = [i for b in batches for _, i in b]
        assert len(set(seen)) == len(seen) == 1000 - 1000 % 32  # remainder dropped, no repeats
    random = LengthGroupedSampler(lengths, 32, 4, seed=0, group_by_length=False)
    grouped_b, random_b = ([lengths[[i for _, i in b]] for b in s] for s in (batches, random))
    # max − min within a batch ≪ the global spread (255), and far less padding than random
    assert np.median([np.ptp(b) for b in grouped_b]) < 0.05 * np.ptp(lengths)
    assert np.median([np.ptp(b) for b in random_b]) > 0.5 * np.ptp(lengths)
    padded = [sum(32 * b.max() for b in bs) for bs in (grouped_b, random_b)]
    assert padded[0] < 0.5 * padded[1]


def test_sampler_order_is_a_function_of_seed_and_epoch_and_resumes_mid_epoch():
    lengths = _heavy_tailed(200)
    a, b = LengthGroupedSampler(lengths, 16, seed=5), LengthGroupedSampler(lengths, 16, seed=5)
    a.set_epoch(2), b.set_epoch(2)
    assert list(a) == list(b)
    b.set_epoch(3)
    assert list(a) != list(b)
    fresh = LengthGroupedSampler(lengths, 16, seed=5)
    fresh.resume(epoch=2, batches_done=4)
    assert list(fresh) == list(a)[4:]
    fresh.set_epoch(2)
    assert list(fresh) == list(a)  # the skip applies to one iteration only


def test_eval_batches_cover_every_position_once():
    lengths = _heavy_tailed(50)
    for by_length in (False, True):
        batches = eval_batches(lengths, 8, by_length)
        assert sorted(i for b in batches for i in b) == list(range(50))
    assert eval_batches(lengths, 8)[0] == list(range(8))
