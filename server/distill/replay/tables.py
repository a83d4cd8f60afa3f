"""Symbolic replay of table and column ops: what each does to a ``Schema``.

Each function mirrors what executing the op does on the dialect, including
what the database does on its own (dropping the indexes of a dropped column,
following a renamed table in other tables' foreign keys), so that replaying
scripts and reflecting the database they built agree.  Anything given as
SQLAlchemy objects goes through ``distill.schema.from_metadata``, the same
conversion the models take, so both sides spell types and defaults alike.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from distill.ddl.sqlite import add_column_needs_rebuild
from distill.ops.column import NOT_GIVEN, AddColumn, AlterColumn, DropColumn
from distill.ops.naming import metadata_for
from distill.ops.table import (
    CreateTable,
    CreateTableComment,
    DropTable,
    DropTableComment,
    RenameTable,
)
from distill.ops.type_checks import TypeCheck
from distill.replay.constraints import with_foreign_key_indexes
from distill.replay.schema import (
    InexactReplay,
    mentions,
    put_table,
    rename_word,
    renamed,
    require_table,
    with_tables,
    without_table,
)
from distill.schema.from_metadata import schema_column, schema_table
from distill.schema.model import CheckConstraint, Column, ColumnType, EnumType, Schema, Table
from distill.schema.types import column_type

# -- tables -----------------------------------------------------------------------------


def create_table(op: CreateTable, schema: Schema, dialect: sa.Dialect) -> Schema:
    if schema.table(op.table_name, op.schema) is not None:
        raise InexactReplay(f"{op.describe()}: the table already exists in the replayed schema")
    table = op.to_table()
    created = schema_table(table, dialect)
    if dialect.name == "mysql":
        created = with_foreign_key_indexes(created)
    schema = put_table(schema, created)
    if dialect.name != "postgresql":
        return schema
    return with_enums(schema, created_enums(table))


def created_enums(table: sa.Table) -> list[EnumType]:
    """The enum types CREATE TABLE makes first on PostgreSQL (see ddl.postgresql)."""
    found = []
    for column in table.columns:
        kind = column.type
        if isinstance(kind, sa.Enum) and kind.native_enum and kind.name:
            found.append(EnumType(kind.name, tuple(kind.enums), kind.schema or table.schema))
    return found


def with_enums(schema: Schema, enums: list[EnumType]) -> Schema:
    # An existing type is left as it is, as the engine skips CREATE TYPE for it.
    known = {(e.schema, e.name) for e in schema.enums}
    new = [e for e in enums if (e.schema, e.name) not in known]
    if not new:
        return schema
    every = sorted([*schema.enums, *new], key=lambda e: (e.schema or "", e.name))
    return Schema(schema.dialect, schema.tables, tuple(every), schema.flavour)


def drop_table(op: DropTable, schema: Schema, dialect: sa.Dialect) -> Schema:
    if op.if_exists and schema.table(op.table_name, op.schema) is None:
        return schema
    # Enum types stay: DROP TABLE leaves them, and so does the engine.
    return without_table(schema, require_table(schema, op.table_name, op.schema, op.describe()))


def rename_table(op: RenameTable, schema: Schema, dialect: sa.Dialect) -> Schema:
    what = f"op.rename_table({op.old_name!r}, {op.new_name!r})"
    table = require_table(schema, op.old_name, op.schema, what)
    if schema.table(op.new_name, op.schema) is not None:
        raise InexactReplay(f"{what}: table {op.new_name!r} already exists in the replayed schema")
    tables = []
    for other in schema.tables:
        if other.key == table.key:
            other = replace(other, name=op.new_name)
        # Every dialect keeps other tables' foreign keys on the renamed table.
        fks = tuple(
            replace(fk, ref_table=op.new_name) if _refers_to(fk, table) else fk
            for fk in other.foreign_keys
        )
        tables.append(replace(other, foreign_keys=fks))
    return with_tables(schema, tables)


def _refers_to(fk: Any, table: Table) -> bool:
    return bool(fk.ref_table == table.name and fk.ref_schema == table.schema)


def set_table_comment(
    op: CreateTableComment | DropTableComment, schema: Schema, dialect: sa.Dialect
) -> Schema:
    if not dialect.supports_comments:  # SQLite keeps none: executing does nothing
        return schema
    table = require_table(schema, op.table_name, op.schema, op.op_name)
    comment = op.comment if isinstance(op, CreateTableComment) else None
    return put_table(schema, replace(table, comment=comment))


# -- columns ----------------------------------------------------------------------------


def add_column(
    op: AddColumn, schema: Schema, dialect: sa.Dialect, *, rebuilding: bool = False
) -> Schema:
    table = require_table(schema, op.table_name, op.schema, op.describe())
    if table.column(op.column.name) is not None:
        if op.if_not_exists:
            return schema
        raise InexactReplay(f"{op.describe()}: the column already exists in the replayed schema")
    metadata = metadata_for(op.naming_convention)
    stub = sa.Table(op.table_name, metadata, op.column._copy(), schema=op.schema)
    added = schema_table(stub, dialect)
    require_enum_types(schema, added.columns[0].type, op.describe())
    new = replace(table, columns=(*table.columns, added.columns[0]))
    native = not rebuilding and not add_column_needs_rebuild(op.column)
    if dialect.name == "sqlite" and native:
        # SQLite's own ADD COLUMN adds the column alone; an index=True the
        # engine creates after it, as Alembic does.
        return put_table(schema, replace(new, indexes=(*new.indexes, *added.indexes)))
    if added.primary_key is not None:
        new = replace(new, primary_key=_extended_key(table, added, op.describe(), dialect))
    new = replace(
        new,
        foreign_keys=(*new.foreign_keys, *added.foreign_keys),
        uniques=(*new.uniques, *added.uniques),
        indexes=(*new.indexes, *added.indexes),
        checks=(*new.checks, *(_check(c) for c in op.checks(dialect))),
    )
    if dialect.name == "mysql":
        new = with_foreign_key_indexes(new)
    return put_table(schema, new)


def _extended_key(table: Table, added: Table, what: str, dialect: sa.Dialect) -> Any:
    assert added.primary_key is not None
    if table.primary_key is None:
        return added.primary_key
    if dialect.name != "sqlite":
        raise InexactReplay(f"{what}: the table already has a primary key (the database refuses)")
    # A SQLite rebuild appends the new column to the existing key.
    pk = table.primary_key
    return replace(pk, columns=(*pk.columns, *added.primary_key.columns))


def require_enum_types(schema: Schema, type_: ColumnType, what: str) -> None:
    """PostgreSQL: a column may only use an enum type that exists already."""
    if schema.dialect != "postgresql" or type_.enum_name is None:
        return
    if not any(e.name == type_.enum_name for e in schema.enums):
        raise InexactReplay(
            f"{what}: enum type {type_.enum_name!r} is not in the replayed schema "
            "(op.create_enum_type or op.create_table creates it)"
        )


def drop_column(op: DropColumn, schema: Schema, dialect: sa.Dialect) -> Schema:
    table = require_table(schema, op.table_name, op.schema, op.describe())
    if table.column(op.column_name) is None:
        if op.if_exists:
            return schema
        raise InexactReplay(f"{op.describe()}: no such column in the replayed schema")
    return put_table(schema, without_column(table, op.column_name, dialect.name))


def without_column(table: Table, name: str, dialect_name: str) -> Table:
    """``table`` after DROP COLUMN, with what the database drops along with it."""
    pk = table.primary_key
    if pk is not None and name in pk.columns:
        rest = tuple(c for c in pk.columns if c != name)
        # PostgreSQL drops the whole key; MariaDB and a SQLite rebuild shrink it.
        pk = None if dialect_name == "postgresql" or not rest else replace(pk, columns=rest)
    if dialect_name == "mysql":
        # MariaDB removes the column from each index, dropping those left empty.
        indexes = tuple(
            replace(i, columns=cols, expressions=i.expressions[: len(cols)])
            for i in table.indexes
            if (cols := tuple(c for c in i.columns if c != name))
        )
        uniques = tuple(
            replace(u, columns=cols)
            for u in table.uniques
            if (cols := tuple(c for c in u.columns if c != name))
        )
    else:
        indexes = tuple(i for i in table.indexes if not any(mentions(c, name) for c in i.columns))
        uniques = tuple(u for u in table.uniques if name not in u.columns)
    return replace(
        table,
        columns=tuple(c for c in table.columns if c.name != name),
        primary_key=pk,
        foreign_keys=tuple(fk for fk in table.foreign_keys if name not in fk.columns),
        indexes=indexes,
        uniques=uniques,
        checks=tuple(c for c in table.checks if not mentions(c.sqltext, name)),
    )


def alter_column(op: AlterColumn, schema: Schema, dialect: sa.Dialect) -> Schema:
    table = require_table(schema, op.table_name, op.schema, op.describe())
    column = table.column(op.column_name)
    if column is None:
        raise InexactReplay(f"{op.describe()}: no such column in the replayed schema")
    new = column
    if op.type_ is not None:
        new = replace(new, type=column_type(op.type_, dialect))
        require_enum_types(schema, new.type, op.describe())
        table = _with_type_checks(table, *op.type_checks(dialect), dialect)
    if op.nullable is not None:
        new = replace(new, nullable=op.nullable)
    if op.server_default is not NOT_GIVEN:
        new = replace(new, server_default=default_sql(op.server_default, dialect))
    if op.comment is not NOT_GIVEN and dialect.supports_comments:
        new = replace(new, comment=op.comment)
    table = replace(table, columns=tuple(new if c is column else c for c in table.columns))
    schema = put_table(schema, table)
    if op.new_column_name is None:
        return schema
    return rename_column(schema, table, op.column_name, op.new_column_name, op.describe())


def _with_type_checks(
    table: Table, old: list[TypeCheck], new: list[TypeCheck], dialect: sa.Dialect
) -> Table:
    """``table`` with the old type's CHECKs replaced by the new type's, as the op does:
    by name; an unnamed one only in a SQLite rebuild, which finds it by its text."""
    if [(c.name, c.sqltext) for c in old] == [(c.name, c.sqltext) for c in new]:
        return table
    by_text = dialect.name == "sqlite"

    def dropped(check: CheckConstraint) -> bool:
        if check.name is not None:
            return any(check.name == o.name for o in old)
        return by_text and any(o.name is None and o.sqltext == check.sqltext for o in old)

    kept = tuple(c for c in table.checks if not dropped(c))
    return replace(table, checks=(*kept, *(_check(c) for c in new)))


def _check(check: TypeCheck) -> CheckConstraint:
    return CheckConstraint(check.sqltext, check.name)


def default_sql(server_default: Any, dialect: sa.Dialect) -> str | None:
    """A server default as the models' conversion writes it, for the same value."""
    if server_default is None:
        return None
    column: sa.Column[Any] = sa.Column("x", sa.Integer(), server_default=server_default)
    sa.Table("_distill_default", sa.MetaData(), column)
    return schema_column(column, dialect).server_default


