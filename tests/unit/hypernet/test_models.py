import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from hyperofa.errors import IncompatibleInputsError
from hyperofa.hypernet.data import TokenWordSets, collate
from hyperofa.hypernet.models import (
    BiLSTMHypernet,
    Hypernet,
    build_hypernet,
    reverse_within_lengths,
)

from .conftest import make_problem, tiny_configs


def _net(architecture: str, dropout: float = 0.0, num_layers: int = 2):
    problem = make_problem()
    cfg, _ = tiny_configs(architecture)
    cfg.dropout, cfg.num_layers = dropout, num_layers
    torch.manual_seed(0)
    return build_hypernet(cfg, problem.word_vectors, output_dim=6), problem


@pytest.mark.parametrize("architecture", ["bilstm", "setformer"])
@pytest.mark.parametrize("train_mode", [False, True])
def test_padded_batch_equals_items_one_by_one(architecture, train_mode):
    net, p = _net(architecture)
    net.train(train_mode)  # dropout 0: train mode differs only in code paths (e.g. fast paths)
    tokens = np.flatnonzero(np.diff(p.indptr) > 0)[:12]
    data = TokenWordSets(p.indptr, p.indices, tokens, p.targets, max_context=12)
    assert len(set(data.lengths().tolist())) > 3  # really ragged
    batch = collate([data[i] for i in range(len(data))])
    with torch.no_grad():
        together = net(batch.word_ids, batch.lengths)
        alone = torch.cat([net(*collate([data[i]])[:2]) for i in range(len(data))])
    assert together.shape == (12, 6)
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("architecture", ["bilstm", "setformer"])
def test_extra_padding_columns_change_nothing(architecture):
    net, p = _net(architecture)
    net.eval()
    data = TokenWordSets(p.indptr, p.indices, np.flatnonzero(np.diff(p.indptr) > 0)[:6], None, 12)
    batch = collate([data[i] for i in range(6)])
    wider = torch.cat([batch.word_ids, torch.full((6, 5), 3)], dim=1)  # junk beyond lengths
    with torch.no_grad():
        torch.testing.assert_close(net(wider, batch.lengths), net(batch.word_ids, batch.lengths))


@pytest.mark.parametrize("architecture", ["bilstm", "setformer"])
def test_word_table_is_frozen_padded_and_kept_out_of_the_state_dict(architecture):
    net, p = _net(architecture)
    assert isinstance(net, Hypernet) and net.output_dim == 6 and net.max_context == 12
    table = net.words.weight
    assert not table.requires_grad
    rows = torch.arange(len(p.word_vectors) + 1).unsqueeze(0)  # PAD, then every word
    looked_up = net.words(rows)[0]
    assert torch.equal(looked_up[0], torch.zeros(8))  # PAD reads as zeros
    assert torch.equal(looked_up[1:], torch.from_numpy(p.word_vectors))
    # the vectors are shared, not copied (ColexNet+ is ~2.9 GB)
    assert table.data_ptr() == torch.from_numpy(p.word_vectors).data_ptr()
    assert not any(k.startswith("words") for k in net.state_dict())
    assert all(p.requires_grad for p in net.parameters())


def test_bilstm_has_the_public_code_head():
    net, _ = _net("bilstm", num_layers=1)
    shapes = [tuple(m.weight.shape) for m in net.head if hasattr(m, "weight")]
    assert shapes == [(2 * 6, 2 * 12), (6, 2 * 6)]  # Linear(2H → 2D'), Linear(2D' → D')


def _packed_reference(net: BiLSTMHypernet, num_layers: int) -> nn.LSTM:
    """hyper-ofa's nn.LSTM(bidirectional=True), with our weights copied in."""
    ref = nn.LSTM(8, 12, num_layers=num_layers, batch_first=True, bidirectional=True)
    with torch.no_grad():
        for layer in range(num_layers):
            for suffix, lstm in (
                ("", net.forward_lstms[layer]),
                ("_reverse", net.backward_lstms[layer]),
            ):
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(ref, f"{name}_l{layer}{suffix}").copy_(getattr(lstm, f"{name}_l0"))
    return ref


@pytest.mark.parametrize("num_layers", [1, 2])
def test_bilstm_equals_a_packed_bidirectional_lstm(num_layers):
    net, p = _net("bilstm", num_layers=num_layers)
    net.eval()
    ref = _packed_reference(net, num_layers).eval()
    data = TokenWordSets(p.indptr, p.indices, np.flatnonzero(np.diff(p.indptr) > 0)[:16], None, 12)
    batch = collate([data[i] for i in range(16)])
    with torch.no_grad():
        packed = pack_padded_sequence(
            net.words(batch.word_ids), batch.lengths, batch_first=True, enforce_sorted=False
        )
        _, (h_n, _) = ref(packed)
        expected = net.head(torch.cat([h_n[-2], h_n[-1]], dim=-1))
        torch.testing.assert_close(net(batch.word_ids, batch.lengths), expected)


def test_reverse_within_lengths_leaves_padding_in_place():
    x = torch.arange(8.0).reshape(2, 4, 1)
    out = reverse_within_lengths(x, torch.tensor([3, 4]))
    assert out[..., 0].tolist() == [[2, 1, 0, 3], [7, 6, 5, 4]]


def test_build_refuses_mismatched_or_missing_dimensions():
    cfg, _ = tiny_configs()
    with pytest.raises(IncompatibleInputsError, match="input_dim"):
        build_hypernet(cfg, np.zeros((5, 7), np.float32), output_dim=3)
    with pytest.raises(IncompatibleInputsError, match="output_dim"):
        build_hypernet(cfg, np.zeros((5, 8), np.float32))
