"""A GGUF causal LM → a plain transformers model dir (fp32 safetensors, config, tokenizer), verified.

transformers loads a GGUF with `gguf_file=` (dequantizing every tensor; needs PyPI `gguf`) but
`save_pretrained` refuses such a model, so the dequantized state dict is written directly. The
converted dir must then load with `AutoModelForCausalLM.from_pretrained(dir)` with no missing or
unexpected keys, keep tied embeddings tied, tokenize like the GGUF's tokenizer and give the same
causal-LM loss on the verification texts.
"""

from __future__ import annotations

import copy
import gc
import importlib.util
import logging
import time
from collections.abc import Mapping
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel

from hyperofa.artifacts import atomic_dir
from hyperofa.errors import ConfigError, IncompatibleInputsError, MissingPathError

log = logging.getLogger(__name__)
INSTALL_GGUF = "make install-decoder, or: pip install gguf accelerate"


def causal_lm_losses(
    model: PreTrainedModel, tokenizer, texts: Mapping[str, str]
) -> dict[str, float]:
    """Mean next-token cross-entropy (nats/token) of each text, as the tokenizer encodes it
    (with its special tokens, e.g. BOS); name → loss. One text per forward pass, no padding."""
    losses = {}
    model.eval()
    with torch.no_grad():
        for name, text in texts.items():
            ids = tokenizer(text, return_tensors="pt")["input_ids"]
            if ids.shape[1] < 2:
                raise ConfigError(f"texts.{name}", text, "a text of at least 2 tokens")
            losses[name] = float(model(input_ids=ids, labels=ids).loss)
    return losses


def untied_state(model: PreTrainedModel) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The state dict with each shared tensor stored once (safetensors refuses aliases), and the
    dropped key → the key it aliases (e.g. `lm_head.weight` → `model.embed_tokens.weight`)."""
    state, tied, seen = {}, {}, {}
    for key, tensor in model.state_dict().items():
        alias = (tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tuple(tensor.shape))
        if alias in seen:
            tied[key] = seen[alias]
            continue
        seen[alias] = key
        state[key] = tensor.detach().contiguous()
    return state, tied


def _plain_config(model: PreTrainedModel):
    """The model's config without the GGUF quantization entry (from_pretrained would re-quantize)."""
    config = copy.deepcopy(model.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.architectures = [type(model).__name__]
    config.dtype = "float32"
    return config


def _describe(model: PreTrainedModel) -> dict[str, object]:
    """The structural counts of a model (tied parameters counted once)."""
    return {
        "params": int(sum(p.numel() for p in model.parameters())),
        "embedding_rows": int(model.get_input_embeddings().weight.shape[0]),
        "hidden": int(model.config.hidden_size),
        "layers": int(model.config.num_hidden_layers),
        "model_type": model.config.model_type,
    }


def _write_model(state: dict[str, torch.Tensor], config, generation, tokenizer, out: Path) -> None:
    """Write config, generation config, model.safetensors and tokenizer into `out`; empties
    `state` once it is written, so its tensors can be freed before the reload."""
    from safetensors.torch import save_file

    config.save_pretrained(out)
    generation.save_pretrained(out)
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    state.clear()
    gc.collect()
    tokenizer.save_pretrained(out)


def load_converted(out: Path) -> PreTrainedModel:
    """Load a converted dir; IncompatibleInputsError if any key is missing, unexpected or
    mismatched, or if a tied config left the input and output embeddings apart."""
    model, info = AutoModelForCausalLM.from_pretrained(
        out, dtype=torch.float32, output_loading_info=True
    )
    wrong = {k: sorted(v) for k, v in info.items() if k != "error_msgs" and v}
    if wrong or info.get("error_msgs"):
        raise IncompatibleInputsError(f"{out}: reloading the converted model reports {wrong}")
    if model.config.tie_word_embeddings and not embeddings_tied(model):
        raise IncompatibleInputsError(f"{out}: tie_word_embeddings is set but the head is untied")
    return model.eval()


def embeddings_tied(model: PreTrainedModel) -> bool:
    """Whether the LM head is the input embedding matrix itself (one tensor, not a copy)."""
    head = model.get_output_embeddings()
    return head is not None and head.weight is model.get_input_embeddings().weight


def check_tokenizer(reference, out: Path, texts: Mapping[str, str]) -> int:
    """AutoTokenizer.from_pretrained(out) must have `reference`'s vocabulary and give its ids on
    every text; IncompatibleInputsError naming the first text that differs. Returns the size."""
    reloaded = AutoTokenizer.from_pretrained(out)
    if reloaded.get_vocab() != reference.get_vocab():
        raise IncompatibleInputsError(
            f"{out}: saved tokenizer has {len(reloaded):,} entries, the GGUF's {len(reference):,}"
            " or a different vocabulary"
        )
    for name, text in texts.items():
        want, got = reference(text)["input_ids"], reloaded(text)["input_ids"]
        if got != want:
            raise IncompatibleInputsError(
                f"{out}: saved tokenizer encodes text {name!r} as {got[:12]}…, the GGUF's as "
                f"{want[:12]}…"
            )
    return len(reloaded)


def check_losses(before: dict[str, float], after: dict[str, float], tolerance: float) -> float:
    """Largest |Δ loss| between the GGUF-loaded and the converted model; IncompatibleInputsError
    naming the worst text when it reaches `tolerance` (nats/token)."""
    deltas = {name: abs(after[name] - before[name]) for name in before}
    worst = max(deltas, key=deltas.get)
    if not deltas[worst] < tolerance:  # also catches NaN
        raise IncompatibleInputsError(
            f"converted model's loss on {worst!r} is {after[worst]:.5f} nats/token, the GGUF's "
            f"{before[worst]:.5f}: |Δ| {deltas[worst]:.2e} ≥ tolerance {tolerance:g}"
        )
    return deltas[worst]


def load_gguf(gguf_path: Path):
    """(model in fp32, tokenizer) from a GGUF file via transformers' `gguf_file=`."""
    if not gguf_path.is_file():
        raise MissingPathError("GGUF model", gguf_path, "a .gguf file")
    for package in ("gguf", "accelerate"):  # transformers' GGUF loader needs both
        if importlib.util.find_spec(package) is None:
            raise MissingPathError(f"package {package}", package, INSTALL_GGUF)
    kwargs = {"gguf_file": gguf_path.name}
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, dtype=torch.float32, **kwargs)
    return model.eval(), tokenizer


