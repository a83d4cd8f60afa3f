"""Whole-table operations: create, drop, rename, table comments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from distill.ddl import postgresql as pg
from distill.ddl.common import alter_table, ensure_referents_of, quote, table_sql
from distill.ddl.context import NamingConvention, OpContext
from distill.errors import OperationError
from distill.ops import render as r
from distill.ops.base import Op
from distill.ops.naming import metadata_for


@dataclass(eq=False)
class CreateTable(Op):
    op_name = "create_table"
    table_name: str
    items: Sequence[Any]  # Columns, constraints and Indexes, as given to sa.Table
    schema: str | None = None
    comment: str | None = None
    kw: dict[str, Any] = field(default_factory=dict)
    naming_convention: NamingConvention | None = field(default=None, repr=False)
    _table: sa.Table | None = field(default=None, init=False, repr=False)

    def to_table(self) -> sa.Table:
        # Built once: a Column can belong to one Table only, and the caller of
        # op.create_table() receives this very Table for op.bulk_insert().
        if self._table is None:
            self._table = sa.Table(
                self.table_name,
                metadata_for(self.naming_convention),
                *self.items,
                schema=self.schema,
                comment=self.comment,
                **self.kw,
            )
        return self._table

    def execute(self, ctx: OpContext) -> sa.Table:
        table = self.to_table()
        ensure_referents_of(table)
        if ctx.dialect_name == "postgresql":
            for statement in pg.enum_creates(ctx, table):
                ctx.execute(statement)
        ctx.execute(sa.schema.CreateTable(table))
        if ctx.dialect_name == "postgresql":
            for statement in pg.comment_statements(table):
                ctx.execute(statement)
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            ctx.execute(sa.schema.CreateIndex(index))
        return table

    def reverse(self) -> Op:
        return DropTable(self.table_name, self.schema, table=self.to_table())

    def render(self, imports: set[str]) -> str:
        args = [r.literal(self.table_name)]
        table_level = [item for item in self.items if not isinstance(item, sa.Column)]
        for item in self.items:
            if isinstance(item, sa.Column):
                args.append(r.column(item, imports, table_level=table_level))
            else:
                args.append(r.constraint(item, imports))
        kwargs = r.schema_kwarg(self.schema)
        if self.comment is not None:
            kwargs.append(("comment", r.literal(self.comment)))
        kwargs += [(k, r.literal(v)) for k, v in sorted(self.kw.items())]
        return r.call("op.create_table", args, kwargs)

    def describe(self) -> str:
        return f"op.create_table({self.table_name!r})"


@dataclass(eq=False)
class DropTable(Op):
    op_name = "drop_table"
    table_name: str
    schema: str | None = None
    if_exists: bool | None = None
    kw: dict[str, Any] = field(default_factory=dict)
    table: sa.Table | None = None  # the definition, when known, so the drop can be reversed

    def execute(self, ctx: OpContext) -> None:
        stub = sa.Table(self.table_name, sa.MetaData(), schema=self.schema)
        ctx.execute(sa.schema.DropTable(stub, if_exists=bool(self.if_exists)))

    def reverse(self) -> Op:
        if self.table is None:
            raise OperationError(
                f"{self.describe()} cannot be reversed without the table definition; "
                "write the op.create_table() of the downgrade by hand"
            )
        copy = self.table.to_metadata(sa.MetaData())
        kw = (
            {"sqlite_autoincrement": True}
            if copy.dialect_options["sqlite"]["autoincrement"]
            else {}
        )
        return CreateTable(copy.name, table_items(copy), copy.schema, copy.comment, kw)

    def render(self, imports: set[str]) -> str:
        kwargs = r.schema_kwarg(self.schema)
        if self.if_exists is not None:
            kwargs.append(("if_exists", r.literal(self.if_exists)))
        return r.call("op.drop_table", [r.literal(self.table_name)], kwargs)

    def describe(self) -> str:
        return f"op.drop_table({self.table_name!r})"


@dataclass(eq=False)
class RenameTable(Op):
    op_name = "rename_table"
    old_name: str
    new_name: str
    schema: str | None = None

    def execute(self, ctx: OpContext) -> None:
        if ctx.dialect_name == "mysql":
            # MySQL moves an unqualified new name into the current database.
            target = table_sql(ctx.dialect, self.new_name, self.schema)
        else:
            target = quote(ctx.dialect, self.new_name)
        ctx.execute(alter_table(ctx.dialect, self.old_name, self.schema, f"RENAME TO {target}"))

    def reverse(self) -> Op:
        return RenameTable(self.new_name, self.old_name, self.schema)

    def render(self, imports: set[str]) -> str:
        args = [r.literal(self.old_name), r.literal(self.new_name)]
        return r.call("op.rename_table", args, r.schema_kwarg(self.schema))


def table_items(table: sa.Table) -> list[Any]:
    """Columns, then the constraints not already stated by a column flag."""
    items: list[Any] = [c._copy() for c in table.columns]
    for con in list(table.constraints):
        if isinstance(con, sa.PrimaryKeyConstraint):
            continue  # the columns carry primary_key=True
        if isinstance(con, sa.UniqueConstraint):
            # By column name: SQLAlchemy 2.1's copy of a unique constraint joins the
            # table it was copied from.
            items.append(sa.UniqueConstraint(*con.columns.keys(), name=con.name,
                                             **con.dialect_kwargs))  # fmt: skip
            continue
        # Every foreign key is copied as a constraint, also one declared on a
        # column: Column._copy() leaves out a ForeignKey already attached to a
        # table, so the column copy alone would lose it.
        items.append(con._copy())
    items += [_index_item(i) for i in table.indexes if not _column_index(i)]
    return items


def _index_item(index: sa.Index) -> sa.Index:
    # Index has no _copy(); columns go by name so they bind to the new table's
    # copies, and SQL-text expressions are kept as they are.
    elements = [e.name if isinstance(e, sa.Column) else e for e in index.expressions]
    return sa.Index(index.name, *elements, unique=index.unique, **index.dialect_kwargs)


def _column_index(index: sa.Index) -> bool:
    return len(index.columns) == 1 and bool(next(iter(index.columns)).index)


def _comment_stub(name: str, schema: str | None, comment: str | None) -> sa.Table:
    return sa.Table(name, sa.MetaData(), schema=schema, comment=comment)


@dataclass(eq=False)
class CreateTableComment(Op):
    op_name = "create_table_comment"
    table_name: str
    comment: str
    existing_comment: str | None = None
    schema: str | None = None

    def execute(self, ctx: OpContext) -> None:
        if ctx.dialect.supports_comments:  # SQLite keeps no comments: nothing to do
            stub = _comment_stub(self.table_name, self.schema, self.comment)
            ctx.execute(sa.schema.SetTableComment(stub))

    def reverse(self) -> Op:
        if self.existing_comment is None:
            return DropTableComment(self.table_name, self.comment, self.schema)
        return CreateTableComment(self.table_name, self.existing_comment, self.comment, self.schema)

    def render(self, imports: set[str]) -> str:
        kwargs = []
        if self.existing_comment is not None:
            kwargs.append(("existing_comment", r.literal(self.existing_comment)))
        kwargs += r.schema_kwarg(self.schema)
        args = [r.literal(self.table_name), r.literal(self.comment)]
        return r.call("op.create_table_comment", args, kwargs)


@dataclass(eq=False)
class DropTableComment(Op):
    op_name = "drop_table_comment"
    table_name: str
    existing_comment: str | None = None
    schema: str | None = None

    def execute(self, ctx: OpContext) -> None:
        if ctx.dialect.supports_comments:
            stub = _comment_stub(self.table_name, self.schema, None)
            ctx.execute(sa.schema.DropTableComment(stub))

    def reverse(self) -> Op:
        if self.existing_comment is None:
            raise OperationError(
                f"op.drop_table_comment({self.table_name!r}) cannot be reversed without the "
                "comment; pass existing_comment="
            )
        return CreateTableComment(self.table_name, self.existing_comment, None, self.schema)

    def render(self, imports: set[str]) -> str:
        kwargs = []
        if self.existing_comment is not None:
            kwargs.append(("existing_comment", r.literal(self.existing_comment)))
        kwargs += r.schema_kwarg(self.schema)
        return r.call("op.drop_table_comment", [r.literal(self.table_name)], kwargs)
