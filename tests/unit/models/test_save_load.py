"""Every saved kind loads through the Auto classes with zero missing/unexpected keys and the same
logits; a factorized dir also where hyperofa cannot be imported."""

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
import torch
import transformers
from transformers import AutoModelForMaskedLM, BertModel

from hyperofa.errors import BadFileError, MissingPathError
from hyperofa.models import MASKED_ENCODER, FactorizedForMaskedLM, family_of, load, merge
from tests.tiny import tiny_bert, tiny_xlmr
from tests.unit.models.common import EXTRA, SOURCES, batch, factorized, logits, target_rows

NO_KEYS = {"missing_keys": set(), "unexpected_keys": set(), "mismatched_keys": set()}


def _saved(tmp_path, kind: str):
    """(model, dir) of one saved kind: plain_<source>, factorized_<source> or merged."""
    form, _, source = kind.partition("_")
    src = SOURCES.get(source, tiny_xlmr)(40)
    if form == "plain":
        model = MASKED_ENCODER.assemble(src, *target_rows(src, None))
    else:
        model = factorized(src) if form == "factorized" else merge(factorized(src))
    MASKED_ENCODER.save(model, None, tmp_path / kind)
    return model, tmp_path / kind


def _auto_load(directory):
    model, info = AutoModelForMaskedLM.from_pretrained(
        directory, trust_remote_code=True, output_loading_info=True
    )
    return model.eval(), {k: v for k, v in info.items() if k != "error_msgs"}


KINDS = [
    "plain_bert",
    "plain_xlmr",
    "plain_roberta",
    "factorized_bert",
    "factorized_xlmr",
    "merged",
]


@pytest.mark.parametrize("kind", KINDS)
def test_every_saved_kind_loads_through_the_auto_class_with_identical_logits(tmp_path, kind):
    model, directory = _saved(tmp_path, kind)
    again, info = _auto_load(directory)
    ids, mask, _ = batch(40 + EXTRA)
    assert info == NO_KEYS
    assert torch.equal(logits(again, ids, mask), logits(model, ids, mask))
    assert torch.equal(logits(load(directory), ids, mask), logits(model, ids, mask))


@pytest.mark.parametrize("kind", KINDS)
def test_architectures_names_the_class_that_loads_the_dir(tmp_path, kind):
    model, directory = _saved(tmp_path, kind)
    config = json.loads((directory / "config.json").read_text())
    (name,) = config["architectures"]
    assert type(_auto_load(directory)[0]).__name__ == name == type(model).__name__
    if kind.startswith("factorized"):
        assert config["auto_map"]["AutoModelForMaskedLM"] == f"modeling_factorized.{name}"
        assert (directory / "modeling_factorized.py").is_file()
    else:  # a class of transformers itself: no remote code
        assert getattr(transformers, name) is type(model) and "auto_map" not in config


def test_a_factorized_dir_loads_where_hyperofa_is_not_importable(tmp_path):
    dirs = [_saved(tmp_path, kind) for kind in ("factorized_bert", "factorized_xlmr")]
    ids, mask, _ = batch(40 + EXTRA)
    torch.save({"ids": ids, "mask": mask}, tmp_path / "inputs.pt")
    child = textwrap.dedent(
        f"""
        import sys
        sys.modules["hyperofa"] = None  # an installed hyperofa would be importable otherwise
        import torch
        from transformers import AutoModelForMaskedLM, BertModel
        inputs = torch.load({str(tmp_path / "inputs.pt")!r})
        out = {{}}
        for d in {[str(d) for _, d in dirs]!r}:
            m = AutoModelForMaskedLM.from_pretrained(d, trust_remote_code=True).eval()
            assert "hyperofa" not in type(m).__module__, type(m).__module__
            with torch.no_grad():
                out[d] = m(input_ids=inputs["ids"], attention_mask=inputs["mask"]).logits
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


def test_in_a_hyperofa_process_the_auto_class_needs_no_remote_code(tmp_path):
    _, directory = _saved(tmp_path, "factorized_bert")
    assert type(AutoModelForMaskedLM.from_pretrained(directory)) is FactorizedForMaskedLM


def test_load_refuses_a_dir_whose_weights_do_not_fit(tmp_path):
    _, directory = _saved(tmp_path, "plain_bert")
    config = json.loads((directory / "config.json").read_text())
    config["num_hidden_layers"] = 3  # one layer more than the weights hold
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(BadFileError, match="missing_keys"):
        load(directory)


def test_load_refuses_a_dir_of_the_old_assembled_format(tmp_path):
    """The retired AssembledForMaskedLM saved a BERT config with a `hyperofa` section."""
    src = tiny_bert(40)
    src.config.hyperofa = {"num_primitives": 4, "head_activation": "gelu", "format": 1}
    src.save_pretrained(tmp_path / "old")
    with pytest.raises(BadFileError, match="old AssembledForMaskedLM"):
        load(tmp_path / "old")


def test_a_dir_of_no_known_family_is_refused(tmp_path):
    BertModel(tiny_bert(40).config).save_pretrained(tmp_path / "base")
    with pytest.raises(
        BadFileError, match=re.escape("architectures ['BertModel']: no model family")
    ):
        family_of(tmp_path / "base")


def test_load_names_a_missing_dir_or_config(tmp_path):
    with pytest.raises(MissingPathError):
        load(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingPathError, match="config.json"):
        load(tmp_path / "empty")
