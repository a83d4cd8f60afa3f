"""PostgreSQL: enum types, comments, and ALTER COLUMN in its own clauses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.ddl import ExecutableDDLElement

from distill.ddl.alteration import ColumnAlteration
from distill.ddl.common import alter_table, default_sql, quote, type_sql

if TYPE_CHECKING:
    from distill.ddl.context import OpContext


def enum_creates(ctx: OpContext, table: sa.Table) -> Iterator[ExecutableDDLElement]:
    # Imported here: the PostgreSQL dialect costs a tenth of a second to load,
    # and every run on another database would pay it.
    from sqlalchemy.dialects.postgresql import ENUM
    from sqlalchemy.dialects.postgresql.named_types import CreateEnumType

    """CREATE TYPE for each named enum of ``table`` that does not exist yet."""
    for column in table.columns:
        kind = column.type
        if isinstance(kind, sa.Enum) and kind.native_enum and kind.name:
            enum = (
                kind
                if isinstance(kind, ENUM)
                else ENUM(*kind.enums, name=kind.name, schema=kind.schema or table.schema)
            )
            if (enum.schema, enum.name) in ctx.created_enum_types:
                continue  # an change.create_enum_type earlier in this run made it
            if not ctx.is_offline and ctx.dialect.has_type(  # type: ignore[attr-defined]
                ctx.connection, enum.name, schema=enum.schema
            ):
                continue
            yield CreateEnumType(enum)


def comment_statements(table: sa.Table) -> Iterator[ExecutableDDLElement]:
    # CREATE TABLE on PostgreSQL has no COMMENT clause; comments follow it.
    if table.comment is not None:
        yield sa.schema.SetTableComment(table)
    for column in table.columns:
        if column.comment is not None:
            yield sa.schema.SetColumnComment(column)


def column_comment(table: str, schema: str | None, column: str, comment: str | None) -> Any:
    col = sa.Column(column, sa.types.NullType(), comment=comment)
    sa.Table(table, sa.MetaData(), col, schema=schema)
    if comment is None:
        return sa.schema.DropColumnComment(col)
    return sa.schema.SetColumnComment(col)


def alter_column(ctx: OpContext, change: ColumnAlteration) -> list[Any]:
    """One statement per change; the rename comes last so the others use the old name."""
    d = ctx.dialect
    col = quote(d, change.column_name)
    out: list[Any] = []

    def alter(clause: str) -> None:
        out.append(alter_table(d, change.table_name, change.schema, f"ALTER COLUMN {col} {clause}"))

    if change.type_ is not None:
        using = f" USING {change.postgresql_using}" if change.postgresql_using else ""
        alter(f"TYPE {type_sql(d, change.type_)}{using}")
    if change.nullable is not None:
        alter("DROP NOT NULL" if change.nullable else "SET NOT NULL")
    if change.server_default is not False:
        default = default_sql(d, change.server_default)
        alter("DROP DEFAULT" if default is None else f"SET DEFAULT {default}")
    if change.comment is not False:
        out.append(
            column_comment(change.table_name, change.schema, change.column_name, change.comment)
        )
    if change.new_column_name is not None:
        out.append(
            alter_table(
                d,
                change.table_name,
                change.schema,
                f"RENAME COLUMN {col} TO {quote(d, change.new_column_name)}",
            )
        )
    return out
