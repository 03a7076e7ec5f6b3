"""The one gate: a composed Hydra config → a validated `RunConfig`, or a ConfigError naming the
key. The entry point and the config tests both call `to_run_config`; nothing else validates."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import MISSING as MISSING_FIELD
from dataclasses import fields, is_dataclass
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from hyperofa.config.enums import Initializer
from hyperofa.config.evaluate import DOWNSTREAM_TASKS
from hyperofa.config.initializers import INITIALIZER_CONFIGS, InitializerConfig
from hyperofa.config.rules import check_tree
from hyperofa.config.schema import RunConfig
from hyperofa.errors import ConfigError

T = TypeVar("T")
HYDRA_KEYS = ("hydra",)


def structured(cls: type[T], node: Mapping[str, Any], prefix: str) -> T:
    """`node` merged into the schema `cls` and built; a wrong type, an unknown or a missing key
    is a ConfigError naming `<prefix>.<key>`."""
    try:
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(cls), node))
    except OmegaConfBaseException as err:
        inner = str(getattr(err, "full_key", "") or "")
        key = ".".join(p for p in (prefix, inner) if p) or "?"
        value = getattr(err, "value", None)
        if value is None and inner:  # an unknown key's error carries no value
            value = OmegaConf.select(OmegaConf.create(dict(node)), inner)
        raise ConfigError(key, value, _expected(err, key, cls, prefix)) from None


def _expected(err: OmegaConfBaseException, key: str, cls: type, prefix: str) -> str:
    message = str(err).splitlines()[0]
    if isinstance(err, ConfigKeyError):
        known = [".".join(p for p in (prefix, k) if p) for k in schema_keys(cls)]
        close = difflib.get_close_matches(key, known, n=3)
        return f"a key of the config schema{f' (did you mean {close}?)' if close else ''}"
    if match := re.search(r"could not be converted to (\w+)", message):
        return f"a value of type {match[1].lower()}"
    return message


def schema_keys(cls: type, prefix: str = "") -> list[str]:
    """Every dotted key of a dataclass schema, nested ones included."""
    keys = []
    for f in fields(cls):
        key = f"{prefix}.{f.name}" if prefix else f.name
        keys.append(key)
        default = f.default_factory() if f.default_factory is not MISSING_FIELD else f.default
        if is_dataclass(default):
            keys += schema_keys(type(default), key)
    return keys


def initializer_config(node: Mapping[str, Any]) -> InitializerConfig:
    """The initializer node as the dataclass its `name` picks."""
    name = node.get("name")
    choices = [i.value for i in Initializer]
    if name not in choices:
        raise ConfigError("initializer.name", name, f"one of {choices}")
    return structured(INITIALIZER_CONFIGS[Initializer(name)], node, "initializer")


def _composed_tasks(node: dict[str, Any]) -> dict[str, Any]:
    """The eval node without task nodes the `eval` list did not compose (an experiment may set a
    task's values for when it is composed; only conf/eval/<task>.yaml sets `task`)."""
    return {
        k: v
        for k, v in node.items()
        if k not in DOWNSTREAM_TASKS or (isinstance(v, Mapping) and v.get("task") == k)
    }


def _require_set(node: Any, prefix: str = "") -> None:
    """ConfigError for the first `???` (a value the chosen option needs set), e.g. `model.path`
    of `model=xlmr_base`; OmegaConf would otherwise keep the schema's default."""
    items = (
        node.items()
        if isinstance(node, Mapping)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for k, v in items:
        key = f"{prefix}.{k}" if prefix else str(k)
        if v == "???":
            raise ConfigError(
                key, v, "a value: the chosen config option needs it set on the command line"
            )
        _require_set(v, key)


def to_run_config(cfg: DictConfig | Mapping[str, Any]) -> RunConfig:
    """Validate a composed config (Hydra's `hydra` node is ignored) into a RunConfig."""
    raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    raw = {k: v for k, v in raw.items() if k not in HYDRA_KEYS}
    if isinstance(raw.get("eval"), Mapping):
        raw["eval"] = _composed_tasks(dict(raw["eval"]))
    _require_set(raw)
    initializer = initializer_config(raw.pop("initializer", None) or {})
    run = structured(RunConfig, raw, "")
    run.initializer = initializer
    check_tree(run)
    return run
