"""Typed configs of the initializers (conf/initializer/<name>.yaml), one dataclass per method.

`name` picks the dataclass (`INITIALIZER_CONFIGS`); the rest of the node must be its fields.
Every method also takes `overrides`: user-named target tokens whose rows are set from named source
tokens after the method ran (`init.manual`); `manual` is the overrides alone, the rest random.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hyperofa.config.enums import AnchorSpace, Calibration, Initializer, WordWeighting
from hyperofa.config.rules import Rule, non_negative, positive, require, ruled


def override_sources(value: Any) -> list[str] | None:
    """The source tokens an override names (one string or a non-empty list), None if malformed."""
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) and v for v in value):
        return list(value)
    return None


_POSITIVE_LIST = Rule(lambda v: len(v) > 0 and min(v) > 0, "a non-empty list of values > 0")
_UNIT_LIST = Rule(
    lambda v: len(v) > 0 and min(v) >= 0 and max(v) <= 1, "a non-empty list in [0, 1]"
)


@dataclass
class InitializerConfig:
    """What every initializer config has: the method's name (the row label in every table) and
    the user's overrides: target token → source token or list of source tokens (rows averaged),
    tokens spelled as in the vocabularies (e.g. `▁haus`)."""

    name: Initializer = Initializer.random
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The row label in every table: the name, or a variant's (`stacked+hypernet`)."""
        return str(self.name)

    def check(self, prefix: str) -> None:
        for token, value in self.overrides.items():
            key = f"{prefix}.overrides.{token}"
            require(bool(token), key, token, "a non-empty target token")
            require(
                override_sources(value) is not None,
                key,
                value,
                "a source token or a non-empty list of source tokens",
            )


@dataclass
class RandomConfig(InitializerConfig):
    """Copy shared tokens; everything else ~ normal(source mean, source std) per dimension."""

    name: Initializer = Initializer.random


@dataclass
class OFAConfig(InitializerConfig):
    """softmax(sim / T)-weighted top-k source rows in word-vector space (OFA §3)."""

    name: Initializer = Initializer.ofa
    top_k: int = positive(10)  # OFA paper / code
    temperature: float = positive(0.1)  # OFA paper / code
    word_weighting: WordWeighting = WordWeighting.multiset  # the public code's token vectors
    use_gpu: bool = True  # a faiss GPU index when faiss-gpu and a GPU are present


@dataclass
class HyperOFAConfig(InitializerConfig):
    """A hypernetwork (the `hypernet` group) maps a token's word vectors to its row; the intrinsic
    comparison's OFA baseline uses OFA's k and T."""

    name: Initializer = Initializer.hyperofa
    ofa_top_k: int = positive(10)
    ofa_temperature: float = positive(0.1)


@dataclass
class MeanConfig(InitializerConfig):
    """Every new token gets the mean of the source rows (Hewitt 2021)."""

    name: Initializer = Initializer.mean


@dataclass
class NormalConfig(InitializerConfig):
    """Every new token ~ N(mean, covariance) of the source rows (Hewitt 2021), seeded."""

    name: Initializer = Initializer.normal


@dataclass
class FVTConfig(InitializerConfig):
    """The mean of the source rows of a new token's pieces under the source tokenizer (Gee et al.
    2022, Fast Vocabulary Transfer)."""

    name: Initializer = Initializer.fvt


@dataclass
class StaticVectorsConfig:
    """FOCUS's auxiliary token embeddings: fastText (gensim) on target-language text tokenized by
    the target tokenizer. Defaults: deepfocus `FOCUS()` / `train_fasttext` (CBOW, neg 10), the
    rest fastText's own defaults."""

    dim: int = positive(100)  # deepfocus fasttext_model_dim
    epochs: int = positive(3)  # deepfocus fasttext_model_epochs
    min_count: int = positive(10)  # deepfocus fasttext_model_min_count: rarer tokens stay random
    cbow: bool = True  # deepfocus: CBOW, "more closely aligned with masked LM" than skip-gram
    negative: int = positive(10)  # deepfocus neg=10
    window: int = positive(5)  # fastText ws
    lr: float = positive(0.05)  # fastText lr
    min_n: int = non_negative(3)  # fastText minn (character n-grams of a token string)
    max_n: int = non_negative(6)  # fastText maxn; 0 = no n-grams
    bucket: int = positive(2_000_000)  # fastText bucket (n-gram hash rows)
    sample: float = ruled(1e-4, Rule(lambda v: 0 <= v < 1, "in [0, 1)"))  # fastText t
    workers: int = positive(1)  # > 1 is faster but not bit-reproducible (gensim threads)
    seed: int = non_negative(42)

    def check(self, prefix: str) -> None:
        if self.max_n:
            require(
                self.min_n <= self.max_n, f"{prefix}.min_n", self.min_n, f"<= max_n {self.max_n}"
            )


