"""Typed configs of the HyperOFA hypernetwork and of its training (DESIGN.md §3.3).

`conf/hypernet/{bilstm,setformer}.yaml` hold the same fields with their provenance; this module
turns that group into the dataclasses below, which every library function takes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from hyperofa.errors import ConfigError

ARCHITECTURES = ("bilstm", "setformer")


def _require(ok: bool, key: str, value: object, expected: str) -> None:
    if not ok:
        raise ConfigError(key, value, expected)


def _positive_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


Rules = dict[str, tuple[Callable[[Any], bool], str]]  # field → (check, what is expected)


def _check(obj: object, prefix: str, rules: Rules) -> None:
    for name, (ok, expected) in rules.items():
        value = getattr(obj, name)
        _require(ok(value), f"{prefix}.{name}", value, expected)


_MODEL_RULES: Rules = {
    "architecture": (lambda v: v in ARCHITECTURES, f"one of {ARCHITECTURES}"),
    **{
        n: (_positive_int, "an int > 0")
        for n in ("input_dim", "hidden_size", "num_layers", "num_heads", "ff_dim", "max_context")
    },
    "dropout": (lambda v: 0.0 <= v < 1.0, "0 <= dropout < 1"),
    "output_dim": (lambda v: v is None or _positive_int(v), "null or an int > 0"),
}

_TRAIN_RULES: Rules = {
    "lambda_contrastive": (lambda v: 0.0 <= v <= 1.0, "0 <= λ <= 1"),
    **{n: (lambda v: v > 0, "> 0") for n in ("temperature", "lr", "gamma")},
    **{
        n: (_positive_int, "an int > 0")
        for n in (
            "batch_size",
            "step_size",
            "max_epochs",
            "length_group_chunk",
            "checkpoint_every_n_steps",
        )
    },
    "num_workers": (lambda v: isinstance(v, int) and v >= 0, "an int >= 0"),
    "augment_p": (lambda v: 0.0 <= v <= 1.0, "in [0, 1]"),
    "augment_min_words": (lambda v: isinstance(v, int) and v >= 0, "an int >= 0"),
    "augment_keep": (
        lambda v: len(v) == 2 and 0.0 < v[0] <= v[1] <= 1.0,
        "(low, high) with 0 < low <= high <= 1",
    ),
    "split": (
        lambda v: len(v) == 3 and min(v) >= 0 and abs(sum(v) - 1) < 1e-6,
        "three fractions >= 0 summing to 1 (train, val, test)",
    ),
    "early_stopping_patience": (lambda v: v is None or _positive_int(v), "null or an int > 0"),
    "grad_clip": (lambda v: v is None or v > 0, "null or > 0"),
}


@dataclass
class HypernetConfig:
    """Architecture of the hypernetwork: set of word vectors (each `input_dim`) → one row.

    `output_dim` is filled in at run time from the targets (D' when factorized, else D).
    """

    architecture: str = "bilstm"
    input_dim: int = 100  # must equal the word-vector dim (ours 100, ColexNet+ 200)
    hidden_size: int = 800  # BiLSTM, per direction
    num_layers: int = 1
    num_heads: int = 10  # SetFormer only
    ff_dim: int = 800  # SetFormer only
    dropout: float = 0.2
    max_context: int = 256  # words per token fed to the net
    output_dim: int | None = None

    def __post_init__(self) -> None:
        _check(self, "hypernet.model", _MODEL_RULES)
        if self.architecture == "setformer":
            _require(
                self.input_dim % self.num_heads == 0,
                "hypernet.model.num_heads",
                self.num_heads,
                f"a divisor of input_dim={self.input_dim} (d_model = word dim)",
            )


@dataclass
class HypernetTrainConfig:
    """How the hypernetwork is trained: loss, optimizer, data order, augmentation, split."""

    lambda_contrastive: float = 0.1  # λ in λ·InfoNCE + (1−λ)·L1norm
    temperature: float = 0.25  # 0.25 for XLM-R, 0.5 for RoBERTa (paper)
    batch_size: int = 256
    lr: float = 1e-4
    step_size: int = 10  # StepLR, in epochs
    gamma: float = 0.95
    max_epochs: int = 300
    early_stopping_patience: int | None = 20  # epochs without val improvement; None = off
    grad_clip: float | None = 1.0  # max grad norm; None = off
    augment_p: float = 0.5
    augment_min_words: int = 4  # only tokens with strictly more words are augmented
    augment_keep: tuple[float, float] = (0.5, 1.0)  # fraction kept ~ uniform(low, high)
    group_by_length: bool = True
    length_group_chunk: int = 40  # sort by length within chunks of this many batches
    split: tuple[float, float, float] = (0.97, 0.025, 0.005)  # train, val, test
    split_seed: int = 42
    seed: int = 42  # model init, data order, augmentation, dropout
    checkpoint_every_n_steps: int = 100  # last.ckpt cadence, for mid-epoch resume
    num_workers: int = 0
    accelerator: str = "cpu"

    def __post_init__(self) -> None:
        self.augment_keep = tuple(float(x) for x in self.augment_keep)  # OmegaConf gives lists
        self.split = tuple(float(x) for x in self.split)
        _check(self, "hypernet.train", _TRAIN_RULES)


def _plain(node: Any) -> dict[str, Any]:
    """A Mapping or DictConfig as a dict, without Hydra's `_target_`-style keys."""
    if not isinstance(node, Mapping):
        from omegaconf import OmegaConf

        node = OmegaConf.to_container(node, resolve=True)
    return {k: v for k, v in dict(node).items() if not str(k).startswith("_")}


def as_model_config(cfg: HypernetConfig | Mapping[str, Any]) -> HypernetConfig:
    """`cfg` as a HypernetConfig; a mapping (e.g. a Hydra node) must name only its fields."""
    if isinstance(cfg, HypernetConfig):
        return cfg
    values = _plain(cfg)
    unknown = set(values) - {f.name for f in fields(HypernetConfig)}
    _require(not unknown, "hypernet.model.cfg", sorted(unknown), "only HypernetConfig fields")
    return HypernetConfig(**values)


def configs_from_group(group: Any) -> tuple[HypernetConfig, HypernetTrainConfig]:
    """Validate a `hypernet` config group (`model.cfg` + `train`) into the two dataclasses."""
    node = _plain(group)
    model, train = node.get("model"), node.get("train")
    _require(model is not None and "cfg" in model, "hypernet.model.cfg", None, "a mapping")
    _require(train is not None, "hypernet.train", None, "a mapping")
    train_values = _plain(train)
    unknown = set(train_values) - {f.name for f in fields(HypernetTrainConfig)}
    _require(not unknown, "hypernet.train", sorted(unknown), "only HypernetTrainConfig fields")
    return as_model_config(model["cfg"]), HypernetTrainConfig(**train_values)
