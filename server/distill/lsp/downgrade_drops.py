"""What a revision's ``downgrade()`` drops, read from its source (nothing is run).

The confirmation before a downgrade lists, per revision, the tables and columns
that go with their data: ``op.drop_table("t")``, ``op.drop_column("t", "c")``
and ``batch_op.drop_column("c")`` in ``with op.batch_alter_table("t") as
batch_op:``.  SQL run through ``op.execute`` cannot be read, and says so.
"""

from __future__ import annotations

import ast

RUNS_SQL = "SQL it runs itself (op.execute), not read here"


def downgrade_drops(source: str) -> tuple[str, ...]:
    """``("table orders", "column customers.email", ...)`` in the order they run."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ()
    downgrade = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "downgrade"), None
    )
    if downgrade is None:
        return ()
    batches: dict[str, str] = {}  # the ``as`` name of each batch -> its table
    found: list[str] = []
    for node in ast.walk(downgrade):
        if isinstance(node, ast.With):
            for item in node.items:
                table = _batch_table(item)
                if table is not None:
                    batches[item.optional_vars.id] = table  # type: ignore[union-attr]
    for node in sorted(
        (n for n in ast.walk(downgrade) if isinstance(n, ast.Call)), key=lambda n: n.lineno
    ):
        dropped = _dropped(node, batches)
        if dropped is not None and dropped not in found:
            found.append(dropped)
    return tuple(found)


def _batch_table(item: ast.withitem) -> str | None:
    call = item.context_expr
    if not (isinstance(call, ast.Call) and _method(call) == ("op", "batch_alter_table")):
        return None
    if not isinstance(item.optional_vars, ast.Name):
        return None
    return _text(call, 0)


def _dropped(call: ast.Call, batches: dict[str, str]) -> str | None:
    owner, method = _method(call) or ("", "")
    if owner == "op" and method == "drop_table" and _text(call, 0):
        return f"table {_text(call, 0)}"
    if owner == "op" and method == "drop_column" and _text(call, 0) and _text(call, 1):
        return f"column {_text(call, 0)}.{_text(call, 1)}"
    if owner in batches and method == "drop_column" and _text(call, 0):
        return f"column {batches[owner]}.{_text(call, 0)}"
    if owner == "op" and method == "execute":
        return RUNS_SQL
    return None


def _method(call: ast.Call) -> tuple[str, str] | None:
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id, func.attr
    return None


def _text(call: ast.Call, index: int) -> str | None:
    if index < len(call.args):
        value = call.args[index]
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    return None
