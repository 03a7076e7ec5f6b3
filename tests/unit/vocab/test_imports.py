"""The vocab modules import one another without a cycle (module-level and deferred imports)."""

import ast
from pathlib import Path

import hyperofa.vocab

PACKAGE = "hyperofa.vocab"


def vocab_imports(path: Path) -> set[str]:
    """Names of the `hyperofa.vocab.*` modules `path` imports anywhere in its body."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(f"{PACKAGE}."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(f"{PACKAGE}."))
    return found


def test_no_import_cycle_among_the_vocab_modules():
    folder = Path(hyperofa.vocab.__file__).parent
    graph = {f"{PACKAGE}.{p.stem}": vocab_imports(p) for p in folder.glob("*.py")}
    assert graph[f"{PACKAGE}.wordpiece"] and graph[f"{PACKAGE}.extend"]  # the graph is not empty
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        assert state.get(module) != "open", f"import cycle: {' -> '.join([*path, module])}"
        if state.get(module) == "done":
            return
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            visit(target, [*path, module])
        state[module] = "done"

    for module in sorted(graph):
        visit(module, [])
