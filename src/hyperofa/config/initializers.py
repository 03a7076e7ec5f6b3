"""Typed configs of the initializers (conf/initializer/<name>.yaml), one dataclass per method.

`name` picks the dataclass (`INITIALIZER_CONFIGS`); the rest of the node must be its fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from hyperofa.config.enums import Initializer, WordWeighting
from hyperofa.config.rules import positive


@dataclass
class InitializerConfig:
    """What every initializer config has: the method's name (the row label in every table)."""

    name: Initializer = Initializer.random


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


INITIALIZER_CONFIGS: dict[Initializer, type[InitializerConfig]] = {
    Initializer.random: RandomConfig,
    Initializer.ofa: OFAConfig,
    Initializer.hyperofa: HyperOFAConfig,
}