@dataclass
class FocusConfig(InitializerConfig):
    """sparsemax over the cosine similarities of a new token to the shared tokens in a static
    token-embedding space; weighted sum of the shared tokens' source rows (FOCUS §3)."""

    name: Initializer = Initializer.focus
    static: StaticVectorsConfig = field(default_factory=StaticVectorsConfig)


@dataclass
class OMPConfig(InitializerConfig):
    """A new token's vector as a sparse combination of ≤ k shared tokens' vectors by Orthogonal
    Matching Pursuit; the coefficients applied to their source rows (mergekit tokensurgeon)."""

    name: Initializer = Initializer.omp
    k: int = positive(64)  # mergekit tokensurgeon's default for `omp`
    space: AnchorSpace = AnchorSpace.word_vectors
    word_weighting: WordWeighting = WordWeighting.multiset  # token vectors, as `ofa`
    static: StaticVectorsConfig = field(default_factory=StaticVectorsConfig)  # space=static


@dataclass
class StackedConfig(InitializerConfig):
    """Ours: per coverage pattern, a ridge map from the predictions of ofa, fvt, a script prior
    and the mean row to a token's row, fitted on cross-fitted source tokens (`init.stacked`)."""

    name: Initializer = Initializer.stacked
    ofa_top_k: int = positive(10)  # the `ofa` expert: OFA's k and T
    ofa_temperature: float = positive(0.1)
    use_gpu: bool = True  # the `ofa` expert's faiss GPU index when faiss-gpu and a GPU are present
    fit_tokens: int = positive(40_000)  # source tokens the maps are fitted on (a seeded sample)
    folds: int = ruled(10, Rule(lambda v: v >= 2, ">= 2"))  # cross-fitting folds
    ridge: float = positive(0.1)  # relative to the mean diagonal of each Gram matrix
    calibrate: Calibration = Calibration.text  # how the rows' length is set (`Calibration`)
    # `text`: mean norm of the new rows as a multiple of the source rows', candidates scored by
    # the source model's loss on `probe_texts` texts of the training text (the CPT / FOCUS text)
    text_norms: list[float] = ruled([0.25, 0.5, 0.75, 1.0, 1.25], _POSITIVE_LIST)
    probe_texts: int = positive(128)
    calibrate_groups: bool = True  # text: then one ρ for tokens with matched words, one without
    hypernet: bool = False  # mix the trained hypernetwork's rows into those of tokens with words
    hypernet_shares: list[float] = ruled([0.0, 0.25, 0.5, 0.75, 1.0], _UNIT_LIST)  # its share t

    def check(self, prefix: str) -> None:
        super().check(prefix)
        if self.hypernet:
            require(
                self.calibrate == Calibration.text, f"{prefix}.calibrate", self.calibrate,
                "text with hypernet=true (the hypernetwork's share is chosen on training text)",
            )  # fmt: skip

    @property
    def label(self) -> str:
        return "stacked+hypernet" if self.hypernet else "stacked"


@dataclass
class ManualConfig(InitializerConfig):
    """Only the `overrides` rows; every other new token random (no overrides: `random`)."""

    name: Initializer = Initializer.manual


INITIALIZER_CONFIGS: dict[Initializer, type[InitializerConfig]] = {
    Initializer.random: RandomConfig,
    Initializer.ofa: OFAConfig,
    Initializer.hyperofa: HyperOFAConfig,
    Initializer.mean: MeanConfig,
    Initializer.normal: NormalConfig,
    Initializer.fvt: FVTConfig,
    Initializer.focus: FocusConfig,
    Initializer.omp: OMPConfig,
    Initializer.manual: ManualConfig,
    Initializer.stacked: StackedConfig,
}
