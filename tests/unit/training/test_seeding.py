import random

import numpy as np
import pytest
import torch

from hyperofa.training.schedules import warmup_linear_decay, warmup_linear_to_zero
from hyperofa.training.seeding import keyed_seed, rng_state, scoped_global_state, set_rng_state


def test_rng_state_round_trips():
    state = rng_state()
    a = (random.random(), np.random.rand(), torch.rand(1))
    set_rng_state(state)
    b = (random.random(), np.random.rand(), torch.rand(1))
    assert a[:2] == b[:2] and torch.equal(a[2], b[2])


def test_scoped_global_state_restores_the_rng_and_the_deterministic_flag():
    torch.manual_seed(0)
    before = torch.are_deterministic_algorithms_enabled()
    with scoped_global_state():
        torch.use_deterministic_algorithms(not before)
        torch.rand(5)
    assert torch.are_deterministic_algorithms_enabled() == before
    torch.manual_seed(0)
    expected = torch.rand(1)
    torch.manual_seed(0)
    with scoped_global_state():
        torch.rand(5)
    assert torch.equal(torch.rand(1), expected)


def test_keyed_seeds_differ_per_key_and_repeat():
    assert keyed_seed(1, 2, 3) == keyed_seed(1, 2, 3) != keyed_seed(1, 2, 4)
    assert 0 <= keyed_seed(9) < 2**63


def test_warmup_then_linear_decay_never_runs_at_zero():
    lrs = [warmup_linear_decay(s, 3, 10) for s in range(10)]
    assert lrs[:4] == [0.25, 0.5, 0.75, 1.0]
    assert all(a > b for a, b in zip(lrs[3:], lrs[4:], strict=False))
    assert lrs[-1] == pytest.approx(1 / 7)
    assert warmup_linear_decay(0, 0, 4) == 1.0


def test_fine_tuning_schedule_warms_up_then_reaches_zero():
    lrs = [warmup_linear_to_zero(s, 2, 6) for s in range(7)]
    assert lrs[:2] == [0.5, 1.0] and lrs[-1] == 0.0
    assert all(a >= b for a, b in zip(lrs[1:], lrs[2:], strict=False))
