"""``Operations``: the methods revision scripts call as ``op.<name>(...)``.

Names and parameters are the ones Alembic users know.  Each method only builds
an op and hands it to ``invoke`` — by default the op runs at once; the symbolic
replay of a later issue passes a recorder instead, which is why no method may
touch the database itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import conv

from distill.errors import OperationError
from distill.ops.base import Op
from distill.ops.batch import BatchAlterTable
from distill.ops.column import NOT_GIVEN, AddColumn, AlterColumn, DropColumn
from distill.ops.constraint import (
    CreateCheck,
    CreateForeignKey,
    CreatePrimaryKey,
    CreateUnique,
    DropConstraint,
)
from distill.ops.context import OpContext
from distill.ops.data import BulkInsert, Execute
from distill.ops.enum import AddEnumValue, CreateEnumType, DropEnumType, RecreateEnumType
from distill.ops.index import CreateIndex, DropIndex
from distill.ops.rebuild import RebuildOptions
from distill.ops.table import (
    CreateTable,
    CreateTableComment,
    DropTable,
    DropTableComment,
    RenameTable,
)

if TYPE_CHECKING:
    from distill.ops.batch_operations import BatchOperations


class Operations:
    def __init__(self, context: OpContext, invoke: Callable[[Op], Any] | None = None) -> None:
        self.context = context
        self._invoke: Callable[[Op], Any] = invoke or (lambda item: item.execute(context))

    # -- tables --------------------------------------------------------------

    def create_table(
        self,
        table_name: str,
        *columns: Any,
        schema: str | None = None,
        comment: str | None = None,
        **kw: Any,
    ) -> sa.Table:
        item = CreateTable(
            table_name,
            list(columns),
            schema,
            comment,
            dict(kw),
            naming_convention=self.context.naming_convention,
        )
        self._invoke(item)
        return item.to_table()

    def drop_table(
        self,
        table_name: str,
        *,
        schema: str | None = None,
        if_exists: bool | None = None,
        **kw: Any,
    ) -> None:
        self._invoke(DropTable(table_name, schema, if_exists, dict(kw)))

    def rename_table(
        self, old_table_name: str, new_table_name: str, *, schema: str | None = None
    ) -> None:
        self._invoke(RenameTable(old_table_name, new_table_name, schema))

    def create_table_comment(
        self,
        table_name: str,
        comment: str,
        *,
        existing_comment: str | None = None,
        schema: str | None = None,
    ) -> None:
        self._invoke(CreateTableComment(table_name, comment, existing_comment, schema))

    def drop_table_comment(
        self,
        table_name: str,
        *,
        existing_comment: str | None = None,
        schema: str | None = None,
    ) -> None:
        self._invoke(DropTableComment(table_name, existing_comment, schema))

    # -- columns -------------------------------------------------------------

    def add_column(
        self,
        table_name: str,
        column: sa.Column[Any],
        *,
        schema: str | None = None,
        if_not_exists: bool | None = None,
    ) -> None:
        self._invoke(
            AddColumn(
                table_name,
                column,
                schema,
                if_not_exists,
                naming_convention=self.context.naming_convention,
            )
        )

    def drop_column(
        self,
        table_name: str,
        column_name: str,
        *,
        schema: str | None = None,
        if_exists: bool | None = None,
        **kw: Any,
    ) -> None:
        self._invoke(DropColumn(table_name, column_name, schema, if_exists, kw=dict(kw)))

    def alter_column(
        self,
        table_name: str,
        column_name: str,
        *,
        nullable: bool | None = None,
        comment: str | None = NOT_GIVEN,
        server_default: Any = NOT_GIVEN,
        new_column_name: str | None = None,
        type_: Any = None,
        existing_type: Any = None,
        existing_server_default: Any = NOT_GIVEN,
        existing_nullable: bool | None = None,
        existing_comment: str | None = None,
        schema: str | None = None,
        postgresql_using: str | None = None,
        **kw: Any,
    ) -> None:
        self._invoke(
            AlterColumn(
                table_name,
                column_name,
                nullable,
                comment,
                server_default,
                new_column_name,
                type_,
                existing_type,
                existing_server_default,
                existing_nullable,
                existing_comment,
                schema,
                postgresql_using,
                dict(kw),
                naming_convention=self.context.naming_convention,
            )
        )

    # -- indexes and constraints ---------------------------------------------

    def create_index(
        self,
        index_name: str | None,
        table_name: str,
        columns: Sequence[Any],
        *,
        schema: str | None = None,
        unique: bool = False,
        if_not_exists: bool | None = None,
        **kw: Any,
    ) -> None:
        self._invoke(
            CreateIndex(
                index_name,
                table_name,
                list(columns),
                schema,
                unique,
                if_not_exists,
                dict(kw),
                naming_convention=self.context.naming_convention,
            )
        )

    def drop_index(
        self,
        index_name: str,
        table_name: str | None = None,
        *,
        schema: str | None = None,
        if_exists: bool | None = None,
        **kw: Any,
    ) -> None:
        self._invoke(
            DropIndex(
                index_name,
                table_name,
                schema,
                if_exists,
                dict(kw),
                naming_convention=self.context.naming_convention,
            )
        )

    def create_unique_constraint(
        self,
        constraint_name: str | None,
        table_name: str,
        columns: Sequence[str],
        *,
        schema: str | None = None,
        **kw: Any,
    ) -> None:
        self._invoke(
            CreateUnique(
                constraint_name,
                table_name,
                list(columns),
                schema,
                dict(kw),
                naming_convention=self.context.naming_convention,
            )
        )

    def create_foreign_key(
        self,
        constraint_name: str | None,
        source_table: str,
        referent_table: str,
        local_cols: Sequence[str],
        remote_cols: Sequence[str],
        *,
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        match: str | None = None,
        source_schema: str | None = None,
        referent_schema: str | None = None,
        **dialect_kw: Any,
    ) -> None:
        self._invoke(
            CreateForeignKey(
                constraint_name,
                source_table,
                referent_table,
                list(local_cols),
                list(remote_cols),
                onupdate,
                ondelete,
                deferrable,
                initially,
                match,
                source_schema,
                referent_schema,
                dict(dialect_kw),
                naming_convention=self.context.naming_convention,
            )
        )

    def create_check_constraint(
        self,
        constraint_name: str | None,
        table_name: str,
        condition: Any,
        *,
        schema: str | None = None,
        **kw: Any,
    ) -> None:
        self._invoke(
            CreateCheck(
                constraint_name,
                table_name,
                condition,
                schema,
                dict(kw),
                naming_convention=self.context.naming_convention,
            )
        )

    def create_primary_key(
        self,
        constraint_name: str | None,
        table_name: str,
        columns: Sequence[str],
        *,
        schema: str | None = None,
    ) -> None:
        self._invoke(
            CreatePrimaryKey(
                constraint_name,
                table_name,
                list(columns),
                schema,
                naming_convention=self.context.naming_convention,
            )
        )

    def drop_constraint(
        self,
        constraint_name: str,
        table_name: str,
        type_: str | None = None,
        *,
        schema: str | None = None,
        if_exists: bool | None = None,
    ) -> None:
        self._invoke(
            DropConstraint(
                constraint_name,
                table_name,
                type_,
                schema,
                if_exists,
                naming_convention=self.context.naming_convention,
            )
        )

    # -- enum types (PostgreSQL; nothing elsewhere) ----------------------------

    def create_enum_type(
        self, name: str, values: Sequence[str], *, schema: str | None = None
    ) -> None:
        self._invoke(CreateEnumType(name, list(values), schema))

    def drop_enum_type(
        self, name: str, *, schema: str | None = None, values: Sequence[str] | None = None
    ) -> None:
        self._invoke(DropEnumType(name, schema, None if values is None else list(values)))

    def add_enum_value(
        self,
        name: str,
        value: str,
        *,
        schema: str | None = None,
        before: str | None = None,
        after: str | None = None,
        if_not_exists: bool = True,
    ) -> None:
        if before is not None and after is not None:
            raise OperationError(f"op.add_enum_value({name!r}, {value!r}): give before or after")
        self._invoke(AddEnumValue(name, value, schema, before, after, if_not_exists))

    def recreate_enum_type(
        self,
        name: str,
        values: Sequence[str],
        *,
        columns: Sequence[Sequence[str]] = (),
        schema: str | None = None,
        existing_values: Sequence[str] | None = None,
    ) -> None:
        pairs = [(str(table), str(column)) for table, column in columns]
        old = None if existing_values is None else list(existing_values)
        self._invoke(RecreateEnumType(name, list(values), pairs, schema, old))

    # -- data ----------------------------------------------------------------

    def execute(
        self, sqltext: str | Executable, *, execution_options: Mapping[str, Any] | None = None
    ) -> Any:
        return self._invoke(Execute(sqltext, execution_options))

    def bulk_insert(
        self,
        table: sa.TableClause,
        rows: Sequence[Mapping[str, Any]],
        *,
        multiinsert: bool = True,
    ) -> None:
        self._invoke(BulkInsert(table, list(rows), multiinsert))

    # -- batches and transactions --------------------------------------------

    @contextmanager
    def batch_alter_table(
        self,
        table_name: str,
        schema: str | None = None,
        recreate: str = "auto",
        partial_reordering: Any = None,
        copy_from: sa.Table | None = None,
        table_args: Sequence[Any] = (),
        table_kwargs: Mapping[str, Any] | None = None,
        reflect_args: Sequence[Any] = (),
        reflect_kwargs: Mapping[str, Any] | None = None,
        naming_convention: dict[str, Any] | None = None,
    ) -> Iterator[BatchOperations]:
        from distill.ops.batch_operations import BatchOperations

        batch = BatchOperations(self.context, table_name, schema, self._invoke)
        yield batch
        options = RebuildOptions(
            tuple(reflect_args), reflect_kwargs, tuple(table_args), table_kwargs,
            partial_reordering,
        )  # fmt: skip
        self._invoke(BatchAlterTable(
            table_name, schema, recreate, copy_from, naming_convention, batch.ops, options
        ))  # fmt: skip

    @contextmanager
    def autocommit_block(self) -> Iterator[None]:
        with self.context.autocommit_block():
            yield

    # -- helpers that run nothing ----------------------------------------------

    def get_bind(self) -> Connection:
        return self.context.connection

    def get_context(self) -> OpContext:
        return self.context

    @staticmethod
    def inline_literal(value: Any, type_: Any = None) -> sa.BindParameter[Any]:
        """A value written into the SQL itself, in online and --sql mode alike."""
        return sa.bindparam(None, value, type_=type_, literal_execute=True)

    @staticmethod
    def f(name: str) -> conv:
        """Mark a constraint name as final, exempt from the naming convention."""
        return conv(name)
