"""The package's shape: no import cycles, a small top level, small files, and a module map that names every part."""

from __future__ import annotations

import ast
from pathlib import Path

import codex_self_iter

PACKAGE = Path(codex_self_iter.__file__).parent
ROOT = PACKAGE.parent.parent
NAME = "codex_self_iter"


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every package module this one imports, at any depth of the file (lazy imports inside functions too)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.add(full if full in modules else node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; import by the full {NAME}.… name")
    return {m for m in out if m in modules and m != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_among_the_package_modules() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert sum(len(targets) for targets in graph.values()) > 100  # the walk really sees the imports
    assert _cycles(graph) == []


def test_at_most_ten_modules_at_the_top_of_the_package() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(top) <= 10, top


def test_no_package_file_over_300_lines() -> None:
    sizes = {
        str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")
    }
    assert len(sizes) > 50
    assert {name: n for name, n in sizes.items() if n > 300} == {}


def test_the_module_map_in_agents_md_names_every_subpackage() -> None:
    text = (ROOT / "AGENTS.md").read_text(encoding="utf-8")
    subpackages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert len(subpackages) >= 8
    missing = [name for name in subpackages if f"`{name}/`" not in text]
    assert missing == []


def test_the_shared_small_types_import_only_the_standard_library() -> None:
    tree = ast.parse((PACKAGE / "agent" / "kinds.py").read_text(encoding="utf-8"))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported and not {name for name in imported if name.startswith(NAME)}
    assert imported <= {"__future__", "dataclasses", "enum"}


# Commands that may import a codex/ module themselves, each with its reason. Keep it short: a command asks the
# runner (AgentRunner in agent/types.py, chosen in agent/runners.py), never the codex backend's internals.
COMMANDS_MAY_IMPORT_CODEX: dict[str, str] = {}


def test_commands_reach_the_codex_backend_only_through_the_runner() -> None:
    modules = _modules()
    codex = f"{NAME}.codex"
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert f"{codex}.runner" in graph[f"{NAME}.agent.runners"]  # the one door, seen by the walk (lazy import)
    commands = [name for name in graph if name.startswith(f"{NAME}.commands.")]
    assert len(commands) > 10
    reaching = {
        name: sorted(m for m in graph[name] if m == codex or m.startswith(f"{codex}."))
        for name in commands
        if name not in COMMANDS_MAY_IMPORT_CODEX
    }
    assert {name: found for name, found in reaching.items() if found} == {}
