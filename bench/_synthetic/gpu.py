"""`python -m bench._synthetic.gpu CHECK`: one GPU check of `bench/gpu_check.sh`, printing its
figure as one line; NoGPUError (exit 3) where there is no GPU.

- hypernet: one epoch of `train_hypernet` at paper size (BiLSTM code defaults, batch 256,
  the covered source tokens of a 250k vocabulary, 3.6M × 200 word vectors) on `trainer=gpu`
  (bf16-mixed), validation included.
- cpt_encoder / cpt_decoder: continued pre-training steps through `MLMModule` and the trainer
  builder in bf16-mixed, on random-weight models of the real shapes (XLM-R base with Glot500's
  401,145 tokens; Gemma 3 270M), batch 16 × 512 (conf/pretrain/hyperofa_paper.yaml per device).
- ofa: `init.base.initialize` with the OFA initializer at paper size, faiss on the GPU.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench._synthetic import gpu_inputs as gi
from bench._synthetic.inputs import Sizes

SIZES = Sizes()
CPT = {"batch": 16, "length": 512, "warmup": 3, "timed": 20}
ACCELERATOR, PRECISION = "gpu", "bf16-mixed"  # a smoke test on a CPU sets "cpu", "32-true"


def _peak_gib() -> float:
    import torch

    return torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else 0.0


def hypernet() -> str:

    from hyperofa.config.hypernet import HypernetModelConfig, HypernetTrainConfig
    from hyperofa.config.training import TrainerConfig
    from hyperofa.hypernet.train import train_hypernet

    device = gi.require_gpu()
    rng = np.random.default_rng(0)
    words = gi.token_word_map(rng, SIZES.source_vocab, SIZES.words, gi.SOURCE_DEGREE)
    vectors, rows = gi.word_vectors(rng, SIZES), gi.source_rows(rng, SIZES)
    model_cfg = HypernetModelConfig(input_dim=SIZES.word_dim)
    train_cfg = HypernetTrainConfig(max_epochs=1, early_stopping_patience=None)
    hw = TrainerConfig(ACCELERATOR, precision=PRECISION, deterministic=False, progress=False)
    with tempfile.TemporaryDirectory() as run_dir:
        result = train_hypernet(
            words.indptr, words.indices, vectors, rows, model_cfg, train_cfg, Path(run_dir), hw
        )
    m = result.metrics
    return (
        f"hypernet: 1 epoch (train {m['train_tokens']:,} + val {m['val_tokens']:,} tokens, "
        f"batch {train_cfg.batch_size}, BiLSTM h{model_cfg.hidden_size}) on {device}, {PRECISION}: "
        f"{m['seconds']:.1f} s, {m['samples_per_s']:,.0f} tokens/s, peak GPU memory "
        f"{_peak_gib():.1f} GiB"
    )


def _encoder():
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

    from hyperofa.models import MASKED_ENCODER

    config = XLMRobertaConfig(vocab_size=401_145, max_position_embeddings=514)  # base shapes
    return XLMRobertaForMaskedLM(config), MASKED_ENCODER, "XLM-R base, 401,145 tokens"


class CausalLoss:
    """The decoder's next-token loss, shaped as a model family's `training_loss`."""

    name = "causal"

    def training_loss(self, model, batch):
        import torch

        from hyperofa.models.family import LossOutput

        ids = batch["input_ids"]
        out = model(input_ids=ids, attention_mask=batch["attention_mask"], labels=ids)
        return LossOutput(out.loss, out.logits, ids, torch.ones_like(ids, dtype=torch.bool))


def _decoder():
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    layers = ["sliding_attention"] * 5 + ["full_attention"]
    config = Gemma3TextConfig(  # Gemma 3 270M (outputs/assets/gemma3_270m_causal_lm)
        vocab_size=262_144, hidden_size=640, intermediate_size=2048, num_hidden_layers=18,
        num_attention_heads=4, num_key_value_heads=1, head_dim=256, sliding_window=512,
        layer_types=layers * 3, query_pre_attn_scalar=256, tie_word_embeddings=True,
    )  # fmt: skip
    return Gemma3ForCausalLM(config), CausalLoss(), "Gemma 3 270M"


def cpt(kind: str) -> str:
    """Timed optimizer steps of continued pre-training on random tokens."""
    import torch

    from bench._synthetic.gpu_cpt import fit_steps

    device = gi.require_gpu()
    torch.manual_seed(0)
    model, family, what = _encoder() if kind == "encoder" else _decoder()
    params = sum(p.numel() for p in model.parameters())
    seconds = fit_steps(model, family, CPT, ACCELERATOR, PRECISION)
    tokens = CPT["batch"] * CPT["length"]
    return (
        f"cpt {kind}: {what} ({params / 1e6:,.0f}M parameters, random weights), batch "
        f"{CPT['batch']} × {CPT['length']} on {device}, {PRECISION}: {seconds:.3f} s/step "
        f"({tokens / seconds:,.0f} tokens/s over {CPT['timed']} steps), peak GPU memory "
        f"{_peak_gib():.1f} GiB"
    )


def ofa() -> str:
    from hyperofa.config.initializers import OFAConfig
    from hyperofa.init.base import InitInputs, initialize
    from hyperofa.init.ofa import OFAInitializer
    from hyperofa.vocab.copy import CopyKind, CopyMap

    device = gi.require_gpu(faiss_too=True)
    rng = np.random.default_rng(1)
    source = gi.token_word_map(rng, SIZES.source_vocab, SIZES.words, gi.SOURCE_DEGREE)
    target = gi.token_word_map(rng, SIZES.target_vocab, SIZES.words, gi.TARGET_DEGREE)
    shared = np.arange(SIZES.target_vocab) < SIZES.source_vocab  # the source ids, copied
    copy = CopyMap(
        np.where(shared, np.arange(SIZES.target_vocab), -1).astype(np.int64),
        np.where(shared, CopyKind.EXACT, CopyKind.NONE).astype(np.int8),
    )
    inputs = InitInputs(
        gi.source_rows(rng, SIZES), copy, source, target, gi.word_vectors(rng, SIZES)
    )
    started = time.perf_counter()
    result = initialize(OFAInitializer(OFAConfig(use_gpu=ACCELERATOR == "gpu")), inputs)
    seconds = time.perf_counter() - started
    done = result.counts()["initialized"]
    return (
        f"ofa: {done:,} target tokens initialized from {int(source.covered().sum()):,} source "
        f"tokens (top 10 of 3.6M-word means, faiss on {device}): {seconds:.1f} s "
        f"({done / seconds:,.0f} tokens/s; token means on the CPU included)"
    )


CHECKS = {
    "hypernet": hypernet,
    "cpt_encoder": lambda: cpt("encoder"),
    "cpt_decoder": lambda: cpt("decoder"),
    "ofa": ofa,
}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in CHECKS:
        print(f"usage: python -m bench._synthetic.gpu {{{','.join(CHECKS)}}}", file=sys.stderr)
        return 2
    try:
        print(CHECKS[argv[0]](), flush=True)
    except gi.NoGPUError as err:
        print(f"gpu_check: NoGPUError: {err}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
