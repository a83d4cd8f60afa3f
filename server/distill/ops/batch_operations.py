"""The object ``with op.batch_alter_table(name) as batch_op`` yields."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from distill.ops.api import Operations
from distill.ops.base import Op, TableChange
from distill.ops.column import AddColumn
from distill.ops.context import OpContext


class BatchOperations(Operations):
    """What ``with op.batch_alter_table(name) as batch_op`` yields.

    A full ``Operations``, as in Alembic: the changes to the batch's table are
    collected and carried out when the block ends; everything else
    (``batch_op.execute()``, ``get_bind()``, ``f()``, ``inline_literal()``...)
    acts at once, as ``op``'s would.  The table-level methods take no table
    name, hence the overridden signatures.
    """

    def __init__(
        self,
        context: OpContext,
        table_name: str,
        schema: str | None,
        outer: Callable[[Op], Any] | None = None,
    ) -> None:
        super().__init__(context, invoke=self._collect)
        self.table_name = table_name
        self.schema = schema
        self.ops: list[TableChange] = []
        self._outer: Callable[[Op], Any] = outer or (lambda item: item.execute(context))

    def _collect(self, item: Op) -> Any:
        if isinstance(item, TableChange):
            self.ops.append(item)
            return None
        return self._outer(item)

    def add_column(  # type: ignore[override]
        self,
        column: sa.Column[Any],
        *,
        insert_before: str | None = None,
        insert_after: str | None = None,
        if_not_exists: bool | None = None,
    ) -> None:
        self._collect(
            AddColumn(
                self.table_name, column, self.schema, if_not_exists, insert_before, insert_after,
                naming_convention=self.context.naming_convention,
            )
        )  # fmt: skip

    def drop_column(self, column_name: str, **kw: Any) -> None:  # type: ignore[override]
        super().drop_column(self.table_name, column_name, schema=self.schema, **kw)

    def alter_column(self, column_name: str, **kw: Any) -> None:  # type: ignore[override]
        super().alter_column(self.table_name, column_name, schema=self.schema, **kw)

    def create_index(self, index_name: str, columns: Sequence[Any], **kw: Any) -> None:  # type: ignore[override]
        super().create_index(index_name, self.table_name, columns, schema=self.schema, **kw)

    def drop_index(self, index_name: str, **kw: Any) -> None:  # type: ignore[override]
        super().drop_index(index_name, self.table_name, schema=self.schema, **kw)

    def create_unique_constraint(  # type: ignore[override]
        self, constraint_name: str | None, columns: Sequence[str], **kw: Any
    ) -> None:
        super().create_unique_constraint(
            constraint_name, self.table_name, columns, schema=self.schema, **kw
        )

    def create_foreign_key(  # type: ignore[override]
        self,
        constraint_name: str | None,
        referent_table: str,
        local_cols: Sequence[str],
        remote_cols: Sequence[str],
        **kw: Any,
    ) -> None:
        super().create_foreign_key(
            constraint_name,
            self.table_name,
            referent_table,
            local_cols,
            remote_cols,
            source_schema=self.schema,
            **kw,
        )

    def create_check_constraint(  # type: ignore[override]
        self, constraint_name: str | None, condition: Any, **kw: Any
    ) -> None:
        super().create_check_constraint(
            constraint_name, self.table_name, condition, schema=self.schema, **kw
        )

    def create_primary_key(self, constraint_name: str | None, columns: Sequence[str]) -> None:  # type: ignore[override]
        super().create_primary_key(constraint_name, self.table_name, columns, schema=self.schema)

    def drop_constraint(self, constraint_name: str, type_: str | None = None, **kw: Any) -> None:  # type: ignore[override]
        super().drop_constraint(constraint_name, self.table_name, type_, schema=self.schema, **kw)

    def create_table_comment(  # type: ignore[override]
        self, comment: str, *, existing_comment: str | None = None
    ) -> None:
        super().create_table_comment(
            self.table_name, comment, existing_comment=existing_comment, schema=self.schema
        )

    def drop_table_comment(  # type: ignore[override]
        self, *, existing_comment: str | None = None
    ) -> None:
        super().drop_table_comment(
            self.table_name, existing_comment=existing_comment, schema=self.schema
        )
