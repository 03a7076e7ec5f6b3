"""The model seam on the embedded e5 (BertForMaskedLM, 250K tokens): plain and factorized
assemblies load back through the Auto classes with the same logits, and the merge agrees."""

import numpy as np
import pytest
import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer

from hyperofa.models import MASKED_ENCODER, merge
from hyperofa.paths import assets_root

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def e5():
    dirs = sorted((assets_root() / "e5_small_mlm").glob("*/config.json"))
    if not dirs:
        pytest.skip("the embedded e5 is not built (make demo or hyperofa-assets builds it)")
    model = MASKED_ENCODER.load(dirs[0].parent)
    tokenizer = AutoTokenizer.from_pretrained(dirs[0].parent)
    batch = tokenizer(["Hello world, a test.", "Bonjour à tous"], padding=True, return_tensors="pt")
    return model, tokenizer, (batch["input_ids"], batch["attention_mask"])


def _logits(model, inputs):
    with torch.no_grad():
        return model(input_ids=inputs[0], attention_mask=inputs[1]).logits


def test_e5_plain_and_factorized_assemblies_load_back_and_merge(e5, tmp_path):
    source, tokenizer, inputs = e5
    E, bias = MASKED_ENCODER.source_embeddings(source), MASKED_ENCODER.output_bias(source)
    plain = MASKED_ENCODER.assemble(source, E, None, bias)
    assert torch.equal(_logits(plain, inputs), _logits(source, inputs))
    MASKED_ENCODER.save(plain, tokenizer, tmp_path / "plain")
    again, info = AutoModelForMaskedLM.from_pretrained(tmp_path / "plain", output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    assert torch.equal(_logits(again.eval(), inputs), _logits(source, inputs))

    # orthonormal primitives and E's projection on them: realistic magnitudes without an SVD
    P = np.linalg.qr(np.random.default_rng(0).normal(size=(E.shape[1], 100)))[0].T
    P = P.astype(np.float32)
    factorized = MASKED_ENCODER.assemble(source, E @ P.T, P, bias)
    MASKED_ENCODER.save(factorized, tokenizer, tmp_path / "factorized")
    loaded = AutoModelForMaskedLM.from_pretrained(tmp_path / "factorized", trust_remote_code=True)
    assert torch.equal(_logits(loaded.eval(), inputs), _logits(factorized, inputs))
    torch.testing.assert_close(
        _logits(merge(factorized), inputs), _logits(factorized, inputs), atol=1e-5, rtol=0
    )
