"""``Operations``: the methods revision scripts call as ``op.<name>(...)``, and
``BatchOperations``, the ``batch_op`` of ``with op.batch_alter_table(...)`` (a
full ``Operations`` whose table changes wait for the end of the block).

Names and parameters are the ones Alembic users know.  Each method only builds
an op and hands it to ``invoke`` — by default the op runs at once; the symbolic
replay of a later issue passes a recorder instead, which is why no method may
touch the database itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import conv

from distill.ddl.context import OpContext
from distill.errors import OperationError
from distill.ops.base import Op, TableChange
from distill.ops.batch import BatchAlterTable
from distill.ops.column import NOT_GIVEN, AddColumn, AlterColumn, DropColumn
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
from distill.ops.rebuild import RebuildOptions
from distill.ops.table import (
    CreateTable,
    CreateTableComment,
    DropTable,
    DropTableComment,
    RenameTable,
)


class Operations:
    """What ``op`` is in a revision script: ``op.add_column(...)``, ``op.execute(...)``, ...

    The names and parameters are Alembic's.  Each call runs at once (``distill
    upgrade``), is written as SQL (``--sql``), or is recorded by the symbolic
    replay (``check``, ``revision --autogenerate``, the editor).
    """

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
        """Create a table from ``sa.Column`` and constraint objects; returns the ``sa.Table``.

        ``op.create_table("users", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(255), nullable=False))``.  Unnamed constraints and
        indexes get the models' naming convention (env.py's ``target_metadata``), as in
        Alembic.  ``comment`` is the table comment (SQLite keeps none); other keyword
        arguments are the dialect's table options (``mysql_engine="InnoDB"``,
        ``sqlite_autoincrement=True``).
        """
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
        """Drop a table (``if_exists=True``: no error when it is missing).

        Destructive: its rows are gone.  Distill's downgrade of a ``create_table`` is
        this; the safety lint flags it in an upgrade.
        """
        self._invoke(DropTable(table_name, schema, if_exists, dict(kw)))

    def rename_table(
        self, old_table_name: str, new_table_name: str, *, schema: str | None = None
    ) -> None:
        """Rename a table (``ALTER TABLE ... RENAME TO``); its rows, indexes and
        constraints stay.  On PostgreSQL, sequences and index names keep their old names.
        """
        self._invoke(RenameTable(old_table_name, new_table_name, schema))

    def create_table_comment(
        self,
        table_name: str,
        comment: str,
        *,
        existing_comment: str | None = None,
        schema: str | None = None,
    ) -> None:
        """Set the table's comment (``existing_comment`` lets the downgrade put the
        old one back).  SQLite keeps no comments: nothing is run there.
        """
        self._invoke(CreateTableComment(table_name, comment, existing_comment, schema))

    def drop_table_comment(
        self,
        table_name: str,
        *,
        existing_comment: str | None = None,
        schema: str | None = None,
    ) -> None:
        """Remove the table's comment (``existing_comment`` lets the downgrade put it back)."""
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
        """Add a column: ``op.add_column("users", sa.Column("phone", sa.String(30)))``.

        A NOT NULL column needs a ``server_default`` on a table with rows.  Its
        ``index=True``/``unique=True`` and a ``ForeignKey`` are created too, named by
        the naming convention.  On SQLite, a column SQLite's ``ADD COLUMN`` cannot take
        (a CHECK of its type, a UNIQUE) makes Distill rebuild the table.
        """
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
        """Drop a column, and the indexes and constraints on it.  Destructive: its
        values are gone.  On SQLite the table is rebuilt where ``DROP COLUMN`` cannot
        run (the column is indexed, in a constraint, or used by a view).
        """
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
        """Change a column: ``nullable``, ``type_``, ``server_default``, ``comment``,
        ``new_column_name``.

        Pass the ``existing_*`` arguments: MariaDB/MySQL's ``MODIFY`` restates the whole
        column, and what is not stated is lost (in an Alembic project Distill writes
        what Alembic writes and warns).  ``postgresql_using="col::integer"`` converts the
        values on PostgreSQL.  On SQLite, anything but a rename rebuilds the table
        (its rows, indexes, triggers, views and AUTOINCREMENT counter kept).
        """
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
        """Create an index on ``columns`` (names, or SQL expressions as ``sa.text``).

        ``index_name=None`` takes the naming convention's name.  Dialect options:
        ``postgresql_where=...``, ``postgresql_concurrently=True`` (run it in
        ``op.autocommit_block()``), ``mysql_length={...}``.
        """
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
        """Drop an index (``table_name`` is needed on MariaDB/MySQL;
        ``if_exists=True``: no error when it is missing).
        """
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
        """Add a UNIQUE constraint on ``columns``; fails where existing rows repeat.
        ``constraint_name=None`` takes the naming convention's name.  On SQLite the
        table is rebuilt.
        """
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
        """Add a foreign key from ``source_table(local_cols)`` to
        ``referent_table(remote_cols)``, with ``ondelete``/``onupdate`` actions.

        Fails where existing rows point at nothing.  On SQLite the table is rebuilt;
        on PostgreSQL it takes a lock on both tables while the rows are checked.
        """
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
        """Add a CHECK constraint (``condition``: SQL text or a SQLAlchemy expression);
        fails where existing rows break it.  On SQLite the table is rebuilt.
        """
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
        """Add a primary key on ``columns`` (a table with one must drop it first,
        except in a batch, where it is replaced).  On SQLite the table is rebuilt.
        """
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
        """Drop a constraint by name; ``type_`` is ``"foreignkey"``, ``"unique"``,
        ``"check"`` or ``"primary"`` (MariaDB/MySQL need it to choose the statement).
        On SQLite the table is rebuilt.
        """
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
        """Create a PostgreSQL enum type (``CREATE TYPE ... AS ENUM``); nothing is run
        on other databases, whose enums live in the column.  Distill only: Alembic has
        no such op.
        """
        self._invoke(CreateEnumType(name, list(values), schema))

    def drop_enum_type(
        self, name: str, *, schema: str | None = None, values: Sequence[str] | None = None
    ) -> None:
        """Drop a PostgreSQL enum type (``values`` lets the downgrade create it again);
        nothing elsewhere.  Distill only.
        """
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
        """Add a value to a PostgreSQL enum type (``ALTER TYPE ... ADD VALUE``,
        ``before``/``after`` an existing value); nothing elsewhere.  PostgreSQL before
        12 cannot run it in a transaction: use ``op.autocommit_block()``.  Distill only.
        """
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
        """Replace a PostgreSQL enum type by one with ``values`` (how a value is
        removed or renamed), converting the ``columns`` ((table, column) pairs) that
        use it; a row holding a removed value makes it fail.  Distill only.
        """
        pairs = [(str(table), str(column)) for table, column in columns]
        old = None if existing_values is None else list(existing_values)
        self._invoke(RecreateEnumType(name, list(values), pairs, schema, old))

    # -- data ----------------------------------------------------------------

    def execute(
        self, sqltext: str | Executable, *, execution_options: Mapping[str, Any] | None = None
    ) -> Any:
        """Run SQL: a string, ``sa.text(...)`` or a SQLAlchemy statement
        (``sa.update(table)...``).  With ``--sql`` it is written out instead of run.
        Returns the result online.  Distill cannot reverse it: give the downgrade its own.
        """
        return self._invoke(Execute(sqltext, execution_options))

    def bulk_insert(
        self,
        table: sa.TableClause,
        rows: Sequence[Mapping[str, Any]],
        *,
        multiinsert: bool = True,
    ) -> None:
        """Insert ``rows`` (dicts by column name) into ``table``, an ``sa.table(...)``
        naming the columns.  With ``--sql`` the rows are written as INSERT statements.
        """
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
        """Group one table's changes: ``with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(...)``.

        On SQLite the changes are applied by one table rebuild (create, copy, drop,
        rename), keeping the rows, indexes, triggers, views and AUTOINCREMENT counter;
        ``recreate="always"`` forces it, ``"never"`` forbids it.  Elsewhere each change
        is an ALTER.  ``naming_convention`` names the reflected unnamed constraints so
        they can be dropped by name; ``copy_from`` gives the table instead of reading it
        (required with ``--sql``).
        """

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
        """Run the block outside the revision's transaction: for statements a
        transaction refuses (``CREATE INDEX CONCURRENTLY``, ``ALTER TYPE ... ADD VALUE``
        on old PostgreSQL).  What it runs is not rolled back if the revision fails.
        """
        with self.context.autocommit_block():
            yield

    # -- helpers that run nothing ----------------------------------------------

    def get_bind(self) -> Connection:
        """The connection the migration runs on, to read data
        (``op.get_bind().execute(sa.text("SELECT ..."))``).  With ``--sql`` there is none.
        """
        return self.context.connection

    def get_context(self) -> OpContext:
        """The migration's context: ``dialect``, ``bind``, ``as_sql``, ``opts``,
        ``version_table``, ``get_current_revision()`` and more, as Alembic's
        ``MigrationContext`` offers them.
        """
        return self.context

    @staticmethod
    def inline_literal(value: Any, type_: Any = None) -> sa.BindParameter[Any]:
        """A value written into the SQL itself, in online and --sql mode alike."""
        return sa.bindparam(None, value, type_=type_, literal_execute=True)

    @staticmethod
    def f(name: str) -> conv:
        """Mark a constraint name as final, exempt from the naming convention."""
        return conv(name)


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