def rename_column(schema: Schema, table: Table, old: str, new: str, what: str) -> Schema:
    if table.column(new) is not None:
        raise InexactReplay(f"{what}: column {new!r} already exists in the replayed schema")

    def column(c: Column) -> Column:
        return replace(c, name=new) if c.name == old else c

    pk = table.primary_key
    changed = replace(
        table,
        columns=tuple(column(c) for c in table.columns),
        primary_key=replace(pk, columns=renamed(pk.columns, old, new)) if pk else None,
        foreign_keys=tuple(
            replace(fk, columns=renamed(fk.columns, old, new)) for fk in table.foreign_keys
        ),
        indexes=tuple(
            replace(
                i,
                columns=tuple(
                    rename_word(c, old, new) if is_expr else (new if c == old else c)
                    for c, is_expr in zip(i.columns, _flags(i), strict=True)
                ),
            )
            for i in table.indexes
        ),
        uniques=tuple(replace(u, columns=renamed(u.columns, old, new)) for u in table.uniques),
        # The databases rewrite CHECK text to the new name themselves.
        checks=tuple(replace(c, sqltext=rename_word(c.sqltext, old, new)) for c in table.checks),
    )
    tables = []
    for other in schema.tables:
        if other.key == table.key:
            other = changed
        fks = tuple(
            replace(fk, ref_columns=renamed(fk.ref_columns, old, new))
            if _refers_to(fk, table)
            else fk
            for fk in other.foreign_keys
        )
        tables.append(replace(other, foreign_keys=fks))
    return with_tables(schema, tables)


def _flags(index: Any) -> tuple[bool, ...]:
    flags: tuple[bool, ...] = index.expressions
    return flags if len(flags) == len(index.columns) else (False,) * len(index.columns)
