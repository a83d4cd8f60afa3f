"""SQLite specifics: what its ALTER TABLE refuses, and the catalog queries a rebuild needs."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection

from distill.ddl.common import quote


def _master(schema: str | None) -> str:
    return f"{quote(_DIALECT, schema)}.sqlite_master" if schema else "sqlite_master"


_DIALECT = sqlite_dialect.dialect()


def table_sql_of(conn: Connection, table: str, schema: str | None) -> str:
    """The CREATE TABLE text SQLite keeps for ``table`` ("" if none)."""
    found = conn.execute(
        sa.text(f"SELECT sql FROM {_master(schema)} WHERE type = 'table' AND name = :t"),
        {"t": table},
    ).scalar()
    return str(found or "")


def views_and_triggers(conn: Connection, schema: str | None) -> list[tuple[str, str, str, str]]:
    """(type, name, table it is on, CREATE text) of every view and trigger, oldest first."""
    rows = conn.execute(
        sa.text(
            f"SELECT type, name, tbl_name, sql FROM {_master(schema)} "
            "WHERE type IN ('view', 'trigger') AND sql IS NOT NULL ORDER BY rowid"
        )
    )
    return [(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


def index_sql_of(conn: Connection, table: str, schema: str | None) -> dict[str, str]:
    """CREATE INDEX text of every index made by a statement (not by a constraint)."""
    rows = conn.execute(
        sa.text(
            f"SELECT name, sql FROM {_master(schema)} "
            "WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL ORDER BY name"
        ),
        {"t": table},
    )
    return {str(r[0]): str(r[1]) for r in rows}


def foreign_key_problems(conn: Connection, table: str, schema: str | None) -> list[str]:
    """Rows of or pointing at ``table`` whose foreign key has no parent row."""
    prefix = f"{quote(_DIALECT, schema)}." if schema else ""
    rows = conn.exec_driver_sql(f"PRAGMA {prefix}foreign_key_check").all()
    return [
        f"{r[0]} rowid {r[1]} references a missing row of {r[2]}"
        for r in rows
        if table in (r[0], r[2])
    ]


def column_names(conn: Connection, table: str, schema: str | None) -> list[str]:
    return [c["name"] for c in sa.inspect(conn).get_columns(table, schema=schema)]


def add_column_needs_rebuild(column: sa.Column[Any]) -> bool:
    """True for a column SQLite's ``ALTER TABLE ADD COLUMN`` refuses."""
    if column.primary_key or column.unique or column.foreign_keys or _has_check(column):
        return True
    default = column.server_default
    if not column.nullable and default is None:
        return True
    return default is not None and not _constant_default(default)


def _constant_default(default: Any) -> bool:
    arg = getattr(default, "arg", None)
    if isinstance(arg, str):
        return True
    text = str(getattr(arg, "text", arg)).strip().upper()
    # SQLite: "Cannot add a column with non-constant default".
    return "(" not in text and not text.startswith("CURRENT_")


def _has_check(column: sa.Column[Any]) -> bool:
    # ADD COLUMN would leave out a CHECK of the column or of its type (Enum, Boolean).
    own = any(isinstance(c, sa.CheckConstraint) for c in column.constraints)
    return own or bool(getattr(column.type, "create_constraint", False))
