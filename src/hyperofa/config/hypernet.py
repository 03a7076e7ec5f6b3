"""Typed config of the HyperOFA hypernetwork and its training (conf/hypernet/*.yaml, DESIGN §3.3)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hyperofa.config.enums import HypernetArchitecture
from hyperofa.config.rules import Rule, in_unit, non_negative, positive, require, ruled

_KEEP = Rule(lambda v: len(v) == 2 and 0 < v[0] <= v[1] <= 1, "(low, high), 0 < low <= high <= 1")
_SPLIT = Rule(
    lambda v: len(v) == 3 and min(v) >= 0 and abs(sum(v) - 1) < 1e-6,
    "three fractions >= 0 summing to 1 (train, val, test)",
)


@dataclass
class HypernetModelConfig:
    """Architecture: the set of a token's word vectors (each `input_dim`) → one row.

    `input_dim` null = the word-vector dim; `output_dim` null = the rows' width (D' when
    factorized, else D). Both are fixed at run time by `resolved`.
    """

    architecture: HypernetArchitecture = HypernetArchitecture.bilstm
    input_dim: int | None = positive(None)
    hidden_size: int = positive(800)  # BiLSTM, per direction
    num_layers: int = positive(1)
    num_heads: int = positive(10)  # SetFormer only
    ff_dim: int = positive(800)  # SetFormer only
    dropout: float = ruled(0.2, Rule(lambda v: 0 <= v < 1, "0 <= dropout < 1"))
    max_context: int = positive(256)  # words per token fed to the net
    output_dim: int | None = positive(None)

    def check(self, prefix: str) -> None:
        if self.architecture == HypernetArchitecture.setformer and self.input_dim is not None:
            require(
                self.input_dim % self.num_heads == 0,
                f"{prefix}.num_heads",
                self.num_heads,
                f"a divisor of input_dim={self.input_dim} (d_model = the word dim)",
            )


@dataclass
class HypernetTrainConfig:
    """Loss, optimizer, data order, augmentation and split of hypernetwork training."""

    lambda_contrastive: float = in_unit(0.1)  # λ in λ·InfoNCE + (1−λ)·L1norm
    temperature: float = positive(0.25)  # 0.25 for XLM-R, 0.5 for RoBERTa (paper)
    batch_size: int = positive(256)
    # the most padded words (tokens × longest list) one forward pass holds; a longer batch runs
    # in slices whose activations are recomputed for the backward pass (same loss, gradients);
    # null = one pass
    max_words_per_batch: int | None = positive(None)
    lr: float = positive(1e-4)
    step_size: int = positive(10)  # StepLR, in epochs
    gamma: float = positive(0.95)
    max_epochs: int = positive(300)
    early_stopping_patience: int | None = positive(20)  # epochs without val improvement
    grad_clip: float | None = positive(1.0)  # max grad norm; null = off
    augment_p: float = in_unit(0.5)
    augment_min_words: int = non_negative(4)  # only tokens with strictly more words are augmented
    augment_keep: tuple[float, float] = ruled((0.5, 1.0), _KEEP)  # kept ~ uniform(low, high)
    group_by_length: bool = True
    length_group_chunk: int = positive(40)  # sort by length within chunks of this many batches
    split: tuple[float, float, float] = ruled((0.97, 0.025, 0.005), _SPLIT)  # train, val, test
    split_seed: int = non_negative(42)
    seed: int = non_negative(42)  # model init, data order, augmentation, dropout
    checkpoint_every_n_steps: int = positive(100)  # last.ckpt cadence, for mid-epoch resume
    num_workers: int = non_negative(0)

    def __post_init__(self) -> None:
        self.augment_keep = tuple(float(x) for x in self.augment_keep)  # OmegaConf gives lists
        self.split = tuple(float(x) for x in self.split)


@dataclass
class HypernetConfig:
    model: HypernetModelConfig = field(default_factory=HypernetModelConfig)
    train: HypernetTrainConfig = field(default_factory=HypernetTrainConfig)
