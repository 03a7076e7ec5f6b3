"""Whole runs on tiny causal decoders: a Gemma-style SentencePiece-BPE tokenizer with byte
fallback (trained here on English UDHR text) under a tiny Gemma 3 (tied) and a tiny Llama
(untied), extended on the langset, initialized, assembled in the source's own class and scored
in bits per byte."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from hyperofa import pipeline
from hyperofa.artifacts import load_artifact
from hyperofa.errors import ConfigError
from hyperofa.init.provenance import Provenance
from hyperofa.models import CAUSAL_DECODER
from hyperofa.stages import evaluate
from hyperofa.stages.common import read_metrics
from hyperofa.stages.initialize import load as load_initialization
from hyperofa.stages.sources import resolve_sources
from tests.bpe_tiny import ENGLISH, gemma_style
from tests.tiny_decoder import tiny_gemma3, tiny_llama

from .conftest import LANGS, UNSEEN, compose_run

pytestmark = pytest.mark.integration
STEP0 = "eval.tasks=[bpb_heldout,fertility,continuations,sr_udhr]"


def _decoder_dir(root: Path, build) -> Path:
    tok = gemma_style(ENGLISH.splitlines(), vocab_size=400)
    model = build(len(tok))
    model.config.max_position_embeddings = 64
    model.save_pretrained(root)
    tok.save_pretrained(root)
    return root


@pytest.fixture(scope="module")
def gemma_dir(tmp_path_factory) -> Path:
    return _decoder_dir(tmp_path_factory.mktemp("gemma"), lambda v: tiny_gemma3(v, tied=True))


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory) -> Path:
    return _decoder_dir(tmp_path_factory.mktemp("llama"), lambda v: tiny_llama(v, tied=False))


def _overrides(model_dir: Path, vectors: Path, *extra: str) -> list[str]:
    return [
        f"model.path={model_dir}",
        f"word_vectors.path={vectors}",
        f"langset.languages=[{','.join(LANGS)}]",
        f"langset.heldout_languages=[{','.join(UNSEEN)}]",
        "tokenizer.vocab_size=300",
        "eval.batch_size=8",
        "eval.max_length=48",
        "eval.layer=2",
        "eval.max_texts_per_language=3",
        "eval.continuation_tokens=4",
        STEP0,
        *extra,
    ]


def _run(tmp_path: Path, overrides: list[str]) -> dict:
    return pipeline.run(compose_run(overrides, tmp_path / "run"))


def _rows(result: dict) -> dict[str, dict]:
    return {r["initializer"]: r for r in result["rows"]}


def test_tied_decoder_end_to_end(tmp_path, gemma_dir, tiny_vectors):
    result = _run(tmp_path, _overrides(gemma_dir, tiny_vectors, "initializer=ofa"))
    rows = _rows(result)
    source, ofa = rows["source"]["metrics"], rows["ofa"]["metrics"]
    for metrics in (source, ofa):
        assert np.isfinite(metrics["bpb_heldout"]) and metrics["bpb_heldout"] > 0
        assert np.isfinite(metrics["bpb_unseen_languages"])
        assert set(metrics["per_language"]["bpb_heldout"]) == set(LANGS)
        assert set(metrics["details"]["continuations"]) == {*LANGS, *UNSEEN}
        assert "sr_udhr_top10" in metrics and "mlm_loss_heldout" not in metrics
    # the tokenizer was extended on the langset's text: fewer tokens per word there
    assert ofa["fertility_heldout"] < source["fertility_heldout"]
    assert rows["ofa"]["counts"]["initialized"] > 0
    model_dir = result["artifacts"]["model"]
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    assert type(model).__name__ == "Gemma3ForCausalLM" and len(tok) == model.config.vocab_size
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    init = load_initialization(load_artifact("initialize", Path(result["artifacts"]["initialize"])))
    np.testing.assert_array_equal(model.model.embed_tokens.weight.detach().numpy(), init.rows)
    out = model.generate(torch.tensor([[tok.bos_token_id, 5, 6]]), max_new_tokens=3)
    assert out.shape == (1, 6)


def test_untied_decoder_initializes_its_head_separately(tmp_path, llama_dir, tiny_vectors):
    result = _run(
        tmp_path, _overrides(llama_dir, tiny_vectors, "initializer=ofa", "factorize.dim=8")
    )
    arts = result["artifacts"]
    assert {"initialize_output", "factorize", "factorize_output"} <= set(arts)
    inputs = load_initialization(load_artifact("initialize", Path(arts["initialize"])))
    head = load_initialization(load_artifact("initialize", Path(arts["initialize_output"])))
    assert inputs.rows.shape == head.rows.shape and inputs.rows.shape[1] == 8
    np.testing.assert_array_equal(inputs.provenance, head.provenance)
    assert not np.allclose(inputs.rows, head.rows)  # two spaces, two initializations
    model = AutoModelForCausalLM.from_pretrained(arts["model"], trust_remote_code=True)
    assert model.config.output_num_primitives == 8  # a factorized head of its own
    assert {r["head"] for r in result["rows"]} == {"untied"}
    assert np.isfinite(_rows(result)["ofa"]["metrics"]["bpb_heldout"])


def test_untie_gives_a_tied_source_a_head_of_its_own(tmp_path, gemma_dir, tiny_vectors):
    extra = ("initializer=random", "assemble.untie=true")
    result = _run(tmp_path, _overrides(gemma_dir, tiny_vectors, *extra))
    assert [r["head"] for r in result["rows"]] == ["tied", "untied"]  # source, target
    model = AutoModelForCausalLM.from_pretrained(result["artifacts"]["model"])
    head, embed = model.lm_head.weight, model.model.embed_tokens.weight
    assert head.data_ptr() != embed.data_ptr()
    torch.testing.assert_close(head, embed, rtol=0, atol=0)  # a copy at step 0


def test_untied_by_copy_shares_the_tied_step0_evaluation(tmp_path, gemma_dir, tiny_vectors):
    tied = _run(tmp_path, _overrides(gemma_dir, tiny_vectors, "initializer=ofa"))
    extra = ("initializer=ofa", "assemble.untie=true")
    untied = _run(tmp_path, _overrides(gemma_dir, tiny_vectors, *extra))
    assert untied["artifacts"]["model"] != tied["artifacts"]["model"]
    evaluations = (tmp_path / "outputs" / "cache" / "evaluate").glob("[!.]*")
    assert len(list(evaluations)) == 2  # the source and the tied model, shared by the untied job
    # the shared figures are the untied model's own: evaluated directly, they are equal
    run = compose_run(_overrides(gemma_dir, tiny_vectors, *extra), tmp_path / "direct")
    own = evaluate.step0(
        load_artifact("assemble", Path(untied["artifacts"]["model"])), run.eval, run.langset,
        resolve_sources(run.model, run.word_vectors, run.langset, run.assets).corpus, run.seed,
    )  # fmt: skip
    shared = _rows(untied)["ofa"]["metrics"]
    assert _rows(tied)["ofa"]["metrics"]["bpb_heldout"] == shared["bpb_heldout"]
    for name in ("bpb_heldout", "bpb_unseen_languages", "fertility_heldout", "sr_udhr_top10"):
        assert own.counts[name] == pytest.approx(shared[name], abs=1e-9), name


@pytest.mark.parametrize(
    "extra, key", [("eval.tasks=[bpb_heldout]", "eval.tasks"), ("assemble.untie=true", "untie")]
)
def test_a_masked_lm_refuses_decoder_settings_before_any_work(tmp_path, tiny_overrides, extra, key):
    with pytest.raises(ConfigError, match=key):
        _run(tmp_path, [*tiny_overrides, extra])
    assert not (tmp_path / "outputs" / "cache").exists()


def test_stacked_scales_its_rows_on_training_text(tmp_path, gemma_dir, tiny_vectors):
    """calibrate=text on a tied decoder: the candidates' bits per byte on training text are
    recorded, the chosen one is the lowest and the new rows have that mean norm (one norm for
    all: the group norms, unit-tested, would move it)."""
    stacked = ("initializer=stacked", "initializer.folds=2", "initializer.probe_texts=6",
               "initializer.calibrate_groups=false")  # fmt: skip
    result = _run(tmp_path, _overrides(gemma_dir, tiny_vectors, *stacked, "stages=[initialize]"))
    art = load_artifact("initialize", Path(result["artifacts"]["initialize"]))
    m, init = read_metrics(art), load_initialization(art)
    norm = re.compile(r"calibration_loss_([0-9.]+)")
    losses = {float(n[1]): v for k, v in m.items() if (n := norm.fullmatch(k))}
    assert sorted(losses) == [0.25, 0.5, 0.75, 1.0, 1.25]
    assert m["calibration_norm"] == min(losses, key=losses.get) and len(set(losses.values())) > 1
    new, copied = init.provenance == Provenance.INITIALIZED, init.copied_from >= 0
    assert new.sum() == art.counts["initialized"] > 0 and art.counts["random"] == 0
    ratio = np.linalg.norm(init.rows[new], axis=1).mean()
    source = CAUSAL_DECODER.source_embeddings(AutoModelForCausalLM.from_pretrained(gemma_dir))
    assert ratio / np.linalg.norm(source, axis=1).mean() == pytest.approx(m["calibration_norm"])
    assert np.linalg.norm(init.rows[copied], axis=1).mean() > 0


def test_text_calibration_refuses_an_untied_head_before_any_work(tmp_path, llama_dir, tiny_vectors):
    overrides = _overrides(llama_dir, tiny_vectors, "initializer=stacked")
    with pytest.raises(ConfigError, match="initializer.calibrate"):
        _run(tmp_path, overrides)
    assert not (tmp_path / "outputs" / "cache").exists()


def test_a_decoder_refuses_the_mlm_loss_before_any_work(tmp_path, gemma_dir, tiny_vectors):
    overrides = [*_overrides(gemma_dir, tiny_vectors), "eval.tasks=[mlm_heldout,sr_udhr]"]
    with pytest.raises(ConfigError, match="mlm_heldout"):
        _run(tmp_path, overrides)
    assert not (tmp_path / "outputs" / "cache").exists()


CPT = [
    "stages=[match,factorize,copy,initialize,assemble,pretrain,evaluate]",
    "pretrain.max_steps=4",
    "pretrain.batch_size=4",
    "pretrain.warmup_steps=1",
    "pretrain.val_check_interval=2",
    "pretrain.checkpoint_every_n_steps=2",
    "pretrain.max_length=48",
    "pretrain.lr=1e-2",
]


@pytest.mark.parametrize("train_only", ["all", "new_rows"])
def test_causal_pretraining_in_the_pipeline(tmp_path, gemma_dir, tiny_vectors, train_only):
    """Next-token CPT on the assembled decoder: the loss goes down, a pretrained row is scored in
    bits per byte; with new_rows the source tokens' rows come out bit-identical."""
    extra = ("initializer=ofa", *CPT, f"pretrain.train_only={train_only}")
    result = _run(tmp_path, _overrides(gemma_dir, tiny_vectors, *extra))
    pretrained = next(r for r in result["rows"] if r["stage"] == "pretrained")
    metrics = pretrained["metrics"]
    assert np.isfinite(metrics["bpb_heldout"])
    assert metrics["cpt_val_loss_after"] < metrics["cpt_val_loss_before"]
    before = AutoModelForCausalLM.from_pretrained(result["artifacts"]["model"])
    after = AutoModelForCausalLM.from_pretrained(result["artifacts"]["pretrained"])
    n_source = len(AutoTokenizer.from_pretrained(gemma_dir))
    old, new = before.model.embed_tokens.weight, after.model.embed_tokens.weight
    same = torch.equal(old[:n_source], new[:n_source])
    assert same == (train_only == "new_rows")
    assert not torch.equal(old[n_source:], new[n_source:])
