"""Every saved decoder kind loads through AutoModelForCausalLM with zero missing/unexpected keys,
the same logits, the same tying and a working generate(); a factorized dir also where hyperofa
cannot be imported."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
import transformers
from transformers import AutoModelForCausalLM

from hyperofa.models import CAUSAL_DECODER, FactorizedForCausalLM, family_of, load, merge
from tests.unit.models.causal_common import EXTRA, SOURCE_VOCAB, assembled, batch, logits

NO_KEYS = {"missing_keys": set(), "unexpected_keys": set(), "mismatched_keys": set()}
KINDS = [
    "plain_gemma3_tied",
    "plain_gemma3_untied",
    "plain_llama_untied",
    "plain_qwen2_tied",
    "plain_phi_biased",
    "untie_gemma3_tied",
    "factorized_gemma3_tied",
    "factorized_gemma3_softcap",
    "factorized_llama_untied",
    "factorized_phi_biased",
    "merged_gemma3_tied",
    "merged_llama_untied",
]


def _saved(tmp_path, kind: str):
    """(model, dir) of one saved kind: <form>_<decoder>."""
    form, _, source = kind.partition("_")
    if form == "plain":
        model = assembled(source)
    elif form == "untie":
        model = assembled(source, untie=True)
    else:
        model = assembled(source, dim=8)
        model = model if form == "factorized" else merge(model)
    CAUSAL_DECODER.save(model, None, tmp_path / kind)
    return model, tmp_path / kind


def _auto_load(directory):
    model, info = AutoModelForCausalLM.from_pretrained(
        directory, trust_remote_code=True, output_loading_info=True
    )
    return model.eval(), {k: v for k, v in info.items() if k != "error_msgs"}


def _tied(model) -> bool:
    if isinstance(model, FactorizedForCausalLM):
        return model.head is None
    return model.lm_head.weight is model.get_input_embeddings().weight


@pytest.mark.parametrize("kind", KINDS)
def test_every_saved_kind_loads_with_identical_logits_tying_and_generation(tmp_path, kind):
    model, directory = _saved(tmp_path, kind)
    again, info = _auto_load(directory)
    ids, mask = batch(SOURCE_VOCAB + EXTRA)
    assert info == NO_KEYS
    assert torch.equal(logits(again, ids, mask), logits(model, ids, mask))
    assert torch.equal(logits(load(directory), ids, mask), logits(model, ids, mask))
    expect_tied = kind.endswith(("_tied", "_softcap")) and not kind.startswith("untie")
    assert _tied(again) == _tied(model) == expect_tied
    greedy = {"max_new_tokens": 6, "do_sample": False, "pad_token_id": 1}
    prompt = ids[:1, :4]
    expected = model.generate(prompt, **greedy)
    assert expected.shape == (1, 10)
    assert torch.equal(again.generate(prompt, **greedy), expected)


@pytest.mark.parametrize("kind", KINDS)
def test_architectures_names_the_class_that_loads_the_dir(tmp_path, kind):
    model, directory = _saved(tmp_path, kind)
    config = json.loads((directory / "config.json").read_text())
    (name,) = config["architectures"]
    assert type(_auto_load(directory)[0]).__name__ == name == type(model).__name__
    assert family_of(directory) is CAUSAL_DECODER
    if kind.startswith("factorized"):
        assert config["auto_map"]["AutoModelForCausalLM"] == f"modeling_factorized_causal.{name}"
        assert (directory / "modeling_factorized_causal.py").is_file()
    else:  # a class of transformers itself: no remote code
        assert getattr(transformers, name) is type(model) and "auto_map" not in config
        assert config["tie_word_embeddings"] == _tied(model)


def test_a_factorized_decoder_loads_where_hyperofa_is_not_importable(tmp_path):
    kinds = ("factorized_gemma3_tied", "factorized_llama_untied")
    dirs = [_saved(tmp_path, kind) for kind in kinds]
    ids, mask = batch(SOURCE_VOCAB + EXTRA)
    torch.save({"ids": ids, "mask": mask}, tmp_path / "inputs.pt")
    child = textwrap.dedent(
        f"""
        import sys
        sys.modules["hyperofa"] = None  # an installed hyperofa would be importable otherwise
        import torch
        from transformers import AutoModelForCausalLM
        inputs = torch.load({str(tmp_path / "inputs.pt")!r})
        out = {{}}
        for d in {[str(d) for _, d in dirs]!r}:
            m = AutoModelForCausalLM.from_pretrained(d, trust_remote_code=True).eval()
            assert "hyperofa" not in type(m).__module__, type(m).__module__
            with torch.no_grad():
                out[d] = m(input_ids=inputs["ids"], attention_mask=inputs["mask"]).logits
            out[d + "/generated"] = m.generate(
                inputs["ids"][:1, :4], max_new_tokens=6, do_sample=False, pad_token_id=1
            )
        torch.save(out, {str(tmp_path / "logits.pt")!r})
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["HF_MODULES_CACHE"] = str(tmp_path / "modules")
    done = subprocess.run(
        [sys.executable, "-c", child], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = torch.load(tmp_path / "logits.pt")
    for model, directory in dirs:
        assert torch.equal(got[str(directory)], logits(model, ids, mask))
        expected = model.generate(ids[:1, :4], max_new_tokens=6, do_sample=False, pad_token_id=1)
        assert torch.equal(got[f"{directory}/generated"], expected)


def test_in_a_hyperofa_process_the_auto_class_needs_no_remote_code(tmp_path):
    _, directory = _saved(tmp_path, "factorized_gemma3_tied")
    assert type(AutoModelForCausalLM.from_pretrained(directory)) is FactorizedForCausalLM
