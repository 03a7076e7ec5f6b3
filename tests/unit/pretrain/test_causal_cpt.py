"""Continued pre-training of causal decoders (tiny Gemma 3 tied, tiny Llama untied; plain and
factorized): next-token blocks from decoder tokenizers (BOS/EOS, with or without a pad token, no
mask token), the family's chunked next-token loss over real tokens only, exact resume, and
`train_only` (the embeddings only, or only the new rows)."""

from __future__ import annotations

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
import torch.nn.functional as F

from hyperofa.config.enums import TrainOnly
from hyperofa.config.pretrain import PretrainConfig
from hyperofa.config.rules import check_tree
from hyperofa.config.training import TrainerConfig
from hyperofa.config.validate import structured
from hyperofa.errors import ConfigError, IncompatibleInputsError
from hyperofa.models import CAUSAL_DECODER, MASKED_ENCODER
from hyperofa.pretrain.data import SpecialIds, pack_corpus
from hyperofa.pretrain.datamodule import CausalBlocks
from hyperofa.pretrain.module import LMModule
from hyperofa.pretrain.plot import read_metrics
from hyperofa.pretrain.prepare import prepare_cpt_data
from hyperofa.pretrain.train import pretrain
from hyperofa.pretrain.trainable import embedding_parameters
from tests.tiny import unigram_tokenizer
from tests.unit.pretrain.conftest import (
    DECODER_SOURCE,
    decoder_tokenizer,
    make_texts,
    save_decoder,
    tiny_config,
)

QUIET = TrainerConfig(progress=False)
LANGS = ["aaa", "bbb", "ccc"]
# (decoder, factorized dim): Gemma-style tokenizer (a pad token) for Gemma, Llama-style (none,
# padding with EOS) for Llama
DECODERS = [("gemma3_tied", None), ("gemma3_tied", 8), ("llama_untied", None), ("llama_untied", 8)]
EOS, PAD = 2, 1


def _tokenizer(kind: str):
    return decoder_tokenizer(pad=kind.startswith("gemma"))


@pytest.fixture(scope="module")
def decoders(tmp_path_factory) -> dict[tuple[str, int | None], object]:
    root, vocab = tmp_path_factory.mktemp("decoders"), len(decoder_tokenizer())
    return {
        (kind, dim): save_decoder(root / f"{kind}-{dim}", kind, vocab, dim)
        for kind, dim in DECODERS
    }


def _run(model_dir, kind, run_dir, cfg, prepared=None, **kwargs):
    """pretrain() on the texts in memory, or on the blocks prepared in `prepared`."""
    train, val = (make_texts(30), make_texts(4, seed=1)) if prepared is None else (prepared, None)
    return pretrain(
        model_dir, _tokenizer(kind), train, val, cfg, run_dir, hw=QUIET, family=CAUSAL_DECODER,
        **kwargs,
    )  # fmt: skip


def _blocks(pad: bool, max_length: int = 24):
    return pack_corpus(decoder_tokenizer(pad), make_texts(5), max_length, LANGS, masked=False)


@pytest.mark.parametrize("pad", [True, False])
def test_causal_blocks_start_with_bos_end_each_text_with_eos_and_pad_unscored(pad):
    tok, blocks = decoder_tokenizer(pad), _blocks(pad)
    ids = SpecialIds.from_tokenizer(tok, masked=False)
    assert (ids.start, ids.end, ids.pad, ids.mask) == (0, EOS, PAD if pad else EOS, None)
    for index, lang in enumerate(LANGS):
        rows = np.flatnonzero(blocks.language == index)
        assert (blocks.input_ids[rows, 0] == 0).all() and (blocks.lengths[rows[:-1]] == 24).all()
        stream = [t for r in rows for t in blocks.input_ids[r, 1 : blocks.lengths[r]]]
        want = [t for text in make_texts(5)[lang] for t in [*tok(text).input_ids, EOS]]
        assert stream == want  # no EOS added at a cut inside a text
    data = CausalBlocks(blocks)
    for block in range(len(blocks)):
        item = data[(0, 7, block)]
        attended = item["attention_mask"].bool()
        assert int(attended.sum()) == blocks.lengths[block]
        assert torch.equal(item["labels"][attended], item["input_ids"][attended])
        assert (item["labels"][~attended] == -100).all()
        assert (item["input_ids"][~attended] == ids.pad).all()


