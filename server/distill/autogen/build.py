"""Schema items back into SQLAlchemy objects, for the ops autogenerate writes.

Ops hold SQLAlchemy columns, types and constraints because that is what they
execute and render.  A ``ColumnType`` carries the Python expression that
builds its type and the imports that expression needs, so the type is made
again by evaluating that expression — the user's own classes are imported by
name, exactly as the revision script will import them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa

from distill.errors import ScriptError
from distill.schema.model import (
    CheckConstraint,
    Column,
    ColumnType,
    ForeignKey,
    Index,
    PrimaryKey,
    Table,
    UniqueConstraint,
)


def sa_type(column_type: ColumnType) -> sa.types.TypeEngine[Any]:
    return _evaluate(column_type.python, column_type.imports)  # type: ignore[no-any-return]


@cache
def _evaluate(expression: str, imports: tuple[str, ...]) -> Any:
    namespace: dict[str, Any] = {"sa": sa}
    try:
        for line in imports:
            exec(line, namespace)  # an import line the type's own module needs
        return eval(expression, namespace)
    except Exception as error:
        raise ScriptError(
            f"cannot rebuild the type {expression} ({type(error).__name__}: {error}); "
            "is the module that defines it importable?"
        ) from None


def sa_column(column: Column) -> sa.Column[Any]:
    kwargs: dict[str, Any] = {"nullable": column.nullable}
    if column.server_default is not None:
        kwargs["server_default"] = sa.text(column.server_default)
    if column.comment is not None:
        kwargs["comment"] = column.comment
    if column.autoincrement is not None:
        kwargs["autoincrement"] = column.autoincrement
    extras: list[Any] = []
    if column.computed is not None:
        extras.append(
            sa.Computed(sa.text(column.computed.sqltext), persisted=column.computed.persisted)
        )
    if column.identity is not None:
        identity = column.identity
        extras.append(
            sa.Identity(always=identity.always, start=identity.start, increment=identity.increment)
        )
    return sa.Column(column.name, sa_type(column.type), *extras, **kwargs)


def sa_primary_key(key: PrimaryKey) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*key.columns, name=key.name)


def sa_foreign_key(fk: ForeignKey) -> sa.ForeignKeyConstraint:
    prefix = f"{fk.ref_schema}." if fk.ref_schema else ""
    return sa.ForeignKeyConstraint(
        list(fk.columns),
        [f"{prefix}{fk.ref_table}.{c}" for c in fk.ref_columns],
        name=fk.name,
        ondelete=fk.ondelete,
        onupdate=fk.onupdate,
        deferrable=fk.deferrable,
        initially=fk.initially,
    )


def sa_unique(unique: UniqueConstraint) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*unique.columns, name=unique.name)


def sa_check(check: CheckConstraint) -> sa.CheckConstraint:
    return sa.CheckConstraint(sa.text(check.sqltext), name=check.name)


def index_elements(index: Index) -> list[Any]:
    """Column names as strings, expressions as SQL text, in index order."""
    flags = index.expressions or (False,) * len(index.columns)
    pairs = zip(index.columns, flags, strict=True)
    return [sa.text(c) if is_expression else c for c, is_expression in pairs]


def sa_index(index: Index) -> sa.Index:
    """A table-level ``sa.Index`` (its columns are resolved when put in a Table)."""
    return sa.Index(index.name, *index_elements(index), unique=index.unique,
                    **dialect_options(index))  # fmt: skip


def dialect_options(index: Index) -> dict[str, Any]:
    return {key: sa.text(value) if key.endswith("_where") else value
            for key, value in index.dialect_options}  # fmt: skip


def table_items(table: Table, *, foreign_keys: bool = True) -> list[Any]:
    """Columns and constraints of ``op.create_table``; indexes are separate ops."""
    items: list[Any] = [sa_column(c) for c in table.columns]
    if table.primary_key is not None:
        items.append(sa_primary_key(table.primary_key))
    if foreign_keys:
        items += [sa_foreign_key(fk) for fk in table.foreign_keys]
    items += [sa_unique(u) for u in table.uniques]
    items += [sa_check(c) for c in table.checks]
    return items
