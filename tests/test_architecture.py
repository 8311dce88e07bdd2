"""The folder layout is the architecture: no import circles, no arrow from a lower layer to
a higher one, and the sandbox built apart from the suite (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tradeops"

# Bottom-up. A module may import its own layer and the layers below, never above. The
# sandbox is an independent platform: the suite may start it, it imports none of the suite.
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "_unrewritten",
        "_record",
        "_secret",
        "_later",
        "findings",
        "figures",
        "market",
        "scheduled",
        "runbooks",
        "waivers",
        "exposure",
    ),
    ("_config_rules", "config"),
    ("connectors", "checkmodel", "liveness"),
    ("probe", "slo", "reports", "instants"),
    ("_session", "verdict"),
    ("runfacts",),
    ("outputs",),
    ("plugin", "_collect", "_xdist", "_rootdir", "__init__", "__main__", "postmortem"),
)


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every tradeops module this one imports, at the top or inside a function."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                )
            # `from tradeops import verdict` imports the module; `from x import name`, x.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            # The package root only holds __version__ and lazy public names: not an arrow.
            if target and target not in (name, "tradeops") and target.startswith("tradeops"):
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports(name, path, known) for name, path in mods.items()}


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    return next((i for i, names in enumerate(LAYERS) if top in names), None)


def test_every_module_has_a_layer():
    unplaced = sorted(m for m in graph() if layer_of(m) is None and ".sandbox" not in m + ".")
    assert not unplaced, f"add these to LAYERS: {unplaced}"


def test_no_import_reaches_up_a_layer():
    upward = [
        f"{a} -> {b}"
        for a, targets in graph().items()
        for b in targets
        if layer_of(a) is not None and layer_of(b) is not None and layer_of(b) > layer_of(a)
    ]
    assert not upward, upward


def test_there_are_no_import_circles():
    edges = graph()
    # Packages import their own modules; a circle is a path back to where it started.
    circles = []
    for start in edges:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in edges.get(node, ()):
                if nxt == start and not start.startswith(nxt + ".") and len(path) > 1:
                    circles.append(" -> ".join([*path, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    assert not circles, circles[:5]


def test_the_sandbox_imports_none_of_the_suite():
    leaks = {
        m: sorted(t for t in targets if not t.startswith("tradeops.sandbox"))
        for m, targets in graph().items()
        if m.startswith("tradeops.sandbox")
    }
    assert not {m: t for m, t in leaks.items() if t}, leaks


def test_only_the_session_starts_the_sandbox():
    users = {
        m
        for m, targets in graph().items()
        if not m.startswith("tradeops.sandbox")
        and any(t.startswith("tradeops.sandbox") for t in targets)
    }
    assert users <= {"tradeops._session", "tradeops._xdist"}, users
