"""Completion of table and column names inside ``op.*`` string arguments.

In a revision file, typing ``op.add_column("`` offers the tables, and
``op.drop_column("orders", "`` the columns of ``orders``, from the schema the
last analysis replayed at the heads (held in memory: nothing is imported or
read on the request).  ``batch_op.alter_column("`` offers the columns of the
table its ``with op.batch_alter_table("...")`` names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
_BATCH_TABLE = re.compile(r"""batch_alter_table\(\s*["'](\w+)["']""")


@dataclass(frozen=True)
class Suggestion:
    label: str
    kind: str  # "table" or "column"
    detail: str


def suggestions(text: str, line: int, character: int, schema: Schema | None) -> list[Suggestion]:
    """What fits the string argument the cursor is in; none outside one."""
    lines = text.splitlines()
    if schema is None or line >= len(lines):
        return []
    before = lines[line][:character]
    call = _CALL.search(before)
    if call is None or _OPEN_STRING.search(call["args"]) is None:
        return []
    *done, _current = call["args"].split(",")
    index = len(done)
    if call["target"] == "batch_op":
        if _BATCH_COLUMNS.get(call["method"]) != index:
            return []
        tables = _BATCH_TABLE.findall("\n".join(lines[: line + 1]))
        return _columns(schema, tables[-1]) if tables else []
    wanted = _ARGUMENTS.get(call["method"], {}).get(index)
    if wanted == _TABLE:
        return [_table_suggestion(table) for table in schema.tables]
    if isinstance(wanted, int) and wanted < len(done):
        named = _LITERAL.match(done[wanted])
        return _columns(schema, named[2]) if named else []
    return []


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
