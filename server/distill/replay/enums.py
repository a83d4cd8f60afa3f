"""Symbolic replay of the enum type ops: ``Schema.enums`` and the columns using them.

A column's type holds the values of its enum, and reflection reads them from
the type, so a change to a type's values shows in every column using it; the
replay does the same.  On databases without named enum types the ops do
nothing, and neither does their replay.
"""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa

from distill.ops.enum import AddEnumValue, CreateEnumType, DropEnumType, RecreateEnumType
from distill.replay.schema import InexactReplay, with_tables
from distill.schema.model import EnumType, Schema
from distill.schema.types import column_type


def _find(schema: Schema, name: str, type_schema: str | None) -> EnumType | None:
    return next((e for e in schema.enums if (e.schema, e.name) == (type_schema, name)), None)


def _with_enum(
    schema: Schema, name: str, type_schema: str | None, values: tuple[str, ...] | None
) -> Schema:
    """``schema`` with the type set to ``values`` (None: dropped)."""
    others = [e for e in schema.enums if (e.schema, e.name) != (type_schema, name)]
    if values is not None:
        others.append(EnumType(name, values, type_schema))
    every = tuple(sorted(others, key=lambda e: (e.schema or "", e.name)))
    return Schema(schema.dialect, schema.tables, every, schema.flavour)


def _users(schema: Schema, name: str) -> list[tuple[str, str]]:
    return [(t.name, c.name) for t in schema.tables for c in t.columns if c.type.enum_name == name]


def _retyped(schema: Schema, name: str, values: tuple[str, ...], dialect: sa.Dialect) -> Schema:
    from sqlalchemy.dialects import postgresql

    new_type = column_type(postgresql.ENUM(*values, name=name, create_type=False), dialect)
    tables = []
    for table in schema.tables:
        columns = tuple(
            replace(c, type=new_type) if c.type.enum_name == name else c for c in table.columns
        )
        tables.append(replace(table, columns=columns) if columns != table.columns else table)
    return with_tables(schema, tables)


def create_enum_type(op: CreateEnumType, schema: Schema, dialect: sa.Dialect) -> Schema:
    if dialect.name != "postgresql":
        return schema
    if _find(schema, op.name, op.schema) is not None:
        raise InexactReplay(f"{op.describe()}: the type already exists in the replayed schema")
    return _with_enum(schema, op.name, op.schema, tuple(op.values))


def drop_enum_type(op: DropEnumType, schema: Schema, dialect: sa.Dialect) -> Schema:
    if dialect.name != "postgresql":
        return schema
    if _find(schema, op.name, op.schema) is None:
        raise InexactReplay(f"{op.describe()}: no such type in the replayed schema")
    if _users(schema, op.name):
        raise InexactReplay(f"{op.describe()}: columns still use the type (PostgreSQL refuses)")
    return _with_enum(schema, op.name, op.schema, None)


def add_enum_value(op: AddEnumValue, schema: Schema, dialect: sa.Dialect) -> Schema:
    if dialect.name != "postgresql":
        return schema
    found = _find(schema, op.name, op.schema)
    if found is None:
        raise InexactReplay(f"{op.describe()}: no such type in the replayed schema")
    if op.value in found.values:
        if op.if_not_exists:
            return schema
        raise InexactReplay(f"{op.describe()}: the type already has this value")
    values = list(found.values)
    anchor = op.before if op.before is not None else op.after
    if anchor is None:
        values.append(op.value)
    elif anchor not in values:
        raise InexactReplay(f"{op.describe()}: the type has no value {anchor!r}")
    else:
        values.insert(values.index(anchor) + (0 if op.before is not None else 1), op.value)
    schema = _with_enum(schema, op.name, op.schema, tuple(values))
    return _retyped(schema, op.name, tuple(values), dialect)


def recreate_enum_type(op: RecreateEnumType, schema: Schema, dialect: sa.Dialect) -> Schema:
    if dialect.name != "postgresql":
        return schema
    if _find(schema, op.name, op.schema) is None:
        raise InexactReplay(f"{op.describe()}: no such type in the replayed schema")
    missing = set(_users(schema, op.name)) - {tuple(c) for c in op.columns}
    if missing:
        # Those columns would keep the renamed old type, which is then dropped:
        # PostgreSQL refuses the DROP TYPE.
        raise InexactReplay(f"{op.describe()}: columns {sorted(missing)} use the type too")
    schema = _with_enum(schema, op.name, op.schema, tuple(op.values))
    return _retyped(schema, op.name, tuple(op.values), dialect)
