"""The ``op.*`` calls of a revision's ``upgrade()`` or ``downgrade()``, read from its source.

Nothing is run: the language server reads revisions this way for what it shows
without importing them — what a downgrade drops, which revision created or last
changed a column.  A call is kept when its table (and column) are written as
string literals; ``batch_op.<method>(...)`` inside ``with
op.batch_alter_table("t") as batch_op:`` is read as a call on table ``t``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class OpCall:
    method: str  # "add_column", "drop_table", "execute", ...
    table: str | None  # the batch's table, for batch_op calls
    in_batch: bool
    call: ast.Call

    def text(self, index: int) -> str | None:
        """The ``index``-th positional argument when it is a string literal."""
        args = self.call.args
        if index < len(args):
            value = args[index]
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value
        return None

    def keyword(self, name: str) -> ast.expr | None:
        return next((k.value for k in self.call.keywords if k.arg == name), None)


def op_calls(source: str, function: str) -> list[OpCall]:
    """The ``op``/``batch_op`` calls of ``function`` in source order; [] if it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    body = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function), None
    )
    if body is None:
        return []
    batches: dict[str, str] = {}  # the ``as`` name of each batch -> its table
    for node in ast.walk(body):
        if isinstance(node, ast.With):
            for item in node.items:
                table = _batch_table(item)
                if table is not None and isinstance(item.optional_vars, ast.Name):
                    batches[item.optional_vars.id] = table
    found = []
    for call in sorted(_calls(body), key=lambda n: (n.lineno, n.col_offset)):
        owner, method = _method(call) or ("", "")
        if owner == "op":
            found.append(OpCall(method, None, False, call))
        elif owner in batches:
            found.append(OpCall(method, batches[owner], True, call))
    return found


def column_names(call: OpCall) -> list[str]:
    """The names of the ``sa.Column("name", ...)`` arguments of a call."""
    names = []
    for arg in call.call.args:
        if isinstance(arg, ast.Call) and _callee(arg) == "Column" and arg.args:
            first = arg.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.append(first.value)
    return names


def _calls(node: ast.AST) -> Iterator[ast.Call]:
    return (n for n in ast.walk(node) if isinstance(n, ast.Call))


def _batch_table(item: ast.withitem) -> str | None:
    call = item.context_expr
    if not (isinstance(call, ast.Call) and _method(call) == ("op", "batch_alter_table")):
        return None
    return OpCall("batch_alter_table", None, False, call).text(0)


def _method(call: ast.Call) -> tuple[str, str] | None:
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id, func.attr
    return None


def _callee(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None
