"""``op.batch_alter_table``: several changes to one table, one SQLite rebuild.

The changes are collected while the ``with`` block runs and carried out when it
ends — as one rebuild on SQLite when any of them needs it (or always, with
``recreate="always"``), as ordinary ALTER statements everywhere else.  On
PostgreSQL and MariaDB ``recreate`` is ignored: their ALTER TABLE can do every
change in place, which is faster and keeps the table's identity (grants,
dependent views, statistics).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from distill.ddl.context import OpContext
from distill.errors import OperationError
from distill.ops import render as r
from distill.ops.base import Op, TableChange
from distill.ops.column import DropColumn
from distill.ops.index import CreateIndex, DropIndex
from distill.ops.rebuild import RebuildOptions, rebuild_table

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

    def in_run_order(self) -> list[TableChange]:
        """The changes in the order they are carried out.

        As written, except that an index dropped after a column it indexes
        is dropped before that column: Alembic's rebuild drops the index by
        name from the table as it was, while DROP COLUMN would take the
        index along and leave nothing for DROP INDEX to find.
        """
        ordered: list[TableChange] = []
        for item in self.ops:
            at = len(ordered)
            if isinstance(item, DropIndex):
                first_drop = next(
                    (k for k, e in enumerate(ordered) if isinstance(e, DropColumn)), at
                )
                recreated = any(
                    isinstance(e, CreateIndex) and e.index_name == item.index_name
                    for e in ordered[first_drop:]
                )
                at = at if recreated else first_drop
            ordered.insert(at, item)
        return ordered

    def execute(self, ctx: OpContext) -> None:
        changes = self.in_run_order()
        if ctx.dialect_name != "sqlite":
            for item in changes:
                item.execute(ctx)
            return
        needing = [item for item in changes if item.needs_rebuild(ctx)]
        if self.recreate == "never" and needing:
            raise OperationError(
                f"{needing[0].describe()} needs SQLite to rebuild table {self.table_name!r}, "
                "and the batch says recreate='never'; use recreate='auto'"
            )
        if self.recreate == "always" or needing:
            rebuild_table(
                ctx, self.table_name, self.schema, changes, self.copy_from,
                self.naming_convention, self.options,
            )  # fmt: skip
            return
        for item in changes:
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
