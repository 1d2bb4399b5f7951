"""The package's rooms stay apart: the run-time reader never imports training code, and no two
modules import each other (directly or round a longer loop), at module level or inside functions."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "qa"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every qa.* module ``path`` imports anywhere in its body, resolved to a module of the package."""
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            # "from qa.reader import span" names a module; "from .model import X" a module too
            names = [mod] + [f"{mod}.{a.name}" for a in node.names]
        else:
            continue
        found |= {n for n in names if n == "qa" or n.startswith("qa.")}
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        graph[name] = {m for m in _imports(path) if m in files and m != name}
    return graph


def test_the_run_time_reader_imports_no_training_code():
    graph = _graph()
    for name, deps in graph.items():
        if name.startswith("qa.reader") or name in ("qa.pipeline", "qa.cli", "qa.chat", "qa.options"):
            assert not {d for d in deps if d.startswith("qa.training")}, name


def test_no_import_circles():
    graph = _graph()
    # a package __init__ that re-exports its own modules is not a loop back to itself
    edges = {n: {d for d in deps if not (n.startswith(d + ".") and graph.get(d) is not None)}
             for n, deps in graph.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(edges[node]):
            if state.get(dep) == 1:
                cycles.append(stack[stack.index(dep):] + [dep] if dep in stack else [node, dep])
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = 2

    for n in sorted(edges):
        if n not in state:
            visit(n, [n])
    assert cycles == []
