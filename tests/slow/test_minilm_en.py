"""model=minilm_en end to end: the English-only WordPiece MiniLM extended to the demo languages."""

import json
import subprocess
import sys

import pytest
from transformers import AutoTokenizer

from hyperofa.paths import assets_root

pytestmark = pytest.mark.slow

SOURCE_SIZE = 30_522  # uncased BERT WordPiece; [PAD] [UNK] [CLS] [SEP] [MASK] are the specials


def test_minilm_en_runs_through_evaluate_and_ofa_beats_random(tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "hyperofa.cli.run",
        "-m",
        "model=minilm_en",
        "initializer=random,ofa",
        "eval.max_texts_per_language=4",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3000)
    assert out.returncode == 0, out.stderr[-3000:]
    results = [json.loads((tmp_path / "sweep" / j / "result.json").read_text()) for j in "01"]
    source_row, random_row = results[0]["rows"]
    ofa_row = results[1]["rows"][-1]
    assert (source_row["initializer"], random_row["initializer"]) == ("source", "random")
    assert ofa_row["initializer"] == "ofa"
    # a 6-layer model: eval.layer 8 became its last layer
    assert results[1]["config"]["eval"]["layer"] == 6
    assert results[1]["config"]["model"]["embedded"] == "minilm_en"

    counts = ofa_row["counts"]
    assert counts["copied_exact"] + counts["special"] == SOURCE_SIZE
    assert counts["special"] == 5 and counts["copied_ci"] == 0
    assert counts["initialized"] > 1000 and random_row["counts"]["initialized"] == 0
    for row in (source_row, random_row, ofa_row):
        assert 0 < row["metrics"]["mlm_loss_heldout"] < 20
        assert 0 <= row["metrics"]["sr_udhr_top10"] <= 1
    assert ofa_row["metrics"]["mlm_loss_heldout"] < random_row["metrics"]["mlm_loss_heldout"]

    target = AutoTokenizer.from_pretrained(results[1]["artifacts"]["model"])
    source_dir = sorted((assets_root() / "minilm_en_mlm").glob("*/model.safetensors"))[0]
    source = AutoTokenizer.from_pretrained(source_dir.parent)
    old, new = source.get_vocab(), target.get_vocab()
    assert len(old) == SOURCE_SIZE and {piece: new[piece] for piece in old} == old
    assert sorted(new.values()) == list(range(len(target)))
    english = "Everyone has the right to life, liberty and security of person."
    assert target(english)["input_ids"] == source(english)["input_ids"]
    maltese = "Kulħadd għandu d-dritt għall-ħajja, għal-libertà u għas-sigurtà tal-persuna."
    assert len(target(maltese)["input_ids"]) < len(source(maltese)["input_ids"])
