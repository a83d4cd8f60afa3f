"""Symbolic replay of index and constraint ops.

New indexes and constraints are converted by building the same SQLAlchemy
object the op executes and reading it with the models' conversion.  Dropping
by name looks among every kind the name can belong to; a name the script only
knows from the database — one the database made up for an unnamed
constraint — is recognised where the database's rule is fixed
(PostgreSQL's ``<table>_<columns>_key``, MariaDB's ``PRIMARY``), and
otherwise makes the replay inexact rather than guessing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from distill.ops.constraint import (
    CreateCheck,
    CreateConstraint,
    CreateForeignKey,
    CreatePrimaryKey,
    CreateUnique,
    DropConstraint,
)
from distill.ops.index import CreateIndex, DropIndex
from distill.replay.schema import InexactReplay, put_table, require_table
from distill.schema.from_metadata import schema_index, schema_table
from distill.schema.model import Index, Schema, Table

# -- indexes ----------------------------------------------------------------------------


def create_index(op: CreateIndex, schema: Schema, dialect: sa.Dialect) -> Schema:
    table = require_table(schema, op.table_name, op.schema, op.describe())
    # Only the index is converted: converting its (stub) table too cost more
    # than the rest of replaying a thousand-table history.
    created = schema_index(op.index(), dialect)
    if any(i.name == created.name for i in table.indexes):
        if op.if_not_exists:
            return schema
        raise InexactReplay(f"{op.describe()}: the index already exists in the replayed schema")
    if dialect.name == "mysql" and not any(created.expressions):
        table = without_redundant_foreign_key_indexes(table, created.columns)
    return put_table(schema, replace(table, indexes=_by_name((*table.indexes, created))))


def drop_index(op: DropIndex, schema: Schema, dialect: sa.Dialect) -> Schema:
    for table in _tables_to_search(schema, op.table_name, op.schema, op.describe()):
        if any(i.name == op.index_name for i in table.indexes):
            kept = tuple(i for i in table.indexes if i.name != op.index_name)
            return put_table(schema, replace(table, indexes=kept))
        if dialect.name == "mysql" and any(u.name == op.index_name for u in table.uniques):
            # On MariaDB a unique constraint is an index, and DROP INDEX removes it.
            kept_u = tuple(u for u in table.uniques if u.name != op.index_name)
            return put_table(schema, replace(table, uniques=kept_u))
    if op.if_exists:
        return schema
    raise InexactReplay(f"{op.describe()}: no such index in the replayed schema")


def _tables_to_search(
    schema: Schema, table_name: str | None, table_schema: str | None, what: str
) -> list[Table]:
    if table_name is not None:
        return [require_table(schema, table_name, table_schema, what)]
    return [t for t in schema.tables if t.schema == table_schema]


def _by_name(items: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(sorted(items, key=lambda i: (i.name or "", repr(i))))


# -- creating constraints ---------------------------------------------------------------


def create_constraint(op: CreateConstraint, schema: Schema, dialect: sa.Dialect) -> Schema:
    table = require_table(schema, op.table_name, op.schema, op.describe())
    stub = op.constraint().table
    assert isinstance(stub, sa.Table)
    made = schema_table(stub, dialect)
    if isinstance(op, CreateUnique):
        if dialect.name == "mysql":
            table = without_redundant_foreign_key_indexes(table, tuple(op.columns))
        table = replace(table, uniques=_by_name((*table.uniques, *made.uniques)))
    elif isinstance(op, CreateForeignKey):
        table = replace(table, foreign_keys=_by_name((*table.foreign_keys, *made.foreign_keys)))
        if dialect.name == "mysql":
            table = with_foreign_key_indexes(table)
    elif isinstance(op, CreateCheck):
        table = replace(table, checks=_by_name((*table.checks, *made.checks)))
    else:
        assert isinstance(op, CreatePrimaryKey)
        table = _with_primary_key(table, made, op.describe(), dialect.name == "sqlite")
    return put_table(schema, table)


def _with_primary_key(table: Table, made: Table, what: str, replaces: bool) -> Table:
    # A SQLite rebuild puts the new key in place of the old one; elsewhere the database refuses.
    if table.primary_key is not None and not replaces:
        raise InexactReplay(f"{what}: the table already has a primary key (the database refuses)")
    key = made.primary_key
    assert key is not None
    # Every dialect makes primary key columns NOT NULL.
    columns = tuple(
        replace(c, nullable=False) if c.name in key.columns else c for c in table.columns
    )
    return replace(table, primary_key=key, columns=columns)


# -- dropping constraints by name -------------------------------------------------------


def drop_constraint(op: DropConstraint, schema: Schema, dialect: sa.Dialect) -> Schema:
    table = require_table(schema, op.table_name, op.schema, op.describe())
    if op.type_ == "primary" and dialect.name != "postgresql" and table.primary_key:
        # SQLite's rebuild and MariaDB's DROP PRIMARY KEY ignore the name.
        return put_table(schema, replace(table, primary_key=None))
    for kind, drop in _DROPPERS:
        if op.type_ in (None, kind):
            changed = drop(table, op.name, dialect.name)
            if changed is not None and kind == "foreignkey" and op.key_index_stays:
                changed = replace(changed, indexes=table.indexes)  # as under Alembic
            if changed is not None:
                return put_table(schema, changed)
    if op.if_exists:
        return schema
    kind = f"{op.type_} constraint" if op.type_ else "constraint"
    raise InexactReplay(
        f"{op.describe()}: no {kind} named {op.name!r} in the replayed schema "
        "(a name the database chose?)"
    )


def _drop_primary(table: Table, name: str, dialect_name: str) -> Table | None:
    pk = table.primary_key
    if pk is None:
        return None
    fixed = {"postgresql": f"{table.name}_pkey", "mysql": "PRIMARY"}.get(dialect_name)
    if pk.name == name or (pk.name is None and name == fixed):
        return replace(table, primary_key=None)
    return None


def _drop_unique(table: Table, name: str, dialect_name: str) -> Table | None:
    for unique in table.uniques:
        if unique.name == name or (
            unique.name is None and name == _unnamed_unique(table, unique.columns, dialect_name)
        ):
            return replace(table, uniques=tuple(u for u in table.uniques if u is not unique))
    for index in table.indexes:
        # A unique index is what DROP CONSTRAINT removes on MariaDB.
        if index.unique and index.name == name and dialect_name == "mysql":
            return replace(table, indexes=tuple(i for i in table.indexes if i is not index))
    return None


def _unnamed_unique(table: Table, columns: tuple[str, ...], dialect_name: str) -> str | None:
    if dialect_name == "postgresql":
        return f"{table.name}_{'_'.join(columns)}_key"
    if dialect_name == "mysql":
        return columns[0]
    return None


def _drop_foreign_key(table: Table, name: str, dialect_name: str) -> Table | None:
    for fk in table.foreign_keys:
        auto = f"{table.name}_{'_'.join(fk.columns)}_fkey" if dialect_name == "postgresql" else None
        if fk.name == name or (fk.name is None and name == auto):
            table = replace(table, foreign_keys=tuple(f for f in table.foreign_keys if f is not fk))
            if dialect_name == "mysql":
                # DropConstraint takes MariaDB's index for the key (same name,
                # same columns) with the key; see ops.constraint._implicit_fk_index.
                table = replace(table, indexes=tuple(
                    i for i in table.indexes if (i.name, i.columns) != (name, fk.columns)
                ))  # fmt: skip
            return table
    return None


def _drop_check(table: Table, name: str, dialect_name: str) -> Table | None:
    for check in table.checks:
        if check.name == name:
            return replace(table, checks=tuple(c for c in table.checks if c is not check))
    return None


_DROPPERS: tuple[tuple[str, Callable[[Table, str, str], Table | None]], ...] = (
    ("primary", _drop_primary),
    ("unique", _drop_unique),
    ("foreignkey", _drop_foreign_key),
    ("check", _drop_check),
)


# -- MariaDB's own indexes for foreign keys ----------------------------------------------


def with_foreign_key_indexes(table: Table) -> Table:
    """``table`` with the index MariaDB adds for each foreign key no index serves.

    InnoDB needs an index whose leading columns are the key's columns; when
    none exists it makes one, named after the constraint (or its first
    column when unnamed).
    """
    indexes = list(table.indexes)
    for fk in table.foreign_keys:
        if _served(fk.columns, table, indexes):
            continue
        name = fk.name or fk.columns[0]
        taken = {i.name for i in indexes} | {u.name for u in table.uniques}
        suffix = 2
        while name in taken:
            name, suffix = f"{fk.name or fk.columns[0]}_{suffix}", suffix + 1
        indexes.append(Index(name, fk.columns))
    return replace(table, indexes=_by_name(tuple(indexes)))


def _served(columns: tuple[str, ...], table: Table, indexes: list[Index]) -> bool:
    leading = [i.columns for i in indexes] + [u.columns for u in table.uniques]
    if table.primary_key is not None:
        leading.append(table.primary_key.columns)
    return any(cols[: len(columns)] == columns for cols in leading)


def without_redundant_foreign_key_indexes(table: Table, new: tuple[str, ...]) -> Table:
    """MariaDB silently drops a key's own index once a new index (``new``) serves it."""
    implicit = {
        i.name
        for fk in table.foreign_keys
        for i in table.indexes
        if i.columns == fk.columns
        and new[: len(fk.columns)] == fk.columns
        and i.columns != new
        and (i.name == fk.name or i.name.startswith(fk.columns[0]))
    }
    return replace(table, indexes=tuple(i for i in table.indexes if i.name not in implicit))
