"""The import structure docs/architecture.md describes: every package imports only from its own
layer or the layers below, and no module imports itself back through others (no cycle).

Run alone: `pytest tests/unit/test_architecture.py -q` (reads the source; imports nothing)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "hyperofa"
# bottom to top; a unit is a top-level module or package of hyperofa (docs/architecture.md)
LAYERS = [
    {"hyperofa", "errors"},
    {"paths", "artifacts", "knn", "ordered_sums"},
    {"config"},
    {"training", "corpus", "vocab", "factorize"},
    {"wordvec", "match", "masking", "models", "hypernet"},
    {"init", "pretrain"},
    {"evaluate"},
    {"assets"},
    {"stages"},
    {"preflight", "tracking", "report"},
    {"pipeline"},
    {"cli"},
]
LAYER = {unit: i for i, units in enumerate(LAYERS) for unit in units}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(["hyperofa", *parts]).removesuffix(".__init__")


def imports(path: Path) -> set[str]:
    """hyperofa modules `path` imports (at any depth of the file: lazy imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hyperofa"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("hyperofa")}
    return found


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


GRAPH = {module_name(p): imports(p) for p in SRC.rglob("*.py")}


def test_every_unit_has_a_layer():
    assert {unit(m) for m in GRAPH} <= set(LAYER)


def test_no_module_imports_from_a_layer_above_its_own():
    upward = [
        f"{m} → {t}"
        for m, targets in GRAPH.items()
        for t in targets
        if LAYER[unit(t)] > LAYER[unit(m)]
    ]
    assert upward == []


def test_same_layer_units_do_not_import_each_other():
    sideways = [
        f"{m} → {t}"
        for m, targets in GRAPH.items()
        for t in targets
        if unit(t) != unit(m) and LAYER[unit(t)] == LAYER[unit(m)] and unit(t) != "hyperofa"
    ]
    assert sideways == []


def _resolve(module: str) -> str | None:
    """The module file an import names (an imported name of a package maps to the package)."""
    while module and module not in GRAPH:
        module = module.rpartition(".")[0]
    return module or None


def test_there_is_no_import_cycle():
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(filter(None, map(_resolve, GRAPH[module]))):
            if target == module:
                continue
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target] if target in path else [target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert cycles == []