def _verify(
    out: Path, tokenizer, texts: Mapping[str, str], probes: Mapping[str, str], rows: int
) -> dict[str, object]:
    """Reload the converted dir and check tokenizer, tying and losses; the counts."""
    size = check_tokenizer(tokenizer, out, {**texts, **probes})
    if size > rows:
        raise IncompatibleInputsError(
            f"{out}: tokenizer has {size:,} entries, the model {rows:,} rows"
        )
    converted = load_converted(out)
    losses = causal_lm_losses(converted, tokenizer, texts)
    return {
        "tokenizer_size": size,
        "tied_embeddings": embeddings_tied(converted),
        "losses_converted": losses,
    }


def convert_gguf_causal_lm(
    gguf_path: str | Path,
    out_dir: str | Path,
    texts: Mapping[str, str],
    tokenizer_texts: Mapping[str, str] | None = None,
    tolerance: float = 1e-3,
) -> dict[str, object]:
    """Convert a GGUF causal LM into `out_dir` (absent or empty; written atomically) as fp32
    model.safetensors + config.json + generation_config.json + tokenizer files, and verify it:
    clean reload, embeddings still tied, the tokenizer's ids equal on `texts` and
    `tokenizer_texts`, and the causal-LM loss (nats/token) on each of `texts` within `tolerance`
    of the GGUF-loaded model's (IncompatibleInputsError otherwise; nothing is left behind).
    Returns counts with both losses. The GGUF-loaded model is dropped before anything is written,
    so only one model is in memory at a time."""
    started, gguf_path, out_dir = time.perf_counter(), Path(gguf_path), Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ConfigError("out_dir", str(out_dir), "an absent or empty directory")
    if not texts or not tolerance > 0:
        raise ConfigError("texts/tolerance", (len(texts), tolerance), "≥ 1 text and tolerance > 0")
    model, tokenizer = load_gguf(gguf_path)
    gguf_losses = causal_lm_losses(model, tokenizer, texts)
    counts = _describe(model)
    config, generation = _plain_config(model), model.generation_config
    state, counts["tied_keys"] = untied_state(model)
    del model
    gc.collect()
    with atomic_dir(out_dir) as tmp:
        _write_model(state, config, generation, tokenizer, tmp)
        counts |= _verify(tmp, tokenizer, texts, tokenizer_texts or {}, counts["embedding_rows"])
        worst = check_losses(gguf_losses, counts["losses_converted"], tolerance)
    log.info("GGUF → %s: max |Δ loss| %.2e nats/token over %d texts", out_dir, worst, len(texts))
    return {
        **counts,
        "losses_gguf": gguf_losses,
        "max_loss_delta": worst,
        "tolerance": tolerance,
        "dtype": "float32",
        "seconds": round(time.perf_counter() - started, 3),
    }
