import pytest
import torch
import torch.nn.functional as F

from hyperofa.models import CAUSAL_DECODER, CausalDecoderFamily, chunk_tokens
from hyperofa.models.chunked_loss import next_token_labels
from tests.unit.models.causal_common import EXTRA, SOURCE_VOCAB, assembled, batch

VOCAB = SOURCE_VOCAB + EXTRA
CASES = [("gemma3_softcap", None), ("llama_untied", None), ("gemma3_tied", 8), ("phi_biased", 8)]
FOUR_POSITIONS = CausalDecoderFamily(logits_budget=4 * 4 * VOCAB)  # chunks of 4 positions


def _inputs():
    ids, mask = batch(VOCAB)
    labels = ids.masked_fill(mask == 0, -100)
    labels[0, 3] = -100  # a position that is not scored
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def _full_logits_loss(model, inputs):
    logits = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits
    targets = inputs["labels"][:, 1:].flatten()
    return F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), targets, ignore_index=-100)


def _loss_and_grads(model, loss_fn):
    model.zero_grad(set_to_none=True)
    loss = loss_fn()
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize(("kind", "dim"), CASES)
def test_the_chunked_loss_and_its_gradients_equal_the_full_logits_ones(kind, dim):
    model, inputs = assembled(kind, dim=dim).train(), _inputs()
    chunked, grads = _loss_and_grads(
        model, lambda: FOUR_POSITIONS.training_loss(model, inputs).loss
    )
    full, full_grads = _loss_and_grads(model, lambda: _full_logits_loss(model, inputs))
    torch.testing.assert_close(chunked, full, atol=1e-5, rtol=0)
    assert grads.keys() == full_grads.keys()
    for name, grad in grads.items():
        torch.testing.assert_close(grad, full_grads[name], atol=1e-5, rtol=0, msg=name)


def test_per_token_losses_and_positions_say_which_token_was_scored_where():
    model, inputs = assembled("gemma3_softcap"), _inputs()
    with torch.no_grad():
        out = FOUR_POSITIONS.training_loss(model, inputs)
        log_probs = model(input_ids=inputs["input_ids"]).logits.float().log_softmax(-1)
    rows, cols = out.positions.nonzero(as_tuple=True)
    assert out.logits is None and len(rows) == 3 * 9 - 3 - 1  # padding, last position, label −100
    assert torch.equal(out.targets, inputs["input_ids"][rows, cols + 1])
    expected = -log_probs[rows, cols, out.targets]
    torch.testing.assert_close(out.token_losses, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(out.loss, expected.mean(), atol=1e-5, rtol=0)


def _logits_shaped_saved_tensors(loss_fn) -> list[tuple[int, ...]]:
    shapes = []

    def pack(tensor):
        if tensor.shape and tensor.shape[-1] == VOCAB:
            shapes.append(tuple(tensor.shape))
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss_fn()
    return shapes


def test_backward_keeps_no_logits():
    model, inputs = assembled("llama_untied").train(), _inputs()
    assert _logits_shaped_saved_tensors(lambda: FOUR_POSITIONS.training_loss(model, inputs)) == []
    assert _logits_shaped_saved_tensors(lambda: _full_logits_loss(model, inputs))  # it would


def test_without_labels_every_attended_token_is_predicted_and_none_is_a_zero_with_a_graph():
    ids, mask = batch(VOCAB)
    shifted = next_token_labels(ids, mask)
    assert torch.equal(shifted[:, :-1][mask[:, 1:] == 1], ids[:, 1:][mask[:, 1:] == 1])
    assert (shifted[:, -1] == -100).all() and (shifted[2, 6:] == -100).all()
    model = assembled("gemma3_tied").train()
    none = torch.full_like(ids, -100)
    out = CAUSAL_DECODER.training_loss(model, {"input_ids": ids, "labels": none})
    out.loss.backward()
    assert out.loss.item() == 0.0 and len(out.token_losses) == 0


def test_a_chunk_holds_the_budget_in_fp32_logits():
    assert chunk_tokens(262_144, 2**27) == 128
    assert chunk_tokens(262_144, 1) == 1
    assert chunk_tokens(47, 4 * 4 * 47) == 4
