"""``op.batch_alter_table``: several changes to one table, one SQLite rebuild.

The changes are collected while the ``with`` block runs and carried out when it
ends — as one rebuild on SQLite when any of them needs it (or always, with
``recreate="always"``), as ordinary ALTER statements everywhere else.  On
PostgreSQL and MariaDB ``recreate`` is ignored: their ALTER TABLE can do every
change in place, which is faster and keeps the table's identity (grants,
dependent views, statistics).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from distill.errors import OperationError
from distill.ops import render as r
from distill.ops.base import Op, TableChange
from distill.ops.column import AddColumn
from distill.ops.context import OpContext
from distill.ops.rebuild import RebuildOptions, rebuild_table

if TYPE_CHECKING:
    from distill.ops.api import Operations

RECREATE = ("auto", "always", "never")


@dataclass(eq=False)
class BatchAlterTable(Op):
    op_name = "batch_alter_table"
    table_name: str
    schema: str | None = None
    recreate: str = "auto"
    copy_from: sa.Table | None = None
    naming_convention: dict[str, Any] | None = None
    ops: list[TableChange] = field(default_factory=list)
    # Used by a SQLite rebuild only, as in Alembic (see RebuildOptions).
    options: RebuildOptions = field(default_factory=RebuildOptions)

    def __post_init__(self) -> None:
        if self.recreate not in RECREATE:
            raise OperationError(
                f"op.batch_alter_table({self.table_name!r}): recreate={self.recreate!r} is not "
                f"one of {', '.join(RECREATE)}"
            )

    def execute(self, ctx: OpContext) -> None:
        if ctx.dialect_name != "sqlite":
            for item in self.ops:
                item.execute(ctx)
            return
        needing = [item for item in self.ops if item.needs_rebuild(ctx)]
        if self.recreate == "never" and needing:
            raise OperationError(
                f"{needing[0].describe()} needs SQLite to rebuild table {self.table_name!r}, "
                "and the batch says recreate='never'; use recreate='auto'"
            )
        if self.recreate == "always" or needing:
            rebuild_table(
                ctx, self.table_name, self.schema, self.ops, self.copy_from,
                self.naming_convention, self.options,
            )  # fmt: skip
            return
        for item in self.ops:
            item.execute(ctx)

    def reverse(self) -> Op:
        return BatchAlterTable(
            self.table_name,
            self.schema,
            self.recreate,
            None,
            self.naming_convention,
            [_as_change(item.reverse()) for item in reversed(self.ops)],
            _reversed_options(self.options),
        )

    def render(self, imports: set[str]) -> str:
        kwargs = r.schema_kwarg(self.schema)
        if self.recreate != "auto":
            kwargs.append(("recreate", r.literal(self.recreate)))
        if self.options.table_kwargs:
            pairs = ", ".join(
                f"{r.literal(k)}: {r.literal(v)}" for k, v in self.options.table_kwargs.items()
            )
            kwargs.append(("table_kwargs", f"{{{pairs}}}"))
        head = r.call("op.batch_alter_table", [r.literal(self.table_name)], kwargs)
        lines = [f"with {head} as batch_op:"]
        lines += [f"    {self._render_in_batch(item, imports)}" for item in self.ops] or [
            "    pass"
        ]
        return "\n".join(lines)

    def _render_in_batch(self, item: TableChange, imports: set[str]) -> str:
        # The batch object's methods are op's methods without the table (and
        # schema) arguments, so the op's own rendering is trimmed to that.
        text = item.render(imports)
        table = r.literal(self.table_name)
        if self.schema:
            text = text.replace(f", schema={r.literal(self.schema)}", "", 1)
            text = text.replace(f", source_schema={r.literal(self.schema)}", "", 1)
        text = text.replace(f", table_name={table}", "", 1)
        head = f"op.{item.op_name}("
        assert text.startswith(head)
        rest = text[len(head) :]
        if rest.startswith(f"{table}, "):
            rest = rest[len(table) + 2 :]
        elif f", {table}" in rest:
            rest = rest.replace(f", {table}", "", 1)
        return f"batch_op.{item.op_name}({rest}"


def _reversed_options(options: RebuildOptions) -> RebuildOptions:
    # Undoing a rebuild that set sqlite_autoincrement is a rebuild that unsets it;
    # the other options describe the table as it was and are not carried back.
    wanted = (options.table_kwargs or {}).get("sqlite_autoincrement")
    if wanted is None:
        return RebuildOptions()
    return RebuildOptions(table_kwargs={"sqlite_autoincrement": not wanted})


def _as_change(item: Op) -> TableChange:
    assert isinstance(item, TableChange)
    return item


class BatchOperations:
    """What ``with op.batch_alter_table(name) as batch_op`` yields."""

    def __init__(self, context: OpContext, table_name: str, schema: str | None) -> None:
        from distill.ops.api import Operations

        self.table_name = table_name
        self.schema = schema
        self.ops: list[TableChange] = []
        self._record: Operations = Operations(context, invoke=self._collect)

    def _collect(self, item: Op) -> None:
        self.ops.append(_as_change(item))

    def add_column(
        self,
        column: sa.Column[Any],
        *,
        insert_before: str | None = None,
        insert_after: str | None = None,
        if_not_exists: bool | None = None,
    ) -> None:
        self._collect(
            AddColumn(
                self.table_name, column, self.schema, if_not_exists, insert_before, insert_after
            )
        )

    def drop_column(self, column_name: str, **kw: Any) -> None:
        self._record.drop_column(self.table_name, column_name, schema=self.schema, **kw)

    def alter_column(self, column_name: str, **kw: Any) -> None:
        self._record.alter_column(self.table_name, column_name, schema=self.schema, **kw)

    def create_index(self, index_name: str, columns: Sequence[Any], **kw: Any) -> None:
        self._record.create_index(index_name, self.table_name, columns, schema=self.schema, **kw)

    def drop_index(self, index_name: str, **kw: Any) -> None:
        self._record.drop_index(index_name, self.table_name, schema=self.schema, **kw)

    def create_unique_constraint(
        self, constraint_name: str | None, columns: Sequence[str], **kw: Any
    ) -> None:
        self._record.create_unique_constraint(
            constraint_name, self.table_name, columns, schema=self.schema, **kw
        )

    def create_foreign_key(
        self,
        constraint_name: str | None,
        referent_table: str,
        local_cols: Sequence[str],
        remote_cols: Sequence[str],
        **kw: Any,
    ) -> None:
        self._record.create_foreign_key(
            constraint_name,
            self.table_name,
            referent_table,
            local_cols,
            remote_cols,
            source_schema=self.schema,
            **kw,
        )

    def create_check_constraint(
        self, constraint_name: str | None, condition: Any, **kw: Any
    ) -> None:
        self._record.create_check_constraint(
            constraint_name, self.table_name, condition, schema=self.schema, **kw
        )

    def create_primary_key(self, constraint_name: str | None, columns: Sequence[str]) -> None:
        self._record.create_primary_key(
            constraint_name, self.table_name, columns, schema=self.schema
        )

    def drop_constraint(self, constraint_name: str, type_: str | None = None, **kw: Any) -> None:
        self._record.drop_constraint(
            constraint_name, self.table_name, type_, schema=self.schema, **kw
        )
