"""Table and column names inside ``op.*`` string arguments: completion and definition.

In a revision file, typing ``op.add_column("`` offers the tables, and
``op.drop_column("orders", "`` the columns of ``orders``, from the schema the
last analysis replayed at the heads (held in memory: nothing is imported or
read on the request).  ``batch_op.alter_column("`` offers the columns of the
table its ``with op.batch_alter_table("...")`` names.  Go to definition on such
a name opens the model class or attribute that declares it (``named_at``).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from distill.commands import editor
from distill.schema.model import Schema, Table

# For each op, which argument (by position) names a table, and which a column of
# the table named by another argument.
_TABLE = "table"
_ARGUMENTS: dict[str, dict[int, str | int]] = {
    "drop_table": {0: _TABLE},
    "rename_table": {0: _TABLE},
    "add_column": {0: _TABLE},
    "drop_column": {0: _TABLE, 1: 0},
    "alter_column": {0: _TABLE, 1: 0},
    "create_table_comment": {0: _TABLE},
    "drop_table_comment": {0: _TABLE},
    "batch_alter_table": {0: _TABLE},
    "create_index": {1: _TABLE},
    "drop_index": {1: _TABLE},
    "create_unique_constraint": {1: _TABLE},
    "create_check_constraint": {1: _TABLE},
    "create_primary_key": {1: _TABLE},
    "drop_constraint": {1: _TABLE},
    "create_foreign_key": {1: _TABLE, 2: _TABLE},
}
# batch_op.<method>(...): the column arguments of the batch's own table.
_BATCH_COLUMNS: dict[str, int] = {"drop_column": 0, "alter_column": 0}

_CALL = re.compile(r"\b(?P<target>op|batch_op)\.(?P<method>\w+)\((?P<args>[^()]*)$")
_OPEN_STRING = re.compile(r"""(?P<quote>["'])(?P<typed>[\w.]*)$""")
_LITERAL = re.compile(r"""^\s*(["'])([\w.]+)\1\s*$""")
_WHOLE_LITERAL = re.compile(r"""(["'])(?P<name>[\w.]+)\1""")
_BATCH_TABLE = re.compile(r"""batch_alter_table\(\s*["'](\w+)["']""")


@dataclass(frozen=True)
class Suggestion:
    label: str
    kind: str  # "table", "column" or "method"
    detail: str
    documentation: str = ""  # markdown


_MEMBER = re.compile(r"\b(?P<target>op|batch_op)\.(?P<typed>\w*)$")


def operation_suggestions(text: str, line: int, character: int) -> list[Suggestion]:
    """After ``op.`` (or ``batch_op.``): each operation with its signature and docstring.

    For editors with no Python language server of their own to read Distill's typed
    ``Operations``; the VS Code extension turns it off where Pylance or Jedi run.
    """
    lines = text.splitlines()
    if line >= len(lines):
        return []
    found = _MEMBER.search(lines[line][:character])
    if found is None:
        return []
    return [s for s in _operations(found["target"]) if s.label.startswith(found["typed"])]


@cache
def _operations(target: str) -> tuple[Suggestion, ...]:
    return tuple(
        Suggestion(item.name, "method", f"{target}.{item.name}{_signature(item.method)}",
                   inspect.getdoc(item.method) or "")
        for item in editor.operations(target)
        if target != "batch_op" or item.on_a_batch
    )  # fmt: skip


def _signature(function: Callable[..., object]) -> str:
    """``(table_name: str, column: sa.Column[Any], *, schema: str | None = None)``: the
    annotations as written (postponed ones are strings: shown without quotes)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return "(...)"
    parts: list[str] = []
    starred = False
    for parameter in list(signature.parameters.values())[1:]:  # not self
        if parameter.kind is parameter.KEYWORD_ONLY and not starred:
            parts.append("*")
        starred = starred or parameter.kind in (parameter.KEYWORD_ONLY, parameter.VAR_POSITIONAL)
        prefix = _STARS.get(parameter.kind, "")
        text = prefix + parameter.name
        if parameter.annotation is not parameter.empty:
            text += f": {_annotation(parameter.annotation)}"
        if parameter.default is not parameter.empty:
            text += f" = {parameter.default!r}"
        parts.append(text)
    returned = signature.return_annotation
    arrow = f" -> {_annotation(returned)}" if returned is not signature.empty else ""
    return f"({', '.join(parts)}){arrow}"


_STARS: dict[inspect._ParameterKind, str] = {
    inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**",
}  # fmt: skip


def _annotation(annotation: object) -> str:
    if isinstance(annotation, str):
        return annotation
    return str(getattr(annotation, "__name__", annotation))


def suggestions(text: str, line: int, character: int, schema: Schema | None) -> list[Suggestion]:
    """What fits the string argument the cursor is in; none outside one."""
    lines = text.splitlines()
    if schema is None or line >= len(lines):
        return []
    argument = _argument(lines, line, lines[line][:character])
    if argument is None:
        return []
    table, is_column = argument
    if not is_column:
        return [_table_suggestion(t) for t in schema.tables]
    return _columns(schema, table) if table else []


def named_at(text: str, line: int, character: int) -> tuple[str, str | None] | None:
    """(table, column or None) that the complete string literal under the cursor names."""
    lines = text.splitlines()
    if line >= len(lines):
        return None
    for literal in _WHOLE_LITERAL.finditer(lines[line]):
        if literal.start() <= character <= literal.end():
            argument = _argument(lines, line, lines[line][: literal.start() + 1])
            if argument is None:
                return None
            table, is_column = argument
            if not is_column:
                return literal["name"], None
            return (table, literal["name"]) if table else None
    return None


def _argument(lines: list[str], line: int, before: str) -> tuple[str | None, bool] | None:
    """For a string argument opened at the end of ``before``: (its table, names a column).

    For a table argument the table is the one being typed (None here)."""
    call = _CALL.search(before)
    if call is None or _OPEN_STRING.search(call["args"]) is None:
        return None
    *done, _current = call["args"].split(",")
    index = len(done)
    if call["target"] == "batch_op":
        if _BATCH_COLUMNS.get(call["method"]) != index:
            return None
        tables = _BATCH_TABLE.findall("\n".join(lines[: line + 1]))
        return (tables[-1] if tables else None), True
    wanted = _ARGUMENTS.get(call["method"], {}).get(index)
    if wanted == _TABLE:
        return None, False
    if isinstance(wanted, int) and wanted < len(done):
        named = _LITERAL.match(done[wanted])
        return (named[2] if named else None), True
    return None


def _table_suggestion(table: Table) -> Suggestion:
    name = f"{table.schema}.{table.name}" if table.schema else table.name
    columns = ", ".join(column.name for column in table.columns)
    return Suggestion(table.name, "table", f"table {name} ({columns})")


def _columns(schema: Schema, table_name: str) -> list[Suggestion]:
    table = next((t for t in schema.tables if t.name == table_name), None)
    if table is None:
        return []
    return [
        Suggestion(
            column.name,
            "column",
            f"{table.name}.{column.name} {column.type.sql}"
            + ("" if column.nullable else " NOT NULL"),
        )
        for column in table.columns
    ]
