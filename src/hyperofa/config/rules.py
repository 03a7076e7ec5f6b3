"""Value rules of config fields, checked by one walker that knows each field's full key.

A field declares its rule in its metadata (`positive(…)`, `in_unit(…)`, …); a dataclass may add
cross-field checks in a `check(prefix)` method. Every float must be finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from hyperofa.errors import ConfigError


@dataclass(frozen=True)
class Rule:
    ok: Callable[[Any], bool]
    expected: str


def ruled(default: Any, rule: Rule) -> Any:
    """A dataclass field with `default` (a list or tuple default becomes a factory) and a rule."""
    if isinstance(default, list | tuple):
        return field(default_factory=lambda: type(default)(default), metadata={"rule": rule})
    return field(default=default, metadata={"rule": rule})


def positive(default: Any) -> Any:
    return ruled(default, Rule(lambda v: v > 0, "> 0"))


def non_negative(default: Any) -> Any:
    return ruled(default, Rule(lambda v: v >= 0, ">= 0"))


def in_unit(default: float) -> Any:
    """A value in [0, 1]."""
    return ruled(default, Rule(lambda v: 0 <= v <= 1, "in [0, 1]"))


def probability(default: float) -> Any:
    """A value in (0, 1)."""
    return ruled(default, Rule(lambda v: 0 < v < 1, "a probability in (0, 1)"))


def require(ok: bool, key: str, value: object, expected: str) -> None:
    if not ok:
        raise ConfigError(key, value, expected)


def check_tree(node: Any, prefix: str = "") -> None:
    """ConfigError naming `<prefix>.<field>` for the first value that breaks a rule, depth first."""
    for f in fields(node):
        value = getattr(node, f.name)
        key = f"{prefix}.{f.name}" if prefix else f.name
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(key, value, "a finite number")
        rule = f.metadata.get("rule")
        if rule is not None and value is not None and not rule.ok(value):
            raise ConfigError(key, value, rule.expected)
        for i, item in enumerate(value if isinstance(value, list | tuple) else [value]):
            if is_dataclass(item):
                check_tree(item, key if item is value else f"{key}[{i}]")
            elif isinstance(item, float) and not math.isfinite(item):
                raise ConfigError(f"{key}[{i}]", item, "a finite number")
    if callable(getattr(node, "check", None)):
        node.check(prefix)
