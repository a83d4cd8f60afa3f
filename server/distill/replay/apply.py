"""``Op.apply``: each op's effect on a ``Schema``, found by the op's class.

Kept apart from the op classes so each op module stays about executing and
rendering, and so replay imports the schema conversion only when it runs.
Batches apply their changes in order, as the engine runs them; on SQLite a
batch that rebuilds the table gives each added column its full effect and its
``insert_before``/``insert_after`` place, as the rebuild does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from distill.ddl.context import OpContext
from distill.ddl.statements import shown, structural_statements
from distill.ops.base import Op
from distill.ops.batch import BatchAlterTable
from distill.ops.column import AddColumn, AlterColumn, DropColumn
from distill.ops.constraint import (
    CreateCheck,
    CreateForeignKey,
    CreatePrimaryKey,
    CreateUnique,
    DropConstraint,
)
from distill.ops.data import BulkInsert, Execute
from distill.ops.enum import AddEnumValue, CreateEnumType, DropEnumType, RecreateEnumType
from distill.ops.index import CreateIndex, DropIndex
from distill.ops.naming import created_name, metadata_for
from distill.ops.rebuild import column_order
from distill.ops.table import (
    CreateTable,
    CreateTableComment,
    DropTable,
    DropTableComment,
    RenameTable,
)
from distill.replay import constraints, enums, tables
from distill.replay.enum_sql import enum_op_of
from distill.replay.schema import InexactReplay, dialect_for, put_table, require_table
from distill.schema.model import ForeignKey, Schema

Apply = Callable[[Any, Schema, sa.Dialect], Schema]


def apply_op(op: Op, schema: Schema, dialect: sa.Dialect | None = None) -> Schema:
    """``schema`` after ``op``; raises ``InexactReplay`` when that cannot be known."""
    dialect = dialect or dialect_for(schema.dialect, schema.flavour)
    apply = _APPLY.get(type(op))
    if apply is None:
        raise InexactReplay(f"{op.describe()}: this op has no symbolic replay")
    after = apply(op, schema, dialect)
    return _autoincrement_as_rebuilt(op, after) if dialect.name == "sqlite" else after


def _autoincrement_as_rebuilt(op: Op, schema: Schema) -> Schema:
    """A rebuild keeps AUTOINCREMENT only while the key can carry it, as SQLAlchemy writes it.

    Keeping it is what the rebuild does (``rebuild_keep``); a key that is no
    longer one integer column, or that became a foreign key, loses it.
    """
    name = getattr(op, "table_name", None)
    table = schema.table(name, getattr(op, "schema", None)) if isinstance(name, str) else None
    if table is None or not table.sqlite_autoincrement:
        return schema
    key = table.primary_key.columns if table.primary_key else ()
    column = table.column(key[0]) if len(key) == 1 else None
    if (
        column is not None
        and column.type.family in ("integer", "smallint", "bigint")
        and not any(column.name in fk.columns for fk in table.foreign_keys)
    ):
        return schema
    return put_table(schema, replace(table, sqlite_autoincrement=False))


def _execute(op: Execute, schema: Schema, dialect: sa.Dialect) -> Schema:
    if not structural_statements(op.sqltext):
        return schema
    enum_op = enum_op_of(_text_of(op)) if dialect.name == "postgresql" else None
    if enum_op is None:
        raise InexactReplay(f"op.execute() may change the schema: {shown(_text_of(op))}")
    return apply_op(enum_op, schema, dialect)


def _text_of(op: Execute) -> str:
    sql = op.sqltext
    if isinstance(sql, str):
        return sql
    if isinstance(sql, sa.TextClause):
        return sql.text
    try:
        return str(sql)
    except Exception:  # a construct that only compiles for a real dialect
        return type(sql).__name__


def _unchanged(op: Op, schema: Schema, dialect: sa.Dialect) -> Schema:
    return schema  # rows only


def _batch(op: BatchAlterTable, schema: Schema, dialect: sa.Dialect) -> Schema:
    rebuilds = dialect.name == "sqlite" and _rebuilds(op, dialect)
    reasons: list[str] = []
    if rebuilds and op.naming_convention:
        schema = _named_by_convention(op, schema)
    for item in op.in_run_order():
        try:
            if isinstance(item, AddColumn):
                schema = _batch_add_column(item, schema, dialect, rebuilds)
            else:
                schema = apply_op(item, schema, dialect)
        except InexactReplay as inexact:
            reasons.append(inexact.reason)
    if rebuilds and op.options.table_args:
        # Arbitrary Table arguments: the scratch database shows what they make.
        reasons.append(f"op.batch_alter_table({op.table_name!r}, table_args=...) on SQLite")
    elif rebuilds and op.options.partial_reordering and not reasons:
        schema = _reorder(op, schema)
    wanted = (op.options.table_kwargs or {}).get("sqlite_autoincrement")
    if rebuilds and wanted is not None and not reasons:
        table = require_table(schema, op.table_name, op.schema, "op.batch_alter_table()")
        schema = put_table(schema, replace(table, sqlite_autoincrement=bool(wanted)))
    if reasons:
        raise InexactReplay("; ".join(reasons), schema)
    return schema


def _named_by_convention(op: BatchAlterTable, schema: Schema) -> Schema:
    """The batch's table with its unnamed key and constraints named by the batch's
    naming convention, as the rebuild names them (``rebuild.name_unnamed``)."""
    assert op.naming_convention is not None
    convention = op.naming_convention
    table = require_table(schema, op.table_name, op.schema, "op.batch_alter_table()")

    def name_of(con: sa.Constraint) -> str | None:
        metadata = metadata_for(convention)
        columns = [sa.Column(c.name, sa.types.NullType()) for c in table.columns]
        sa.Table(table.name, metadata, *columns, schema=table.schema).append_constraint(con)
        return created_name(con)

    def fk_of(fk: ForeignKey) -> sa.ForeignKeyConstraint:
        prefix = f"{fk.ref_schema}.{fk.ref_table}" if fk.ref_schema else fk.ref_table
        return sa.ForeignKeyConstraint(list(fk.columns), [f"{prefix}.{c}" for c in fk.ref_columns])

    pk = table.primary_key
    if pk is not None and pk.name is None:
        pk = replace(pk, name=name_of(sa.PrimaryKeyConstraint(*pk.columns)))
    named = replace(
        table,
        primary_key=pk,
        uniques=tuple(
            u if u.name else replace(u, name=name_of(sa.UniqueConstraint(*u.columns)))
            for u in table.uniques
        ),
        foreign_keys=tuple(
            fk if fk.name else replace(fk, name=name_of(fk_of(fk))) for fk in table.foreign_keys
        ),
        checks=tuple(
            c if c.name else replace(c, name=name_of(sa.CheckConstraint(sa.text(c.sqltext))))
            for c in table.checks
        ),
    )
    return put_table(schema, named)


def _reorder(op: BatchAlterTable, schema: Schema) -> Schema:
    table = require_table(schema, op.table_name, op.schema, "op.batch_alter_table()")
    assert op.options.partial_reordering is not None
    order = column_order([c.name for c in table.columns], op.options.partial_reordering)
    columns = tuple(sorted(table.columns, key=lambda c: order.index(c.name)))
    return put_table(schema, replace(table, columns=columns))


def _rebuilds(op: BatchAlterTable, dialect: sa.Dialect) -> bool:
    # needs_rebuild() looks only at the op; a context is part of its signature.
    ctx = OpContext(dialect=dialect, connection=None, write_sql=lambda _: None)
    return op.recreate == "always" or any(item.needs_rebuild(ctx) for item in op.ops)


def _batch_add_column(op: AddColumn, schema: Schema, dialect: sa.Dialect, rebuilds: bool) -> Schema:
    schema = tables.add_column(op, schema, dialect, rebuilding=rebuilds)
    anchor = op.insert_before or op.insert_after
    if not rebuilds or anchor is None:
        return schema  # ADD COLUMN puts it last
    table = require_table(schema, op.table_name, op.schema, op.describe())
    *others, added = table.columns
    names = [c.name for c in others]
    if anchor not in names:
        raise InexactReplay(f"{op.describe()}: no column {anchor!r} to place it next to")
    at = names.index(anchor) + (0 if op.insert_before else 1)
    columns = (*others[:at], added, *others[at:])
    return put_table(schema, replace(table, columns=columns))


_APPLY: dict[type[Op], Apply] = {
    CreateTable: tables.create_table,
    DropTable: tables.drop_table,
    RenameTable: tables.rename_table,
    CreateTableComment: tables.set_table_comment,
    DropTableComment: tables.set_table_comment,
    AddColumn: tables.add_column,
    DropColumn: tables.drop_column,
    AlterColumn: tables.alter_column,
    CreateIndex: constraints.create_index,
    DropIndex: constraints.drop_index,
    CreateUnique: constraints.create_constraint,
    CreateForeignKey: constraints.create_constraint,
    CreateCheck: constraints.create_constraint,
    CreatePrimaryKey: constraints.create_constraint,
    DropConstraint: constraints.drop_constraint,
    CreateEnumType: enums.create_enum_type,
    DropEnumType: enums.drop_enum_type,
    AddEnumValue: enums.add_enum_value,
    RecreateEnumType: enums.recreate_enum_type,
    Execute: _execute,
    BulkInsert: _unchanged,
    BatchAlterTable: _batch,
}
