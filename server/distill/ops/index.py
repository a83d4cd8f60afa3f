"""Index operations: create and drop."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from distill.ddl import mysql
from distill.ddl.context import NamingConvention, OpContext
from distill.errors import OperationError
from distill.ops import render as r
from distill.ops.base import Op, TableChange
from distill.ops.naming import created_name, dropped_index_name, metadata_for
from distill.ops.table_model import IndexModel, TableModel

_IDENTIFIER = re.compile(r"^\w+$")


def _index_elements(table: sa.Table, columns: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for item in columns:
        if isinstance(item, str) and _IDENTIFIER.match(item):
            if item not in table.c:
                table.append_column(sa.Column(item, sa.types.NullType()))
            out.append(table.c[item])
        elif isinstance(item, str):
            out.append(sa.text(item))  # an expression such as "lower(email)"
        else:
            out.append(item)
    return out


def _check_concurrently(ctx: OpContext, kw: dict[str, Any], what: str) -> None:
    if (
        ctx.dialect_name == "postgresql"
        and kw.get("postgresql_concurrently")
        and not ctx.in_autocommit_block
    ):
        raise OperationError(
            f"{what} with postgresql_concurrently=True cannot run inside a transaction; "
            "wrap it in `with op.get_context().autocommit_block():`"
        )


@dataclass(eq=False)
class CreateIndex(TableChange):
    op_name = "create_index"
    index_name: str | None
    table_name: str
    columns: Sequence[Any]
    schema: str | None = None
    unique: bool = False
    if_not_exists: bool | None = None
    kw: dict[str, Any] = field(default_factory=dict)
    naming_convention: NamingConvention | None = field(default=None, repr=False)

    def describe(self) -> str:
        return f"op.create_index({self.index_name!r}, {self.table_name!r})"

    def index(self) -> sa.Index:
        table = sa.Table(self.table_name, metadata_for(self.naming_convention), schema=self.schema)
        elements = _index_elements(table, self.columns)
        for name in self.kw.get("postgresql_include") or ():
            # Compiled from the table's columns: the stub table must have them too.
            if isinstance(name, str) and name not in table.c:
                table.append_column(sa.Column(name, sa.types.NullType()))
        if any(isinstance(e, sa.Column) for e in elements):
            # Attached through its columns, so the naming convention applies.
            return sa.Index(self.index_name, *elements, unique=self.unique, **self.kw)
        return sa.Index(self.index_name, *elements, unique=self.unique, _table=table, **self.kw)

    def created_name(self) -> str | None:
        """The index's name, as the naming convention makes it for an unnamed one."""
        return created_name(self.index())

    def execute_native(self, ctx: OpContext) -> None:
        _check_concurrently(ctx, self.kw, self.describe())
        ctx.execute(sa.schema.CreateIndex(self.index(), if_not_exists=bool(self.if_not_exists)))

    def change_model(self, model: TableModel) -> None:
        name = self.created_name()
        if self.if_not_exists and any(i.name == name for i in model.indexes):
            return
        names = [c for c in self.columns if isinstance(c, str) and _IDENTIFIER.match(c)]
        others = [sa.text(c) if isinstance(c, str) else c for c in self.columns if c not in names]
        sqlite_kw = {k: v for k, v in self.kw.items() if k.startswith("sqlite_")}
        model.indexes.append(
            IndexModel(str(name), names, self.unique, kwargs=sqlite_kw, expressions=others)
        )

    def reverse(self) -> Op:
        if self.index_name is None:
            raise OperationError(f"{self.describe()} cannot be reversed: give the index a name")
        return DropIndex(
            self.index_name, self.table_name, self.schema, definition=self,
            naming_convention=self.naming_convention,
        )  # fmt: skip

    def render(self, imports: set[str]) -> str:
        args = [
            r.literal(self.index_name),
            r.literal(self.table_name),
            "[" + ", ".join(r.sql_text(c, imports) for c in self.columns) + "]",
        ]
        kwargs = [("unique", "True")] if self.unique else []
        kwargs += r.schema_kwarg(self.schema)
        if self.if_not_exists is not None:
            kwargs.append(("if_not_exists", r.literal(self.if_not_exists)))
        kwargs += r.kwargs_of(sorted(self.kw.items()), imports)
        return r.call("op.create_index", args, kwargs)


@dataclass(eq=False)
class DropIndex(TableChange):
    op_name = "drop_index"
    index_name: str
    table_name: str | None = None  # type: ignore[assignment]
    schema: str | None = None
    if_exists: bool | None = None
    kw: dict[str, Any] = field(default_factory=dict)
    definition: CreateIndex | None = None  # what reverse() recreates, when known
    naming_convention: NamingConvention | None = field(default=None, repr=False)

    def describe(self) -> str:
        return f"op.drop_index({self.index_name!r})"

    def execute(self, ctx: OpContext) -> Any:
        # Dropping an index is native everywhere; no rebuild even on SQLite.
        return self.execute_native(ctx)

    def execute_native(self, ctx: OpContext) -> None:
        _check_concurrently(ctx, self.kw, self.describe())
        name = self.dropped_name()
        table_name = self.table_name
        if ctx.dialect_name == "mysql" and table_name is None:
            if ctx.is_offline:
                raise OperationError(
                    f"{self.describe()}: MySQL/MariaDB need the table of an index and with "
                    "--sql it cannot be looked up; pass table_name="
                )
            table_name = mysql.index_table(ctx.connection, name, self.schema)
        table = sa.Table(table_name or "_distill_unknown", sa.MetaData(), schema=self.schema)
        index = sa.Index(sa.sql.elements.conv(name), _table=table, **self.kw)
        ctx.execute(sa.schema.DropIndex(index, if_exists=bool(self.if_exists)))

    def dropped_name(self) -> str:
        """The name dropped: the given one, rewritten by the naming convention."""
        return dropped_index_name(self.index_name, self.table_name, self.naming_convention)

    def change_model(self, model: TableModel) -> None:
        name = self.dropped_name()
        if self.if_exists and not any(i.name == name for i in model.indexes):
            return
        model.drop_index(name)

    def reverse(self) -> Op:
        if self.definition is None:
            raise OperationError(
                f"{self.describe()} cannot be reversed without the index definition; "
                "write the op.create_index() of the downgrade by hand"
            )
        return self.definition

    def render(self, imports: set[str]) -> str:
        kwargs = [("table_name", r.literal(self.table_name))] if self.table_name else []
        kwargs += r.schema_kwarg(self.schema)
        if self.if_exists is not None:
            kwargs.append(("if_exists", r.literal(self.if_exists)))
        kwargs += r.kwargs_of(sorted(self.kw.items()), imports)
        return r.call("op.drop_index", [r.literal(self.index_name)], kwargs)
