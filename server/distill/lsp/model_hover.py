"""The hover card on a model's class or column line: models, migrations, database.

What the models declare, what the migrations build at their heads (the DDL type as
the project's database spells it, NULL or NOT NULL, the server default), and
whether the database has it applied — read from the last analysis, never by
importing or reflecting on the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from distill.autogen.compare import Change
from distill.schema.model import Column, Schema, Table

# A column attribute a change sets, by the change's code.
_ATTRIBUTES = {"column.type": "type", "column.nullable": "nullable",
               "column.default": "server_default", "column.comment": "comment"}  # fmt: skip


@dataclass(frozen=True)
class DatabaseView:
    current: tuple[str, ...] | None  # None: not read
    pending: int
    error: str | None
    rows: int | None = None  # the table's estimated rows, when the catalog has one


# (the revision that created it, the one that last changed it), each "`id` message"
BlameLines = tuple[str | None, str | None] | None


def card(
    table: str,
    column: str | None,
    heads: Schema,
    changes: Sequence[Change],
    database: DatabaseView,
    drift: Sequence[str],
    blame: BlameLines = None,
) -> str:
    """Markdown for ``table`` (its class line) or ``table.column`` (its attribute line).

    The models' side is the heads' schema with the analysis's ``changes`` (heads ->
    models) applied: the worker sends those, not the models' whole schema.
    """
    theirs = heads.table(table)
    title = f"{table}.{column}" if column else table
    lines = [f"**{title}** — Distill", ""]
    if column is None:
        lines += _table_rows(_models_table(theirs, table, changes), theirs)
    else:
        ours = _models_column(_column(theirs, column), table, column, changes)
        lines += _column_rows(ours, _column(theirs, column), heads.dialect)
    lines += _blame_lines(blame)
    lines += ["", _database_line(database, in_migrations=_present(theirs, column))]
    if column is None and database.current is not None and database.rows is not None:
        lines += [f"rows: about {database.rows:,} (the database's own estimate)"]
    lines += [f"- {message}" for message in drift]
    return "\n".join(lines)


def _column(table: Table | None, name: str) -> Column | None:
    return next((c for c in table.columns if c.name == name), None) if table else None


def _present(table: Table | None, column: str | None) -> bool:
    return table is not None and (column is None or _column(table, column) is not None)


def _models_table(heads: Table | None, name: str, changes: Sequence[Change]) -> Table | None:
    for change in changes:
        if change.table == name and change.code == "table.added":
            return change.new if isinstance(change.new, Table) else heads
        if change.table == name and change.code == "table.removed":
            return None
    if heads is None:
        return None
    added = [c.new for c in changes if c.table == name and c.code == "column.added"]
    gone = {c.name for c in changes if c.table == name and c.code == "column.removed"}
    columns = [c for c in heads.columns if c.name not in gone] + [
        c for c in added if isinstance(c, Column)
    ]
    return replace(heads, columns=tuple(columns))


def _models_column(
    heads: Column | None, table: str, name: str, changes: Sequence[Change]
) -> Column | None:
    column = heads
    for change in changes:
        if change.table != table or change.name != name:
            continue
        if change.code == "column.added" and isinstance(change.new, Column):
            column = change.new
        elif change.code == "column.removed":
            column = None
        elif change.code in _ATTRIBUTES and column is not None:
            column = replace(column, **{_ATTRIBUTES[change.code]: change.new})
    return column


def _column_rows(ours: Column | None, theirs: Column | None, dialect: str) -> list[str]:
    rows = [f"| | type ({dialect}) | null | server default |", "|---|---|---|---|"]
    return [*rows, _row("models", ours), _row("migrations (head)", theirs)]


def _row(side: str, column: Column | None) -> str:
    if column is None:
        return f"| {side} | not there | | |"
    null = "NULL" if column.nullable else "NOT NULL"
    default = f"`{column.server_default}`" if column.server_default is not None else "—"
    return f"| {side} | `{column.type.sql}` | {null} | {default} |"


def _table_rows(ours: Table | None, theirs: Table | None) -> list[str]:
    return [f"models: {_table_summary(ours)}", f"migrations (head): {_table_summary(theirs)}"]


def _table_summary(table: Table | None) -> str:
    if table is None:
        return "not there"
    extras = [
        f"{len(table.indexes)} index{'es' if len(table.indexes) != 1 else ''}",
        f"{len(table.foreign_keys)} foreign key{'s' if len(table.foreign_keys) != 1 else ''}",
    ]
    return f"{len(table.columns)} columns, " + ", ".join(extras)


def _blame_lines(blame: BlameLines) -> list[str]:
    if blame is None:
        return []
    created, changed = blame
    lines = [f"created by {created}" if created else "created outside the op.* calls read"]
    if changed and changed != created:
        lines.append(f"last changed by {changed}")
    return ["", "; ".join(lines)]


def _database_line(database: DatabaseView, *, in_migrations: bool) -> str:
    if database.current is None:
        return f"database: not read ({database.error or 'no database URL'})"
    if not in_migrations:
        return "database: no revision creates it yet"
    if database.pending:
        at = ", ".join(database.current) or "base"
        behind = f"{database.pending} revision(s) behind head"
        return f"database: at {at}, {behind} — it may not have this yet"
    return "database: at head — applied"
