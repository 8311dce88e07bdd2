"""The sandbox's floor plan: no import circles, no suite code, and a cheap package import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import tradeops.sandbox

ROOT = Path(tradeops.sandbox.__file__).parent
PACKAGE = "tradeops.sandbox"
# What the three rooms (store/, servers/, oanda/) may all import besides themselves.
SHARED_BY_ROOMS = {f"{PACKAGE}.scenarios", f"{PACKAGE}._loopback"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def _imports(path: Path) -> set[str]:
    """Every tradeops module the file imports, at any depth (lazy imports count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("tradeops")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tradeops"):
            found.add(str(node.module))
            # `from tradeops.sandbox.store import _sqlite` imports a module, not a name.
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the sandbox modules it imports (the package's lazy __init__ aside)."""
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        if name == PACKAGE:
            continue  # its exports load on first use, never at import
        graph[name] = {m for m in _imports(path) if m in modules and m != PACKAGE}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle found by a depth-first walk, each as the path around it."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the walk's path, 2 done

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node, [node])
    return found


def test_the_sandbox_has_no_import_circles() -> None:
    assert circles(import_graph()) == []


def test_the_circle_finder_sees_a_circle_when_there_is_one() -> None:
    graph = import_graph()
    graph["tradeops.sandbox.store.model"].add("tradeops.sandbox.store.generator")
    pair = {"tradeops.sandbox.store.generator", "tradeops.sandbox.store.model"}
    assert any(pair <= set(circle) for circle in circles(graph))


def test_the_sandbox_imports_nothing_of_the_suite_it_is_judged_by() -> None:
    outside = {
        f"{_module_name(p)} imports {m}"
        for p in ROOT.rglob("*.py")
        for m in _imports(p)
        if not (m == PACKAGE or m.startswith(PACKAGE + "."))
    }
    assert outside == set()


def test_importing_the_sandbox_package_loads_none_of_its_modules() -> None:
    code = (
        "import sys, tradeops.sandbox\n"
        "print(sorted(m for m in sys.modules if m.startswith('tradeops.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert out.stdout.strip() == "['tradeops.sandbox']"


def test_the_package_exports_the_sandbox_and_its_parameters() -> None:
    from tradeops.sandbox import Sandbox, SandboxError, StoreParams, scenario
    from tradeops.sandbox.platform import Sandbox as Home

    assert Sandbox is Home and issubclass(SandboxError, RuntimeError)
    assert StoreParams().strategies == 30 and scenario("healthy").faults == frozenset()


def test_each_room_imports_only_itself_the_scenario_table_and_the_loopback_server() -> None:
    rooms = ("store", "servers", "oanda")
    crossings = {
        f"{module} imports {imported}"
        for module, imports in import_graph().items()
        for room in rooms
        if module.startswith(f"{PACKAGE}.{room}")
        for imported in imports
        if not imported.startswith(f"{PACKAGE}.{room}") and imported not in SHARED_BY_ROOMS
    }
    assert crossings == set()