@pytest.mark.parametrize("kind", ["gemma3_tied", "llama_untied"])
def test_the_loss_and_the_per_language_validation_score_real_next_tokens_only(decoders, kind):
    model = CAUSAL_DECODER.load(decoders[(kind, None)])
    blocks = _blocks(kind.startswith("gemma"), max_length=20)
    last_two = [b for lang in range(3) for b in np.flatnonzero(blocks.language == lang)[-2:]]
    items = [CausalBlocks(blocks)[(0, i, b)] for i, b in enumerate(last_two)]
    batch = {k: torch.stack([it[k] for it in items]) for k in items[0]}
    assert (batch["attention_mask"] == 0).any()  # the languages' last blocks are padded
    with torch.no_grad():
        out = CAUSAL_DECODER.training_loss(model, batch)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        padded = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, 7)
        other = CAUSAL_DECODER.training_loss(model, {**batch, "input_ids": padded})
    want, language = [], []
    for row, n in enumerate(batch["attention_mask"].sum(1).tolist()):
        ids = batch["input_ids"][row]
        want.append(F.cross_entropy(logits[row, : n - 1], ids[1:n], reduction="none"))
        language += [int(batch["language"][row])] * (n - 1)
    want, language = torch.cat(want), torch.tensor(language)
    assert out.logits is None and len(out.token_losses) == len(want)
    torch.testing.assert_close(out.token_losses, want, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(other.token_losses, out.token_losses, atol=1e-5, rtol=1e-5)
    module = LMModule(model, CAUSAL_DECODER, tiny_config(), LANGS)
    module.on_validation_epoch_start()
    with torch.no_grad():
        module.validation_step(batch, 0)
    for lang in language.unique().tolist():
        got = module._val_sum[lang] / module._val_count[lang]
        torch.testing.assert_close(got, want[language == lang].double().mean(), atol=1e-5, rtol=0)


@pytest.mark.parametrize(("kind", "dim"), DECODERS)
def test_causal_pretraining_lowers_the_loss_and_saves_a_loadable_decoder(
    decoders, tmp_path, kind, dim
):
    cfg = tiny_config(
        max_steps=20, batch_size=8, lr=1e-2, val_check_interval=10, checkpoint_every_n_steps=10
    )
    result = _run(decoders[(kind, dim)], kind, tmp_path, cfg)
    losses = [v for _, v in read_metrics(tmp_path / "csv")["train/loss"]]
    assert len(losses) == 20 and result["steps"] == 20 and result["objective"] == "causal"
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.3
    assert result["val_loss_after"] < result["val_loss_before"] - 0.3
    assert set(result["val_loss_after_per_language"]) == set(LANGS)
    trained = CAUSAL_DECODER.load(result["model_dir"])
    assert trained.config.vocab_size == len(_tokenizer(kind))
    assert (tmp_path / "loss.png").stat().st_size > 0


def test_prepared_causal_blocks_train_as_the_in_memory_ones(decoders, tmp_path):
    kind, cfg = "llama_untied", tiny_config()
    val = make_texts(4, seed=1)
    prepare_cpt_data(_tokenizer(kind), make_texts(30), val, tmp_path / "data", 24, masked=False)
    memory = _run(decoders[(kind, None)], kind, tmp_path / "memory", cfg)
    disk = _run(decoders[(kind, None)], kind, tmp_path / "disk", cfg, tmp_path / "data")
    want, got = read_metrics(tmp_path / "memory" / "csv"), read_metrics(tmp_path / "disk" / "csv")
    for name in ("train/loss", "val/loss", "val/loss_ccc"):
        assert got[name] == want[name], name
    a = CAUSAL_DECODER.load(memory["model_dir"]).state_dict()
    b = CAUSAL_DECODER.load(disk["model_dir"]).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


class Interrupted(Exception):
    pass


class Interrupt(pl.Callback):
    """Raises once `step` updates are done: the run dies mid-way, as if killed."""

    def __init__(self, step: int):
        self.step = step

    def on_train_batch_end(self, trainer, *args) -> None:
        if trainer.global_step == self.step:
            raise Interrupted(self.step)


@pytest.mark.parametrize(
    ("kind", "dim", "train_only"),
    [("gemma3_tied", 8, TrainOnly.all), ("llama_untied", None, TrainOnly.new_rows)],
)
def test_an_interrupted_causal_run_resumes_to_the_uninterrupted_weights(
    decoders, tmp_path, kind, dim, train_only
):
    cfg = tiny_config(max_steps=10, accumulate_grad_batches=2, val_check_interval=5,
                      checkpoint_every_n_steps=4, train_only=train_only)  # fmt: skip
    model_dir, extra = decoders[(kind, dim)], {"n_source": DECODER_SOURCE}
    whole = _run(model_dir, kind, tmp_path / "whole", cfg, **extra)
    with pytest.raises(Interrupted):  # at step 6, after the step-4 checkpoint
        _run(model_dir, kind, tmp_path / "cut", cfg, callbacks=[Interrupt(6)], **extra)
    ckpt = torch.load(tmp_path / "cut" / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 4 and not (tmp_path / "cut" / "pretrain.json").exists()
    resumed = _run(model_dir, kind, tmp_path / "cut", cfg, **extra)
    assert resumed["resumed"] and not whole["resumed"] and resumed["steps"] == 10
    want, got = read_metrics(tmp_path / "whole" / "csv"), read_metrics(tmp_path / "cut" / "csv")
    for name in ("train/loss", "val/loss", "train/lr"):
        assert got[name] == want[name], name
    a = CAUSAL_DECODER.load(whole["model_dir"]).state_dict()
    b = CAUSAL_DECODER.load(resumed["model_dir"]).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def _parameters(family, model_dir) -> tuple[dict[str, torch.Tensor], set[str]]:
    """Every parameter of the saved model by name, and the names of its token embeddings."""
    model = family.load(model_dir)
    embedding = {id(p) for p in embedding_parameters(model)}
    named = dict(model.named_parameters())
    return named, {n for n, p in named.items() if id(p) in embedding}


@pytest.mark.parametrize(("kind", "dim"), [("gemma3_tied", 8), ("llama_untied", None)])
def test_training_only_the_embeddings_leaves_every_other_parameter_bit_identical(
    decoders, tmp_path, kind, dim
):
    cfg = tiny_config(max_steps=4, lr=1e-2, train_only=TrainOnly.embeddings)
    result = _run(decoders[(kind, dim)], kind, tmp_path, cfg)
    before, embedding = _parameters(CAUSAL_DECODER, decoders[(kind, dim)])
    after, _ = _parameters(CAUSAL_DECODER, result["model_dir"])
    assert embedding and set(before) - embedding
    for name in before:
        same = torch.equal(before[name], after[name])
        assert same != (name in embedding), name
    assert result["trainable_parameters"] == sum(before[n].numel() for n in embedding)


@pytest.mark.parametrize(
    ("kind", "dim"), [("gemma3_tied", None), ("llama_untied", 8), ("bert", None)]
)
def test_training_only_the_new_rows_keeps_the_source_rows_and_moves_the_new_ones(
    decoders, model_dirs, tokenizer, tmp_path, kind, dim
):
    cfg = tiny_config(max_steps=4, lr=1e-2, weight_decay=0.1, train_only=TrainOnly.new_rows)
    if kind == "bert":  # a masked LM: its tokenizer's last 10 ids as the new ones
        family, model_dir, n_source = MASKED_ENCODER, model_dirs["plain"], len(tokenizer) - 10
        result = pretrain(model_dir, tokenizer, make_texts(30), make_texts(4, seed=1), cfg,
                          tmp_path, hw=QUIET, n_source=n_source)  # fmt: skip
    else:
        family, model_dir, n_source = CAUSAL_DECODER, decoders[(kind, dim)], DECODER_SOURCE
        result = _run(model_dir, kind, tmp_path, cfg, n_source=n_source)
    before, embedding = _parameters(family, model_dir)
    after, _ = _parameters(family, result["model_dir"])
    rows = {n for n in embedding if "primitives" not in n}
    for name in before:
        if name in rows:
            assert torch.equal(before[name][:n_source], after[name][:n_source]), name
            assert not torch.equal(before[name][n_source:], after[name][n_source:]), name
        else:  # the rest of the model and the primitives every row shares
            assert torch.equal(before[name], after[name]), name


def test_new_rows_without_the_source_vocabulary_size_is_a_named_error(decoders, tmp_path):
    cfg = tiny_config(train_only=TrainOnly.new_rows)
    with pytest.raises(ConfigError, match="pretrain.train_only"):
        _run(decoders[("gemma3_tied", None)], "gemma3_tied", tmp_path / "run", cfg)
    with pytest.raises(IncompatibleInputsError, match="n_source"):
        _run(decoders[("gemma3_tied", None)], "gemma3_tied", tmp_path / "run", cfg, n_source=99)
    fsdp = TrainerConfig(strategy="fsdp", progress=False)
    with pytest.raises(ConfigError, match="FSDP"):
        pretrain(decoders[("gemma3_tied", None)], decoder_tokenizer(), make_texts(3), make_texts(2),
                 cfg, tmp_path / "run", hw=fsdp, family=CAUSAL_DECODER, n_source=DECODER_SOURCE)  # fmt: skip
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("value", ["rows", "everything"])
def test_a_bad_train_only_value_names_its_key(value):
    with pytest.raises(ConfigError, match=r"pretrain\.train_only"):
        structured(PretrainConfig, {"train_only": value}, "pretrain")
    with pytest.raises(ConfigError, match=r"pretrain\.train_only"):
        check_tree(PretrainConfig(train_only=value), "pretrain")
    assert structured(PretrainConfig, {"train_only": "new_rows"}, "p").train_only == "new_rows"


def test_tokenizers_lacking_what_the_objective_needs_are_refused_by_name(decoders, tmp_path):
    with pytest.raises(IncompatibleInputsError, match="mask"):  # an MLM tokenizer, no mask token
        SpecialIds.from_tokenizer(unigram_tokenizer(["\u2581a"], with_mask=False))
    with pytest.raises(IncompatibleInputsError, match="mask"):  # a decoder's, for a masked LM
        SpecialIds.from_tokenizer(decoder_tokenizer())
    no_eos = unigram_tokenizer(["\u2581a"])
    no_eos.eos_token = None
    with pytest.raises(IncompatibleInputsError, match="eos"):
        SpecialIds.from_tokenizer(no_eos, masked=False)
    assert SpecialIds.from_tokenizer(decoder_tokenizer(pad=False), masked=False).pad == EOS


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("train_only", [TrainOnly.all, TrainOnly.new_rows])
def test_bf16_mixed_causal_pretraining_on_one_gpu_saves_an_fp32_decoder(
    decoders, tmp_path, train_only
):
    gpu = TrainerConfig(
        accelerator="gpu", precision="bf16-mixed", deterministic=False, progress=False
    )
    model_dir, cfg = decoders[("gemma3_tied", 8)], tiny_config(train_only=train_only)
    result = pretrain(model_dir, decoder_tokenizer(), make_texts(30), make_texts(4, seed=1), cfg,
                      tmp_path, hw=gpu, family=CAUSAL_DECODER, n_source=DECODER_SOURCE)  # fmt: skip
    assert result["steps"] == 6 and np.isfinite(result["val_loss_after"])
    before, after = CAUSAL_DECODER.load(model_dir), CAUSAL_DECODER.load(result["model_dir"])
    rows = after.get_input_embeddings().coordinates.weight
    assert rows.dtype == torch.float32
    source = torch.equal(
        rows[:DECODER_SOURCE], before.get_input_embeddings().coordinates.weight[:DECODER_SOURCE]
    )
    assert source == (train_only == TrainOnly.new_rows)


# Run by a fresh interpreter (tests/slow/test_pretrain_resume.py's harness): pretrain() of a tiny
# decoder with the settings in the JSON file given as argv[1].
CHILD = """
import json, sys, time
from pathlib import Path

import torch

torch.set_num_threads(1)
import pytorch_lightning as pl

from hyperofa.config.pretrain import PretrainConfig
from hyperofa.config.training import TrainerConfig
from hyperofa.models import CAUSAL_DECODER
from hyperofa.pretrain.train import pretrain
from tests.unit.pretrain.conftest import decoder_tokenizer


class Slow(pl.Callback):
    def on_train_batch_end(self, *args):
        time.sleep(0.25)


spec = json.loads(Path(sys.argv[1]).read_text())
texts = json.loads(Path(spec["texts"]).read_text())
result = pretrain(
    Path(spec["model"]), decoder_tokenizer(pad=False), texts["train"], texts["val"],
    PretrainConfig(**spec["cfg"]), Path(spec["run_dir"]), hw=TrainerConfig(progress=False),
    callbacks=[Slow()] if spec.get("sleep") else [], family=CAUSAL_DECODER,
    n_source=spec["n_source"],
)
print("RESULT " + json.dumps(result), flush=True)
"""


@pytest.mark.slow
def test_a_killed_causal_run_resumes_to_the_same_losses_and_weights(tmp_path):
    import json

    from safetensors.torch import load_file

    from tests.slow.test_pretrain_resume import CFG, child, finish, kill_after_checkpoint

    model = save_decoder(tmp_path / "model", "llama_untied", len(decoder_tokenizer()), 8)
    (tmp_path / "texts.json").write_text(
        json.dumps({"train": make_texts(40), "val": make_texts(6, seed=1)})
    )
    (tmp_path / "causal_child.py").write_text(CHILD)
    cfg = {**CFG, "train_only": "new_rows"}
    spec = {"model": str(model), "texts": str(tmp_path / "texts.json"), "cfg": cfg,
            "n_source": DECODER_SOURCE}  # fmt: skip
    runs = {name: {**spec, "run_dir": str(tmp_path / name)} for name in ("whole", "killed")}
    whole = child(tmp_path, runs["whole"], "whole", "causal_child.py")
    killed = child(tmp_path, {**runs["killed"], "sleep": True}, "killed", "causal_child.py")
    kill_after_checkpoint(killed, tmp_path / "killed" / "checkpoints" / "last.ckpt")
    assert not (tmp_path / "killed" / "pretrain.json").exists(), "killed too late"
    ref = finish(whole)
    resumed = finish(child(tmp_path, runs["killed"], "resumed", "causal_child.py"))
    assert resumed["resumed"] and not ref["resumed"]
    want, got = read_metrics(tmp_path / "whole" / "csv"), read_metrics(tmp_path / "killed" / "csv")
    for name in ("train/loss", "val/loss", "train/lr"):
        assert [s for s, _ in got[name]] == [s for s, _ in want[name]], name
        assert np.allclose([v for _, v in got[name]], [v for _, v in want[name]], atol=1e-6)
    a = load_file(str(tmp_path / "whole" / "model" / "model.safetensors"))
    b = load_file(str(tmp_path / "killed" / "model" / "model.safetensors"))
    assert a.keys() == b.keys() and all((a[k] - b[k]).abs().max() <= 1e-6 for k in a)
