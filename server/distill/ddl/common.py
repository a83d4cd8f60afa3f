"""DDL helpers shared by every dialect.

SQLAlchemy has constructs for CREATE/DROP TABLE, indexes and constraints but
none for most ALTER TABLE forms, so those are written here as text — always
through the dialect's identifier preparer and DDL compiler, so quoting, types
and defaults come out exactly as SQLAlchemy would render them in CREATE TABLE.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import DDLCompiler


def quote(dialect: Dialect, name: str) -> str:
    return str(dialect.identifier_preparer.quote(name))


def table_sql(dialect: Dialect, name: str, schema: str | None = None) -> str:
    return str(dialect.identifier_preparer.format_table(sa.table(name, schema=schema)))


def type_sql(dialect: Dialect, type_: Any) -> str:
    return str(sa.types.to_instance(type_).compile(dialect=dialect))


def _ddl_compiler(dialect: Dialect) -> DDLCompiler:
    return dialect.ddl_compiler(dialect, None)  # type: ignore[arg-type]


def default_sql(dialect: Dialect, server_default: Any) -> str | None:
    """The text after DEFAULT for a server default given as users give it."""
    if server_default is None:
        return None
    column = sa.Column("x", sa.Integer(), server_default=server_default)
    sa.Table("_distill_default", sa.MetaData(), column)
    text = _ddl_compiler(dialect).get_column_default_string(column)
    return None if text is None else str(text)


def column_spec(dialect: Dialect, column: sa.Column[Any]) -> str:
    """``name TYPE [DEFAULT ..] [NOT NULL] ..`` as CREATE TABLE would render it."""
    if getattr(column, "table", None) is None:
        sa.Table("_distill_column", sa.MetaData(), column)
    return str(_ddl_compiler(dialect).get_column_specification(column))


def stub_table(
    name: str,
    columns: Iterable[str | sa.Column[Any]] = (),
    schema: str | None = None,
    metadata: sa.MetaData | None = None,
) -> sa.Table:
    """A Table with just enough columns for SQLAlchemy to compile a construct."""
    metadata = metadata if metadata is not None else sa.MetaData()
    table = sa.Table(name, metadata, schema=schema)
    for column in columns:
        if isinstance(column, str):
            if column not in table.c:
                table.append_column(sa.Column(column, sa.types.NullType()))
        else:
            table.append_column(column)
    return table


def ensure_referent(
    metadata: sa.MetaData, name: str, schema: str | None, columns: Iterable[str]
) -> None:
    """Make ``schema.name(columns)`` resolvable so a REFERENCES clause compiles."""
    key = f"{schema}.{name}" if schema else name
    table = metadata.tables.get(key)
    if table is None:
        table = sa.Table(name, metadata, schema=schema)
    for column in columns:
        if column not in table.c:
            table.append_column(sa.Column(column, sa.types.NullType()))


def ensure_referents_of(table: sa.Table) -> None:
    """Stub every table ``table``'s foreign keys point at, in its own MetaData."""
    for fk in table.foreign_keys:
        ref_schema, ref_table, ref_column = split_colspec(fk._get_colspec())
        if ref_schema is None and table.schema is not None and "." not in fk._get_colspec():
            ref_schema = table.schema
        ensure_referent(table.metadata, ref_table, ref_schema, [ref_column])


def split_colspec(spec: str) -> tuple[str | None, str, str]:
    parts = spec.split(".")
    if len(parts) == 2:
        return None, parts[0], parts[1]
    return ".".join(parts[:-2]), parts[-2], parts[-1]


def raw(sql: str) -> sa.TextClause:
    """A statement run verbatim: colons escaped so ``'12:30'`` is not a bind."""
    return sa.text(sql.replace(":", "\\:"))


def alter_table(dialect: Dialect, name: str, schema: str | None, clause: str) -> sa.TextClause:
    return raw(f"ALTER TABLE {table_sql(dialect, name, schema)} {clause}")


def literal_string(dialect: Dialect, value: str) -> str:
    return str(
        sa.literal(value, sa.String()).compile(
            dialect=dialect, compile_kwargs={"literal_binds": True}
        )
    )
