"""Operations on data: arbitrary SQL, and inserting rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement

from distill.ddl.context import OpContext
from distill.ops import render as r
from distill.ops.base import Op


@dataclass(eq=False)
class Execute(Op):
    op_name = "execute"
    reversible = False
    sqltext: str | Executable
    execution_options: Mapping[str, Any] | None = None

    def execute(self, ctx: OpContext) -> Any:
        statement: Executable = (
            sa.text(self.sqltext) if isinstance(self.sqltext, str) else self.sqltext
        )
        if self.execution_options:
            statement = statement.execution_options(**self.execution_options)
        return ctx.execute(statement)

    def render(self, imports: set[str]) -> str:
        if isinstance(self.sqltext, str):
            args = [r.literal(self.sqltext)]
        else:
            args = [r.sql_text(self.sqltext, imports)]
        kwargs = []
        if self.execution_options:
            kwargs.append(("execution_options", repr(dict(self.execution_options))))
        return r.call("op.execute", args, kwargs)

    def describe(self) -> str:
        text = self.sqltext if isinstance(self.sqltext, str) else type(self.sqltext).__name__
        return f"op.execute({text[:40]!r})"


@dataclass(eq=False)
class BulkInsert(Op):
    op_name = "bulk_insert"
    reversible = False
    table: sa.TableClause  # a Table or sa.table(...)
    rows: Sequence[Mapping[str, Any]]
    multiinsert: bool = True

    def execute(self, ctx: OpContext) -> None:
        if not self.rows:
            return
        if ctx.is_offline:
            # One INSERT per row: a script for a person to read, values inline.
            for row in self.rows:
                ctx.execute(self.table.insert().values(self._typed(row)))
            return
        inline = any(isinstance(v, ClauseElement) for row in self.rows for v in row.values())
        if not self.multiinsert or inline:
            for row in self.rows:
                ctx.execute(self.table.insert().values(dict(row)))
            return
        # executemany needs the same keys in every row; rows that leave a
        # column out go in their own batch so its server default applies.
        batches: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in self.rows:
            batches.setdefault(tuple(row), []).append(dict(row))
        for batch in batches.values():
            statement = self.table.insert()
            ctx.connection.execute(statement, batch)
            ctx.executed.append(
                str(statement.compile(dialect=ctx.dialect, column_keys=list(batch[0])))
            )

    def _typed(self, row: Mapping[str, Any]) -> dict[str, Any]:
        # sa.table("t", sa.column("x")) has untyped columns, which cannot be
        # written as literals; the Python value says what type it is.
        out: dict[str, Any] = {}
        for key, value in row.items():
            column = self.table.c.get(key)
            untyped = column is None or isinstance(column.type, sa.types.NullType)
            plain = not isinstance(value, ClauseElement)
            out[key] = sa.literal(value) if untyped and plain else value
        return out

    def render(self, imports: set[str]) -> str:
        columns = [
            r.call("sa.column", [r.literal(c.name), r.type_(c.type, imports)])
            for c in self.table.columns
        ]
        table = r.call(
            "sa.table",
            [r.literal(self.table.name), *columns],
            [("schema", r.literal(self.table.schema))]
            if getattr(self.table, "schema", None)
            else [],
        )
        rows = "[" + ", ".join(repr(dict(row)) for row in self.rows) + "]"
        kwargs = [] if self.multiinsert else [("multiinsert", "False")]
        return r.call("op.bulk_insert", [table, rows], kwargs)

    def describe(self) -> str:
        return f"op.bulk_insert({self.table.name!r})"
