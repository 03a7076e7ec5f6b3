import numpy as np
import torch

from hyperofa.evaluate.retrieval import embed, mean_pool, retrieval_scores, top_k_accuracy
from hyperofa.evaluate.tasks import load_encoder


def _brute_force_top_k(queries, candidates, gold, k):
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    c = candidates / np.linalg.norm(candidates, axis=1, keepdims=True)
    ranked = np.argsort(-(q @ c.T), axis=1)[:, :k]
    return float(np.mean([g in row for g, row in zip(gold, ranked, strict=True)]))


def test_top_k_accuracy_matches_brute_force():
    rng = np.random.default_rng(0)
    candidates = rng.normal(size=(50, 12)).astype(np.float32)
    queries = candidates[:30] + rng.normal(scale=1.5, size=(30, 12)).astype(np.float32)
    gold = np.arange(30)
    got = top_k_accuracy(queries, candidates, gold, ks=(1, 5, 10))
    for k in (1, 5, 10):
        assert got[f"top{k}"] == _brute_force_top_k(queries, candidates, gold, k)
    assert 0 < got["top1"] < got["top10"] < 1  # the noise makes it a real ranking problem


def test_mean_pool_ignores_masked_positions():
    hidden = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    pooled = mean_pool(hidden, mask)
    torch.testing.assert_close(pooled[0], hidden[0, :2].mean(0))
    torch.testing.assert_close(pooled[1], hidden[1].mean(0))


def test_a_sentence_embeds_the_same_alone_and_in_a_padded_batch(model_dir):
    encoder, tok = load_encoder(model_dir)
    short, long = "the cat", "the big red dog sees a fast cat ."
    alone = embed(encoder, tok, [short], layer=2)
    batched = embed(encoder, tok, [long, short], layer=2, batch_size=2)
    assert len(tok(short)["input_ids"]) < len(tok(long)["input_ids"])  # so `short` was padded
    np.testing.assert_allclose(batched[1], alone[0], atol=1e-5)


def test_layer_index_picks_that_hidden_state(model_dir):
    encoder, tok = load_encoder(model_dir)
    texts = ["the cat runs", "a dog"]
    batch = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        states = encoder(**batch, output_hidden_states=True).hidden_states
    assert len(states) == 3  # embeddings + 2 layers
    for layer in range(3):
        want = mean_pool(states[layer], batch["attention_mask"]).numpy()
        want /= np.linalg.norm(want, axis=1, keepdims=True)
        np.testing.assert_allclose(embed(encoder, tok, texts, layer=layer), want, atol=1e-5)
    assert not np.allclose(embed(encoder, tok, texts, layer=1), embed(encoder, tok, texts, layer=2))


def test_retrieval_scores_average_the_languages(model_dir):
    encoder, tok = load_encoder(model_dir)
    english = ["the cat runs", "a dog sees", "the big red dog", "a fast cat"]
    pairs = {"xxa": (english, english), "xxb": (english[::-1], english[::-1])}
    scores = retrieval_scores(encoder, tok, pairs, ks=(1, 4), layer=1)
    assert scores["xxa"]["top1"] == 1.0 and scores["xxa"]["top4"] == 1.0  # identical texts
    assert scores["average"] == {"top1": 1.0, "top4": 1.0}
