import pytest
import torch
import torch.nn.functional as F

from hyperofa.models import MASKED_ENCODER, masked_lm_loss
from hyperofa.pretrain.data import SpecialIds, pack_corpus
from hyperofa.pretrain.datamodule import MaskedBlocks
from hyperofa.pretrain.module import LMModule, decay_groups
from tests.unit.pretrain.conftest import make_texts, tiny_config


def _batch(tokenizer, n=6, seed=0):
    blocks = pack_corpus(tokenizer, make_texts(6), 24, ["aaa", "bbb", "ccc"])
    data = MaskedBlocks(blocks, SpecialIds.from_tokenizer(tokenizer), 0.15, seed)
    items = [data[(0, i, i % len(blocks))] for i in range(n)]
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


@pytest.mark.parametrize("kind", ["plain", "factorized"])
def test_logits_at_masked_positions_give_the_full_logits_loss(model_dirs, tokenizer, kind):
    model = MASKED_ENCODER.load(model_dirs[kind])
    batch = _batch(tokenizer)
    labels = batch["labels"]
    selected = labels != -100
    with torch.no_grad():
        loss, part = masked_lm_loss(model, batch["input_ids"], batch["attention_mask"], labels)
        full = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    assert part.shape == (int(selected.sum()), len(tokenizer))
    torch.testing.assert_close(part, full[selected])
    reference = F.cross_entropy(full.flatten(0, 1), labels.flatten(), ignore_index=-100)
    torch.testing.assert_close(loss, reference)


def test_validation_losses_per_language_equal_a_brute_force_mean(model_dirs, tokenizer):
    model = MASKED_ENCODER.load(model_dirs["plain"])
    module = LMModule(model, MASKED_ENCODER, tiny_config(), ["aaa", "bbb", "ccc"])
    batch = _batch(tokenizer, n=9)
    module.on_validation_epoch_start()
    with torch.no_grad():
        module.validation_step(batch, 0)
        full = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    token_loss = F.cross_entropy(
        full.transpose(1, 2), batch["labels"], ignore_index=-100, reduction="none"
    )
    for lang in range(3):
        rows = batch["language"] == lang
        chosen = (batch["labels"] != -100) & rows[:, None]
        want = token_loss[chosen].double().mean()
        got = module._val_sum[lang] / module._val_count[lang]
        torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-6)


def test_biases_and_norms_are_not_decayed(model_dirs):
    model = MASKED_ENCODER.load(model_dirs["factorized"])
    decayed, plain = decay_groups(model, 0.01)
    assert model.bias in [p for p in plain["params"]] and plain["weight_decay"] == 0.0
    assert model.get_input_embeddings().coordinates.weight in decayed["params"]
    assert len(decayed["params"]) + len(plain["params"]) == len(list(model.parameters()))
