import numpy as np
import pytest
import torch

from hyperofa.assemble.build import assemble, source_embeddings, target_bias
from hyperofa.assemble.modeling import AssembledForMaskedLM
from hyperofa.factorize import factorize
from tests.tiny import tiny_bert, tiny_xlmr


def _batch(vocab, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, vocab, (3, 10), generator=g)
    mask = torch.ones_like(ids)
    mask[2, 7:] = 0
    labels = torch.full_like(ids, -100)
    labels[:, 2], labels[0, 5] = ids[:, 2], ids[0, 5]
    return ids, mask, labels


@pytest.mark.parametrize("make", [tiny_bert, tiny_xlmr])
def test_identity_assembly_reproduces_the_source_logits(make):
    src = make(40)
    E = source_embeddings(src)
    bias = src.get_output_embeddings().bias.detach().numpy()
    model = assemble(src, E, None, bias)
    ids, mask, _ = _batch(40)
    with torch.no_grad():
        ref = src(input_ids=ids, attention_mask=mask).logits
        got = model(ids, mask)["logits"]
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("dim", [None, 4])
def test_save_and_reload_gives_identical_logits(tmp_path, dim):
    src = tiny_xlmr(40)
    E = source_embeddings(src)
    rows, prim = (E, None) if dim is None else factorize(E, dim)
    rows = np.concatenate([rows, rows[:7] * 0.5])  # a bigger target vocabulary
    model = assemble(src, rows, prim, np.zeros(len(rows), np.float32))
    model.save_pretrained(tmp_path / "m")
    again = AssembledForMaskedLM.from_pretrained(tmp_path / "m")
    ids, mask, labels = _batch(47)
    with torch.no_grad():
        a, b = model(ids, mask, labels), again(ids, mask, labels)
    assert torch.equal(a["logits"], b["logits"]) and torch.equal(a["loss"], b["loss"])
    assert a["logits"].shape == (int((labels != -100).sum()), 47)


def test_masked_only_logits_equal_full_logits_at_those_positions():
    src = tiny_bert(30)
    E = source_embeddings(src)
    F, P = factorize(E, 16)  # full rank: same function as the source
    model = assemble(src, F, P, np.zeros(30, np.float32))
    ids, mask, labels = _batch(30)
    with torch.no_grad():
        full = model(ids, mask)["logits"]
        part = model(ids, mask, labels)
    sel = labels != -100
    torch.testing.assert_close(part["logits"], full[sel])
    ref = torch.nn.functional.cross_entropy(full[sel], labels[sel])
    torch.testing.assert_close(part["loss"], ref)


def test_factorized_head_is_tied_to_the_input_factors():
    src = tiny_bert(30)
    F, P = factorize(source_embeddings(src), 5)
    model = assemble(src, F, P, np.zeros(30, np.float32))
    ids, mask, labels = _batch(30)
    model(ids, mask, labels)["loss"].backward()
    emb = model.word_embeddings
    assert emb.coordinates.weight.grad is not None and emb.primitives.weight.grad is not None
    names = [n for n, _ in model.named_parameters()]
    assert not any("decoder" in n for n in names)


def test_target_bias_copies_source_bias_for_shared_tokens():
    b = target_bias(np.array([1.0, 2.0, 3.0], np.float32), np.array([2, -1, 0, -1]))
    np.testing.assert_allclose(b, [3.0, 2.0, 1.0, 2.0])
