"""warm_up_mlm_head trains the MLM head only: the encoder and the embeddings stay bit-for-bit."""

from __future__ import annotations

import pytest
import torch

from hyperofa.assets.head_warmup import head_parameters, masked_lm_loss, warm_up_mlm_head
from hyperofa.errors import EmptyInputError
from hyperofa.masking import IGNORE_INDEX

VOCAB, MASK_ID = 64, 4
HEAD_KEYS = ("cls.predictions.transform.", "cls.predictions.bias", "cls.predictions.decoder.bias")


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors gain nothing from threads, and on an oversubscribed machine OpenMP waits cost ~100×."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _tiny_model(seed: int = 0):
    from transformers import BertConfig, BertForMaskedLM

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=VOCAB,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
        pad_token_id=1,
    )
    return BertForMaskedLM(config)


def _batches(n: int, seed: int, b: int = 8, length: int = 24) -> list[dict[str, torch.Tensor]]:
    """Zipf-like ids in [5, VOCAB) (so a head can learn their prior), <s> … </s> + padding."""
    g = torch.Generator().manual_seed(seed)
    weights = 1.0 / torch.arange(1, VOCAB - 4, dtype=torch.float)
    out = []
    for _ in range(n):
        ids = 5 + torch.multinomial(weights, b * length, replacement=True, generator=g)
        ids = ids.view(b, length)
        ids[:, 0], ids[:, -1], ids[0, -6:] = 0, 2, 1
        out.append(
            {
                "input_ids": ids,
                "attention_mask": (ids != 1).long(),
                "special_tokens_mask": (ids < 3).long(),
            }
        )
    return out


def _is_head(name: str) -> bool:
    return name.startswith(HEAD_KEYS)


def test_only_the_head_trains_and_the_eval_loss_drops():
    model = _tiny_model()
    was_training = model.training
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = warm_up_mlm_head(
        model,
        _batches(5, seed=1),
        steps=40,
        lr=1e-2,
        mask_token_id=MASK_ID,
        seed=0,
        eval_batches=_batches(2, seed=2),
    )
    after = model.state_dict()
    for name, value in before.items():
        if _is_head(name):
            continue
        assert torch.equal(after[name], value), name
    changed = [n for n in before if _is_head(n) and not torch.equal(after[n], before[n])]
    assert "cls.predictions.transform.dense.weight" in changed and "cls.predictions.bias" in changed
    assert result["steps"] == 40
    assert result["trainable_params"] == 16 * 16 + 16 + 2 * 16 + VOCAB
    assert result["loss_after"] < result["loss_before"]
    assert all(p.requires_grad for p in model.parameters())  # flags restored
    assert model.training == was_training


def test_same_seed_same_head():
    kwargs = dict(steps=5, lr=1e-2, mask_token_id=MASK_ID, seed=3)
    a, b = _tiny_model(), _tiny_model()
    ra = warm_up_mlm_head(a, _batches(2, 1), eval_batches=_batches(1, 2), **kwargs)
    rb = warm_up_mlm_head(b, _batches(2, 1), eval_batches=_batches(1, 2), **kwargs)
    assert ra["loss_after"] == rb["loss_after"]
    for pa, pb in zip(head_parameters(a), head_parameters(b), strict=True):
        assert torch.equal(pa, pb)


def test_head_parameters_exclude_the_tied_decoder_weight():
    model = _tiny_model()
    ids = {id(p) for p in head_parameters(model)}
    assert id(model.bert.embeddings.word_embeddings.weight) not in ids
    assert id(model.cls.predictions.bias) in ids


def test_masked_only_loss_equals_the_full_mlm_loss():
    model = _tiny_model().eval()
    batch = _batches(1, seed=4)[0]
    labels = torch.full_like(batch["input_ids"], IGNORE_INDEX)
    labels[:, 3:9] = batch["input_ids"][:, 3:9]
    ours, n = masked_lm_loss(model, batch["input_ids"], batch["attention_mask"], labels)
    with torch.no_grad():
        full = model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels
        )
    assert n == 8 * 6
    torch.testing.assert_close(ours, full.loss)


def test_empty_batches_raise_and_leave_the_model_as_it_was():
    model = _tiny_model().train()
    with pytest.raises(EmptyInputError):
        warm_up_mlm_head(model, [], 3, 1e-3, MASK_ID, 0, _batches(1, 2))
    assert model.training and all(p.requires_grad for p in model.parameters())


def test_trailing_padding_columns_change_nothing():
    def padded(batches, extra=5):
        out = []
        for b in batches:
            pad = {"input_ids": 1, "attention_mask": 0, "special_tokens_mask": 1}
            out.append(
                {k: torch.nn.functional.pad(v, (0, extra), value=pad[k]) for k, v in b.items()}
            )
        return out

    kwargs = dict(steps=3, lr=1e-2, mask_token_id=MASK_ID, seed=5)
    plain = warm_up_mlm_head(_tiny_model(), _batches(2, 1), eval_batches=_batches(1, 2), **kwargs)
    wide = warm_up_mlm_head(
        _tiny_model(), padded(_batches(2, 1)), eval_batches=padded(_batches(1, 2)), **kwargs
    )
    assert plain["loss_before"] == wide["loss_before"] and plain["loss_after"] == wide["loss_after"]
