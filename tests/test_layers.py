"""The house's arrows (DESIGN.md), checked over the imports of ``server/distill``.

Every ``from distill... import`` counts: at module level, inside a function (a
lazy import is still an arrow), and under ``TYPE_CHECKING`` (a type a layer
receives is a dependency on the layer that defines it).  Two checks:

* no import circle between modules, except those listed in ``KNOWN_CIRCLES``;
* no arrow up the layers (``ddl`` < ``ops``, ``schema`` < the engine packages <
  ``commands`` < ``cli``, ``lsp``), except those in ``KNOWN_UPWARD``.

The lists are issue 14's remaining work: they may only shrink.  A circle or an
upward arrow not listed fails; so does a listed one that is gone (delete it).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent.parent / "server" / "distill"

# Lower layers first.  Leaves (errors, config, files, masking, caches, user_code,
# alembic_config, authoring) may be imported from anywhere and are not ranked.
LAYERS = {
    "ddl": 0,
    "ops": 1, "schema": 1,
    "autogen": 2, "runtime": 2, "scripts": 2, "compat": 2, "lint": 2,
    "commands": 3, "sandbox": 3,
    "cli": 4, "cli_commands": 4, "cli_output": 4, "lsp": 4, "__main__": 4,
}  # fmt: skip

KNOWN_CIRCLES = {
    # Operations.batch_alter_table returns a BatchOperations, which subclasses it.
    ("distill.ops.api", "distill.ops.batch_operations"),
    ("distill.scripts.graph", "distill.scripts.resolve"),
    # The DDL layer receives op objects (ddl.postgresql.alter_column(ctx, op)), and the
    # replay rules live beside the ops they apply.
    (
        "distill.ddl.mysql", "distill.ddl.postgresql", "distill.ops.base", "distill.ops.batch",
        "distill.ops.column", "distill.ops.constraint", "distill.ops.data", "distill.ops.enum",
        "distill.ops.index", "distill.ops.rebuild", "distill.ops.replay_apply",
        "distill.ops.replay_constraints", "distill.ops.replay_enum_sql",
        "distill.ops.replay_enums", "distill.ops.replay_tables", "distill.ops.table",
    ),
}  # fmt: skip

KNOWN_UPWARD = {
    # The DDL layer receives ops and writes through OpContext, which lives in ops.
    ("distill.ddl.mysql", "distill.ops.column"),
    ("distill.ddl.mysql", "distill.ops.context"),
    ("distill.ddl.postgresql", "distill.ops.column"),
    ("distill.ddl.postgresql", "distill.ops.context"),
}

# The language server calls only ``commands``; of the engine it may import data types.
# And the sandbox, which runs the user's code for it in forked children.
LSP_MAY_IMPORT = {"distill.commands", "distill.schema.model", "distill.autogen.compare"}
LSP_MAY_USE_PACKAGE = "distill.sandbox"
# What it reaches today: session and editor helpers that belong behind ``commands``.
KNOWN_LSP_REACH = {
    ("distill.lsp.actions", "distill.autogen.generate"),
    ("distill.lsp.actions", "distill.runtime.plan"),
    ("distill.lsp.completion", "distill.ops.api"),
    ("distill.lsp.completion", "distill.ops.batch_operations"),
    ("distill.lsp.drift", "distill.autogen.renames"),
    ("distill.lsp.drift", "distill.scripts.graph"),
    ("distill.lsp.env_url", "distill.compat.alembic_env"),
    ("distill.lsp.migration_files", "distill.scripts.graph"),
    ("distill.lsp.migration_files", "distill.scripts.header"),
    ("distill.lsp.migration_files", "distill.scripts.script"),
    ("distill.lsp.session", "distill.autogen.check"),
    ("distill.lsp.session", "distill.autogen.generate"),
    ("distill.lsp.session", "distill.autogen.revision_name"),
    ("distill.lsp.session", "distill.compat.env_text"),
    ("distill.lsp.session", "distill.runtime.database"),
    ("distill.lsp.session", "distill.runtime.quickread"),
    ("distill.lsp.session", "distill.scripts.graph"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    name = ".".join(parts)
    return name.removesuffix(".__init__")


@cache
def _imports() -> dict[str, frozenset[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    found: dict[str, frozenset[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("distill"):
                module = node.module or ""
                for alias in node.names:  # ``from distill.lsp import drift``: a module
                    child = f"{module}.{alias.name}"
                    targets.add(child if child in modules else module)
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.startswith("distill")}
        found[name] = frozenset(t for t in targets if t in modules and t != name)
    return found


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


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def test_no_import_circle_but_the_known_ones() -> None:
    circles = _circles(dict(_imports()))
    _only_known(circles, KNOWN_CIRCLES, "import circles", "KNOWN_CIRCLES")


def test_no_arrow_up_the_layers_but_the_known_ones() -> None:
    upward = {
        (module, target)
        for module, targets in _imports().items()
        for target in targets
        if (low := _layer(module)) is not None
        and (high := _layer(target)) is not None
        and high > low
    }
    _only_known(upward, KNOWN_UPWARD, "imports against the layers", "KNOWN_UPWARD")


def test_the_language_server_reaches_the_engine_through_commands_only() -> None:
    reach = {
        (module, target)
        for module, targets in _imports().items()
        if module.startswith("distill.lsp")
        for target in targets
        if not target.startswith("distill.lsp")
        and _layer(target) is not None
        and target not in LSP_MAY_IMPORT
        and not target.startswith(LSP_MAY_USE_PACKAGE)
    }
    assert not reach - KNOWN_LSP_REACH, (
        f"lsp reaching past commands: {sorted(reach - KNOWN_LSP_REACH)}"
    )
    assert not KNOWN_LSP_REACH - reach, (
        f"gone: delete from KNOWN_LSP_REACH: {KNOWN_LSP_REACH - reach}"
    )


def _only_known(found: set[Any], known: set[Any], what: str, listed_in: str) -> None:
    """Nothing new; and nothing listed that is gone, so the list only shrinks."""
    assert not found - known, f"new {what}: {sorted(found - known)}"
    assert not known - found, f"fixed, so delete from {listed_in}: {sorted(known - found)}"


def test_the_check_sees_a_circle_and_an_upward_arrow() -> None:
    """The checks can fail: a made-up graph with both is caught."""
    edges = {"distill.ops.a": frozenset({"distill.ops.b"}),
             "distill.ops.b": frozenset({"distill.ops.a", "distill.lsp.x"}),
             "distill.lsp.x": frozenset()}  # fmt: skip
    assert _circles(edges) == {("distill.ops.a", "distill.ops.b")}
    assert (_layer("distill.ops.b") or 0) < (_layer("distill.lsp.x") or 0)
