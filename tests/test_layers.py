"""The house's arrows (docs/architecture.md), checked over the imports of ``server/distill``.

Every ``from distill... import`` counts: at module level, inside a function (a
lazy import is still an arrow), and under ``TYPE_CHECKING`` (a type a layer
receives is a dependency on the layer that defines it).  The checks, with no
exceptions:

* no import circle between modules, nor between packages;
* no arrow up the layers (``LAYERS``); a package or top-level module not ranked
  there fails too, so a new room is placed in the house deliberately;
* the language server reaches the engine through ``commands`` (and runs user
  code through ``sandbox``); of the engine below them it imports data types only:
  classes and UPPER_CASE constants.
"""

from __future__ import annotations

import ast
import importlib
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "server" / "distill"

# Lower layers first; a module imports from its own package, from lower layers
# and from nothing else.  Rank 0 are the leaves: they import only each other.
LAYERS = {
    "errors": 0, "files": 0, "masking": 0, "caches": 0, "user_code": 0, "utf16": 0,
    "release": 0, "file_template": 0, "alembic_config": 0, "config": 0,
    "ddl": 1,
    "schema": 2,
    "ops": 3,
    "scripts": 4,
    "runtime": 5,
    "replay": 6, "compat": 6,
    "autogen": 7, "lint": 7,
    "authoring": 8, "commands": 8, "sandbox": 8,
    "cli": 9, "cli_commands": 9, "cli_output": 9, "cli_project": 9, "cli_safety": 9,
    "lsp": 9, "__main__": 9,
    "": 10,  # ``distill`` itself: ``from distill import op`` for revision scripts
}  # fmt: skip

ENGINE_BELOW_COMMANDS = range(1, LAYERS["commands"])  # what the server takes data types from


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    name = ".".join(parts)
    return name.removesuffix(".__init__")


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


@cache
def _names_imported() -> dict[str, frozenset[tuple[str, str | None]]]:
    """module -> (the module it imports from, the name taken; None: the module itself)."""
    modules = _modules()
    found: dict[str, frozenset[tuple[str, str | None]]] = {}
    for name, path in modules.items():
        taken: set[tuple[str, str | None]] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("distill"):
                module = node.module or ""
                for alias in node.names:  # ``from distill.lsp import drift``: a module
                    child = f"{module}.{alias.name}"
                    taken.add((child, None) if child in modules else (module, alias.name))
            elif isinstance(node, ast.Import):
                taken |= {(a.name, None) for a in node.names if a.name.startswith("distill")}
        found[name] = frozenset((m, n) for m, n in taken if m in modules and m != name)
    return found


@cache
def _imports() -> dict[str, frozenset[str]]:
    return {name: frozenset(m for m, _ in taken) for name, taken in _names_imported().items()}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer(module: str) -> int:
    package = _package(module)
    assert package in LAYERS, f"{module}: rank {package!r} in LAYERS (tests/test_layers.py)"
    return LAYERS[package]


def _circles(edges: dict[str, frozenset[str]]) -> set[tuple[str, ...]]:
    """The strongly connected components of more than one module (Tarjan's, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[tuple[str, ...]] = set()
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.add(tuple(sorted(component)))
    return found


def test_no_import_circle_between_modules() -> None:
    assert not _circles(dict(_imports())), f"import circles: {sorted(_circles(dict(_imports())))}"


def test_no_import_circle_between_packages() -> None:
    edges: dict[str, set[str]] = {}
    for module, targets in _imports().items():
        edges.setdefault(_package(module), set()).update(
            _package(t) for t in targets if _package(t) != _package(module)
        )
    graph = {p: frozenset(t) for p, t in edges.items()}
    graph.update({t: frozenset() for ts in edges.values() for t in ts if t not in graph})
    assert not _circles(graph), f"packages importing each other: {sorted(_circles(graph))}"


def test_every_room_is_ranked() -> None:
    unranked = sorted({_package(m) for m in _modules()} - set(LAYERS))
    assert not unranked, f"place these in LAYERS (and in docs/architecture.md): {unranked}"


def test_no_arrow_up_the_layers() -> None:
    upward = sorted(
        (module, target)
        for module, targets in _imports().items()
        for target in targets
        if _layer(target) > _layer(module)
    )
    assert not upward, f"imports against the layers: {upward}"


def test_the_language_server_takes_only_data_types_from_below_commands() -> None:
    taken = sorted(
        (module, f"{source}.{name}" if name else source)
        for module, imports in _names_imported().items()
        if _package(module) == "lsp"
        for source, name in imports
        if _layer(source) in ENGINE_BELOW_COMMANDS and not _is_data_type(source, name)
    )
    assert not taken, f"the language server reaches past commands: {taken}"


def _is_data_type(module: str, name: str | None) -> bool:
    if name is None:
        return False  # a whole module of the engine
    value = getattr(importlib.import_module(module), name)
    return isinstance(value, type) or name.isupper()


def test_the_checks_can_fail() -> None:
    """A made-up graph with a circle and an upward arrow is caught; a function is no type."""
    edges = {"distill.ops.a": frozenset({"distill.ops.b"}),
             "distill.ops.b": frozenset({"distill.ops.a", "distill.lsp.x"}),
             "distill.lsp.x": frozenset()}  # fmt: skip
    assert _circles(edges) == {("distill.ops.a", "distill.ops.b")}
    assert _layer("distill.ops.b") < _layer("distill.lsp.x")
    assert not _is_data_type("distill.scripts.plans", "upgrade_steps")
    assert _is_data_type("distill.scripts.graph", "RevisionGraph")
