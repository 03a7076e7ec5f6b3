"""Initializers by name: the one place a config becomes an initializer object."""

from __future__ import annotations

from torch import nn

from hyperofa.config.enums import Initializer as Name
from hyperofa.config.initializers import InitializerConfig, OFAConfig
from hyperofa.errors import IncompatibleInputsError
from hyperofa.init.base import Initializer
from hyperofa.init.hyperofa import HyperOFAInitializer
from hyperofa.init.ofa import OFAInitializer
from hyperofa.init.random import RandomInitializer


def needs_hypernet(cfg: InitializerConfig) -> bool:
    return cfg.name == Name.hyperofa


def build_initializer(cfg: InitializerConfig, hypernet: nn.Module | None = None) -> Initializer:
    """The initializer `cfg` names; `hypernet` is the trained network `hyperofa` predicts with."""
    if cfg.name == Name.random:
        return RandomInitializer()
    if cfg.name == Name.ofa:
        assert isinstance(cfg, OFAConfig)
        return OFAInitializer(cfg)
    if hypernet is None:
        raise IncompatibleInputsError("initializer `hyperofa` needs the trained hypernetwork")
    return HyperOFAInitializer(hypernet)
