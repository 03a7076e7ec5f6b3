import math

import pytest
import torch

from hyperofa.errors import HyperofaError
from hyperofa.hypernet.loss import NonFiniteLossError, hypernet_loss, info_nce, normalized_l1

PRED = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
TARGET = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
T = 0.5


def _by_hand() -> tuple[float, float]:
    # cosines: p0·t0 = 1, p0·t1 = 1/√2, p1·t0 = 0, p1·t1 = 1/√2; divided by T = 0.5
    r = math.sqrt(2)
    row0 = -2.0 + math.log(math.exp(2.0) + math.exp(r))
    row1 = -r + math.log(math.exp(0.0) + math.exp(r))
    contrastive = (row0 + row1) / 2
    l1 = (0 + 0 + 1 + 0) / 4 / ((1 + 0 + 1 + 1) / 4)  # mean|p−t| / mean|t| = 1/3
    return contrastive, l1


def test_terms_match_a_hand_computed_case():
    contrastive, l1 = _by_hand()
    assert info_nce(PRED, TARGET, T).item() == pytest.approx(contrastive, rel=1e-6)
    assert normalized_l1(PRED, TARGET).item() == pytest.approx(1 / 3, rel=1e-6)
    total, parts = hypernet_loss(PRED, TARGET, lam=0.1, temperature=T)
    assert parts["contrastive"].item() == pytest.approx(contrastive, rel=1e-6)
    assert parts["l1"].item() == pytest.approx(l1, rel=1e-6)
    assert total.item() == pytest.approx(0.1 * contrastive + 0.9 * l1, rel=1e-6)


def test_lambda_extremes_give_one_term_exactly():
    contrastive, l1 = _by_hand()
    assert hypernet_loss(PRED, TARGET, 0.0, T)[0].item() == pytest.approx(l1, rel=1e-6)
    assert hypernet_loss(PRED, TARGET, 1.0, T)[0].item() == pytest.approx(contrastive, rel=1e-6)
    # a zero-weighted term is left out, not multiplied by 0 (0·inf would be NaN)
    zero_target = torch.zeros(2, 2)
    assert torch.isinf(normalized_l1(PRED, zero_target))
    assert torch.isfinite(hypernet_loss(PRED, zero_target, 1.0, T)[0])


def test_in_batch_negatives_make_a_perfect_match_cheaper_than_a_swap():
    target = torch.eye(3)
    good = info_nce(target.clone(), target, 0.25)
    swapped = info_nce(target[[1, 0, 2]], target, 0.25)
    assert good < swapped
    assert info_nce(torch.ones(1, 3), torch.ones(1, 3), 0.25).item() == pytest.approx(0.0)


def test_gradients_flow_to_the_prediction():
    pred = PRED.clone().requires_grad_(True)
    hypernet_loss(pred, TARGET, 0.1, T)[0].backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0


def test_non_finite_error_is_a_named_hyperofa_error():
    err = NonFiniteLossError(step=7, epoch=1, parts={"loss": float("nan")}, token_ids=[5, 9])
    assert isinstance(err, HyperofaError)
    assert "step 7" in str(err) and "[5, 9]" in str(err)
