"""Initializers by name: the one place a config becomes an initializer object."""

from __future__ import annotations

from collections.abc import Callable

from hyperofa.config.enums import AnchorSpace, Calibration
from hyperofa.config.enums import Initializer as Name
from hyperofa.config.initializers import (
    FocusConfig,
    InitializerConfig,
    OMPConfig,
    StackedConfig,
    StaticVectorsConfig,
)
from hyperofa.errors import IncompatibleInputsError
from hyperofa.hypernet.train import TrainResult
from hyperofa.init.base import Initializer
from hyperofa.init.focus import FocusInitializer
from hyperofa.init.fvt import FVTInitializer
from hyperofa.init.hyperofa import HyperOFAInitializer
from hyperofa.init.manual import ManualInitializer, WithOverrides
from hyperofa.init.ofa import OFAInitializer
from hyperofa.init.omp import OMPInitializer
from hyperofa.init.random import RandomInitializer
from hyperofa.init.stacked import StackedInitializer
from hyperofa.init.statistics import MeanInitializer, NormalInitializer

# name → builder from the method's config (hyperofa, and stacked with its hypernet expert, are
# built apart: they read the trained hypernetwork)
BUILDERS: dict[Name, Callable[[InitializerConfig], Initializer]] = {
    Name.random: lambda cfg: RandomInitializer(),
    Name.ofa: lambda cfg: OFAInitializer(cfg),  # type: ignore[arg-type]
    Name.mean: lambda cfg: MeanInitializer(),
    Name.normal: lambda cfg: NormalInitializer(),
    Name.fvt: lambda cfg: FVTInitializer(),
    Name.focus: lambda cfg: FocusInitializer(),
    Name.omp: lambda cfg: OMPInitializer(cfg),  # type: ignore[arg-type]
    Name.manual: lambda cfg: ManualInitializer(cfg.overrides),
    Name.stacked: lambda cfg: StackedInitializer(cfg),  # type: ignore[arg-type]
}


def needs_hypernet(cfg: InitializerConfig) -> bool:
    """The method reads a trained hypernetwork (`hyperofa`, `stacked` with hypernet=true)."""
    return cfg.name == Name.hyperofa or (isinstance(cfg, StackedConfig) and cfg.hypernet)


def static_vectors_config(cfg: InitializerConfig) -> StaticVectorsConfig | None:
    """The settings of FOCUS's static token embeddings (the `focus` stage) when the method reads
    them (`focus`, `omp` with space=static), else None."""
    if isinstance(cfg, FocusConfig):
        return cfg.static
    if isinstance(cfg, OMPConfig) and cfg.space == AnchorSpace.static:
        return cfg.static
    return None


def probe_size(cfg: InitializerConfig) -> int | None:
    """How many training texts the method's probe scores its candidates on (`stacked` with
    calibrate=text: `InitInputs.probe`), else None."""
    if isinstance(cfg, StackedConfig) and cfg.calibrate == Calibration.text:
        return cfg.probe_texts
    return None


def build_initializer(cfg: InitializerConfig, hypernet: TrainResult | None = None) -> Initializer:
    """The initializer `cfg` names, with its overrides on top; `hypernet` is the trained network
    (and its splits) the methods of `needs_hypernet` predict with."""
    if cfg.name == Name.hyperofa:
        if hypernet is None:
            raise IncompatibleInputsError("initializer `hyperofa` needs the trained hypernetwork")
        method: Initializer = HyperOFAInitializer(hypernet.model)
    elif isinstance(cfg, StackedConfig) and cfg.hypernet:
        method = StackedInitializer(cfg, hypernet)
    else:
        method = BUILDERS[cfg.name](cfg)
    if cfg.overrides and cfg.name != Name.manual:
        return WithOverrides(method, ManualInitializer(cfg.overrides))
    return method
