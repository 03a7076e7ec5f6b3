"""mask_tokens: BERT 15 % selection with 80/10/10 replacement, specials never touched."""

from __future__ import annotations

import pytest
import torch

from hyperofa.errors import ConfigError, IncompatibleInputsError
from hyperofa.masking import IGNORE_INDEX, mask_tokens

MASK_ID, VOCAB = 4, 1000


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors gain nothing from threads, and on an oversubscribed machine OpenMP waits cost ~100×."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _batch(b: int = 64, length: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids in [10, VOCAB) with <s>=0 first, </s>=2 last and pad=1 tails of random length."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(10, VOCAB, (b, length), generator=g)
    lengths = torch.randint(3, length + 1, (b,), generator=g)
    positions = torch.arange(length).expand(b, length)
    ids[:, 0] = 0
    ids[positions == (lengths - 1)[:, None]] = 2
    ids[positions >= lengths[:, None]] = 1
    return ids, (ids == 0) | (ids == 1) | (ids == 2)


def test_specials_and_padding_are_never_selected_or_changed():
    ids, special = _batch()
    inputs, labels = mask_tokens(
        ids, special, MASK_ID, VOCAB, 0.5, torch.Generator().manual_seed(1)
    )
    assert (labels[special] == IGNORE_INDEX).all()
    assert torch.equal(inputs[special], ids[special])


def test_labels_hold_the_original_ids_and_unselected_inputs_stay():
    ids, special = _batch()
    original = ids.clone()
    inputs, labels = mask_tokens(
        ids, special, MASK_ID, VOCAB, generator=torch.Generator().manual_seed(2)
    )
    selected = labels != IGNORE_INDEX
    assert torch.equal(labels[selected], ids[selected])
    assert torch.equal(inputs[~selected], ids[~selected])
    assert torch.equal(ids, original)
    assert inputs.dtype == labels.dtype == torch.long


def test_rate_and_80_10_10_split():
    ids, special = _batch(256, 256)
    inputs, labels = mask_tokens(
        ids, special, MASK_ID, VOCAB, generator=torch.Generator().manual_seed(3)
    )
    selected = labels != IGNORE_INDEX
    n_maskable, n = int((~special).sum()), int(selected.sum())
    assert abs(n / n_maskable - 0.15) < 0.005  # ~30k tokens of ~200k: 5 sigma ≈ 0.004
    masked = inputs[selected] == MASK_ID
    kept = inputs[selected] == ids[selected]
    randomized = ~masked & ~kept
    assert abs(float(masked.float().mean()) - 0.8) < 0.015
    # a random draw can hit the original id (1/1000), counted as kept
    assert abs(float(kept.float().mean()) - 0.1) < 0.012
    assert abs(float(randomized.float().mean()) - 0.1) < 0.012
    assert ((inputs >= 0) & (inputs < VOCAB)).all()


def test_same_seed_same_output_other_seed_other_output():
    ids, special = _batch()
    a = mask_tokens(ids, special, MASK_ID, VOCAB, generator=torch.Generator().manual_seed(7))
    b = mask_tokens(ids, special, MASK_ID, VOCAB, generator=torch.Generator().manual_seed(7))
    c = mask_tokens(ids, special, MASK_ID, VOCAB, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])


def test_probability_bounds():
    ids, special = _batch(4, 16)
    _, none = mask_tokens(ids, special, MASK_ID, VOCAB, 0.0)
    _, every = mask_tokens(ids, special, MASK_ID, VOCAB, 1.0)
    assert (none == IGNORE_INDEX).all()
    assert torch.equal(every != IGNORE_INDEX, ~special)


def test_bad_inputs_raise_named_errors():
    ids, special = _batch(2, 8)
    with pytest.raises(IncompatibleInputsError):
        mask_tokens(ids, special[:, :4], MASK_ID, VOCAB)
    with pytest.raises(ConfigError, match="mlm_probability"):
        mask_tokens(ids, special, MASK_ID, VOCAB, 1.5)
