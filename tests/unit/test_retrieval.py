import numpy as np
import torch

from hyperofa.evaluate.retrieval import first_layers, mean_pool, top_k_accuracy
from tests.tiny import tiny_bert


def test_first_layers_gives_the_same_hidden_state_as_the_full_model():
    enc = tiny_bert(50).bert
    ids = torch.randint(4, 50, (2, 7))
    with torch.no_grad():
        full = enc(input_ids=ids, output_hidden_states=True).hidden_states
        with first_layers(enc, 1):
            part = enc(input_ids=ids, output_hidden_states=True).hidden_states
    assert len(part) == 2 and len(enc.encoder.layer) == 2  # restored afterwards
    torch.testing.assert_close(part[1], full[1])


def test_mean_pool_ignores_padding():
    h = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    pooled = mean_pool(h, mask)
    torch.testing.assert_close(pooled[0], h[0, :2].mean(0))
    torch.testing.assert_close(pooled[1], h[1].mean(0))


def test_top_k_accuracy_against_brute_force():
    rng = np.random.default_rng(0)
    q, c = rng.normal(size=(40, 8)).astype(np.float32), rng.normal(size=(60, 8)).astype(np.float32)
    gold = rng.integers(0, 60, 40)
    got = top_k_accuracy(q, c, gold, ks=(1, 5, 10))
    qn, cn = (
        q / np.linalg.norm(q, axis=1, keepdims=True),
        c / np.linalg.norm(c, axis=1, keepdims=True),
    )
    rank = np.argsort(-(qn @ cn.T), axis=1)
    for k in (1, 5, 10):
        assert got[f"top{k}"] == np.mean([gold[i] in rank[i, :k] for i in range(40)])
