"""Column operations: add, drop, alter."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.sql.elements import conv

from distill.ddl import mysql, postgresql, sqlite
from distill.ddl.alteration import ColumnAlteration
from distill.ddl.common import alter_table, column_spec, ensure_referents_of, quote
from distill.ddl.context import NamingConvention, OpContext
from distill.errors import OperationError
from distill.ops import render as r
from distill.ops.base import Op, TableChange
from distill.ops.constraint import DropConstraint
from distill.ops.naming import metadata_for
from distill.ops.table_model import ConstraintModel, TableModel, copy_column
from distill.ops.type_checks import (
    TypeCheck,
    drop_names,
    type_checks,
    without_own_check,
)
from distill.schema.ddl_facts import constraint_name, ddl_compiler, is_created, sql_text

SQLITE = sqlite_dialect.dialect()

NOT_GIVEN: Any = False  # Alembic's sentinel for "not given" where None means "none"


def _if_kw(name: str, value: bool | None) -> list[tuple[str, str]]:
    return [(name, r.literal(value))] if value is not None else []


@dataclass(eq=False)
class AddColumn(TableChange):
    op_name = "add_column"
    table_name: str
    column: sa.Column[Any]
    schema: str | None = None
    if_not_exists: bool | None = None
    insert_before: str | None = None  # batch only: position in a rebuilt table
    insert_after: str | None = None
    naming_convention: NamingConvention | None = field(default=None, repr=False)

    def describe(self) -> str:
        return f"op.add_column({self.table_name!r}, {self.column.name!r})"

    def needs_rebuild(self, ctx: OpContext) -> bool:
        return sqlite.add_column_needs_rebuild(self.column)

    def execute(self, ctx: OpContext) -> Any:
        if self.if_not_exists and ctx.dialect_name == "sqlite":
            conn = ctx.readable(
                f"{self.describe()}: SQLite has no ADD COLUMN IF NOT EXISTS", "drop if_not_exists"
            )
            names = sqlite.column_names(conn, self.table_name, self.schema)
            if self.column.name in names:
                return None
        return super().execute(ctx)

    def change_model(self, model: TableModel) -> None:
        if self.if_not_exists and model.has_column(self.column.name):
            return
        model.add_column(self.column, self.insert_before, self.insert_after)
        # The column's CHECKs (its type's, its own) are stated on the rebuilt
        # table by the names the real table gives them, not the temporary one.
        added = model.column(self.column.name).column
        added.type = without_own_check(added.type)
        model.constraints += [
            ConstraintModel("check", check.name, sqltext=check.sqltext)
            for check in self.checks(SQLITE)
        ]

    def checks(self, dialect: sa.engine.Dialect) -> list[TypeCheck]:
        """The CHECKs the added column has on ``dialect``: its type's and its own."""
        column = self.column._copy()
        metadata = metadata_for(self.naming_convention)
        table = sa.Table(self.table_name, metadata, column, schema=self.schema)
        compiler = ddl_compiler(dialect)
        return [
            TypeCheck(constraint_name(con, dialect), sql_text(con.sqltext, compiler), con)
            for con in (*table.constraints, *column.constraints)
            if isinstance(con, sa.CheckConstraint) and is_created(con, compiler)
        ]

    def execute_native(self, ctx: OpContext) -> None:
        d = ctx.dialect
        column = self.column._copy()
        table = sa.Table(
            self.table_name, metadata_for(self.naming_convention), column, schema=self.schema
        )
        # SQLite has no IF NOT EXISTS here; execute() looked the column up instead.
        exists = " IF NOT EXISTS" if self.if_not_exists and ctx.dialect_name != "sqlite" else ""
        ctx.execute(
            alter_table(
                d, self.table_name, self.schema, f"ADD COLUMN{exists} {column_spec(d, column)}"
            )
        )
        if ctx.dialect_name == "sqlite":
            # ADD COLUMN took what SQLite allows; an index is a statement of its own.
            for index in table.indexes:
                ctx.execute(sa.schema.CreateIndex(index))
            return
        ensure_referents_of(table)
        if column.primary_key:
            ctx.execute(sa.schema.AddConstraint(sa.PrimaryKeyConstraint(column)))
        for con in table.constraints:
            if isinstance(con, (sa.ForeignKeyConstraint, sa.UniqueConstraint)):
                ctx.execute(sa.schema.AddConstraint(con))
        if column.unique and not any(isinstance(c, sa.UniqueConstraint) for c in table.constraints):
            ctx.execute(sa.schema.AddConstraint(sa.UniqueConstraint(column)))
        for check in self.checks(ctx.dialect):
            ctx.execute(sa.schema.AddConstraint(check.constraint))
        if column.comment is not None and ctx.dialect_name == "postgresql":
            ctx.execute(sa.schema.SetColumnComment(column))
        for index in table.indexes:
            ctx.execute(sa.schema.CreateIndex(index))

    def reverse(self) -> Op:
        return DropColumn(
            self.table_name, self.column.name, self.schema, column=copy_column(self.column)
        )

    def render(self, imports: set[str]) -> str:
        args = [r.literal(self.table_name), r.column(self.column, imports)]
        kwargs = r.schema_kwarg(self.schema) + _if_kw("if_not_exists", self.if_not_exists)
        kwargs += [
            (k, r.literal(v))
            for k, v in (("insert_before", self.insert_before), ("insert_after", self.insert_after))
            if v
        ]
        return r.call("op.add_column", args, kwargs)


@dataclass(eq=False)
class DropColumn(TableChange):
    op_name = "drop_column"
    table_name: str
    column_name: str
    schema: str | None = None
    if_exists: bool | None = None
    column: sa.Column[Any] | None = None  # the definition, when known, for reverse()
    kw: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return f"op.drop_column({self.table_name!r}, {self.column_name!r})"

    def needs_rebuild(self, ctx: OpContext) -> bool:
        # SQLite's own DROP COLUMN refuses indexed/constrained columns; a
        # rebuild is always safe.
        return True

    def execute(self, ctx: OpContext) -> Any:
        if self.if_exists and ctx.dialect_name == "sqlite":
            conn = ctx.readable(
                f"{self.describe()}: SQLite has no DROP COLUMN IF EXISTS", "drop if_exists"
            )
            names = sqlite.column_names(conn, self.table_name, self.schema)
            if self.column_name not in names:
                return None
        return super().execute(ctx)

    def change_model(self, model: TableModel) -> None:
        if self.if_exists and not model.has_column(self.column_name):
            return
        model.drop_column(self.column_name)

    def execute_native(self, ctx: OpContext) -> None:
        exists = " IF EXISTS" if self.if_exists else ""
        col = quote(ctx.dialect, self.column_name)
        ctx.execute(
            alter_table(ctx.dialect, self.table_name, self.schema, f"DROP COLUMN{exists} {col}")
        )

    def reverse(self) -> Op:
        if self.column is None:
            raise OperationError(
                f"{self.describe()} cannot be reversed without the column definition; "
                "write the op.add_column() of the downgrade by hand"
            )
        return AddColumn(self.table_name, copy_column(self.column), self.schema)

    def render(self, imports: set[str]) -> str:
        args = [r.literal(self.table_name), r.literal(self.column_name)]
        kwargs = r.schema_kwarg(self.schema) + _if_kw("if_exists", self.if_exists)
        kwargs += [(k, r.literal(v)) for k, v in sorted(self.kw.items())]
        return r.call("op.drop_column", args, kwargs)


@dataclass(eq=False)
class AlterColumn(TableChange):
    op_name = "alter_column"
    table_name: str
    column_name: str
    nullable: bool | None = None
    comment: Any = NOT_GIVEN
    server_default: Any = NOT_GIVEN
    new_column_name: str | None = None
    type_: Any = None
    existing_type: Any = None
    existing_server_default: Any = NOT_GIVEN
    existing_nullable: bool | None = None
    existing_comment: str | None = None
    schema: str | None = None
    postgresql_using: str | None = None
    kw: dict[str, Any] = field(default_factory=dict)
    naming_convention: NamingConvention | None = field(default=None, repr=False)

    def describe(self) -> str:
        return f"op.alter_column({self.table_name!r}, {self.column_name!r})"

    def alteration(self) -> ColumnAlteration:
        """The values the dialect's ALTER is written from."""
        return ColumnAlteration(
            self.table_name, self.column_name, self.schema, self.type_, self.nullable,
            self.server_default, self.comment, self.new_column_name, self.existing_type,
            self.existing_nullable, self.existing_server_default, self.existing_comment,
            bool(self.kw.get("existing_autoincrement", False)), self.postgresql_using,
        )  # fmt: skip

    def needs_rebuild(self, ctx: OpContext) -> bool:
        return (
            self.type_ is not None
            or self.nullable is not None
            or self.server_default is not NOT_GIVEN
        )

    def type_checks(self, dialect: sa.engine.Dialect) -> tuple[list[TypeCheck], list[TypeCheck]]:
        """The CHECKs of the old type and of the new one, when the type changes."""
        if self.type_ is None:
            return [], []
        old = type_checks(
            self.table_name, self.schema, self.column_name, self.existing_type, dialect,
            self.naming_convention,
        )  # fmt: skip
        new = type_checks(
            self.table_name, self.schema, self.new_column_name or self.column_name, self.type_,
            dialect, self.naming_convention,
        )  # fmt: skip
        return old, new

    def change_model(self, model: TableModel) -> None:
        column = model.column(self.column_name).column
        if self.type_ is not None:
            old, new = self.type_checks(SQLITE)
            model.constraints = [c for c in model.constraints if not _is_one_of(c, old)]
            # The new type's CHECK is stated by the name the real table gives it.
            column.type = without_own_check(sa.types.to_instance(self.type_))
            model.constraints += [
                ConstraintModel("check", check.name, sqltext=check.sqltext) for check in new
            ]
        if self.nullable is not None:
            column.nullable = self.nullable
        if self.server_default is not NOT_GIVEN:
            column.server_default = self.server_default
        if self.comment is not NOT_GIVEN:
            column.comment = self.comment
        if self.new_column_name is not None:
            model.rename_column(self.column_name, self.new_column_name)

    def execute_native(self, ctx: OpContext) -> None:
        old, new = self.type_checks(ctx.dialect)
        if [(c.name, c.sqltext) for c in old] == [(c.name, c.sqltext) for c in new]:
            old, new = [], []  # the same CHECK either way: nothing to redo
        for name in drop_names(old):
            # Dropped first: the old CHECK would refuse the new type's values.
            drop = DropConstraint(conv(name), self.table_name, "check", self.schema)
            drop.execute_native(ctx)
        self._alter(ctx)
        for check in new:
            ctx.execute(sa.schema.AddConstraint(check.constraint))

    def _alter(self, ctx: OpContext) -> None:
        if ctx.dialect_name == "postgresql":
            statements = postgresql.alter_column(ctx, self.alteration())
        elif ctx.dialect_name == "mysql":
            statements = mysql.alter_column(ctx, self.alteration())
        else:  # SQLite: a rename alone (the rest needs a rebuild, comments are not kept)
            statements = []
            if self.new_column_name is not None:
                new = quote(ctx.dialect, self.new_column_name)
                old = quote(ctx.dialect, self.column_name)
                statements.append(
                    alter_table(
                        ctx.dialect, self.table_name, self.schema, f"RENAME COLUMN {old} TO {new}"
                    )
                )
        for statement in statements:
            ctx.execute(statement)

    def reverse(self) -> Op:
        def need(given: bool, known: bool, arg: str) -> None:
            if given and not known:
                raise OperationError(f"{self.describe()} cannot be reversed: pass {arg}")

        need(self.type_ is not None, self.existing_type is not None, "existing_type")
        need(self.nullable is not None, self.existing_nullable is not None, "existing_nullable")
        need(
            self.server_default is not NOT_GIVEN,
            self.existing_server_default is not NOT_GIVEN,
            "existing_server_default",
        )
        return AlterColumn(
            self.table_name,
            self.new_column_name or self.column_name,
            nullable=self.existing_nullable if self.nullable is not None else None,
            comment=self.existing_comment if self.comment is not NOT_GIVEN else NOT_GIVEN,
            server_default=(
                self.existing_server_default if self.server_default is not NOT_GIVEN else NOT_GIVEN
            ),
            new_column_name=self.column_name if self.new_column_name else None,
            type_=self.existing_type if self.type_ is not None else None,
            existing_type=self.type_ if self.type_ is not None else self.existing_type,
            existing_server_default=(
                self.server_default
                if self.server_default is not NOT_GIVEN
                else self.existing_server_default
            ),
            existing_nullable=self.nullable
            if self.nullable is not None
            else self.existing_nullable,
            existing_comment=self.comment
            if self.comment is not NOT_GIVEN
            else self.existing_comment,
            schema=self.schema,
            postgresql_using=self._reverse_using(),
        )

    def _reverse_using(self) -> str | None:
        # A type change PostgreSQL needed USING for needs one back as well;
        # the cast to the old type is the inverse of any cast to the new one.
        if self.postgresql_using is None or self.type_ is None or self.existing_type is None:
            return None
        from sqlalchemy.dialects.postgresql import dialect as pg_dialect

        pg = pg_dialect()  # type: ignore[no-untyped-call]
        old_type = sa.types.to_instance(self.existing_type).compile(dialect=pg)
        return f"{quote(pg, self.new_column_name or self.column_name)}::{old_type}"

    def render(self, imports: set[str]) -> str:
        kwargs: list[tuple[str, str]] = []
        if self.nullable is not None:
            kwargs.append(("nullable", r.literal(self.nullable)))
        if self.comment is not NOT_GIVEN:
            kwargs.append(("comment", r.literal(self.comment)))
        if self.server_default is not NOT_GIVEN:
            kwargs.append(("server_default", r.server_default(self.server_default, imports)))
        if self.new_column_name is not None:
            kwargs.append(("new_column_name", r.literal(self.new_column_name)))
        if self.type_ is not None:
            kwargs.append(("type_", r.type_(self.type_, imports)))
        if self.existing_type is not None:
            kwargs.append(("existing_type", r.type_(self.existing_type, imports)))
        if self.existing_server_default is not NOT_GIVEN:
            kwargs.append(
                ("existing_server_default", r.server_default(self.existing_server_default, imports))
            )
        if self.existing_nullable is not None:
            kwargs.append(("existing_nullable", r.literal(self.existing_nullable)))
        if self.existing_comment is not None:
            kwargs.append(("existing_comment", r.literal(self.existing_comment)))
        kwargs += r.schema_kwarg(self.schema)
        if self.postgresql_using is not None:
            kwargs.append(("postgresql_using", r.literal(self.postgresql_using)))
        kwargs += [(k, r.literal(v)) for k, v in sorted(self.kw.items())]
        args = [r.literal(self.table_name), r.literal(self.column_name)]
        return r.call("op.alter_column", args, kwargs)


def restated_as_alembic(op: AlterColumn) -> AlterColumn:
    """``op`` as Alembic runs it on MySQL/MariaDB: a MODIFY restates only what the
    script states, so an unstated nullability becomes NULL and an unstated default
    or comment is dropped (see ``ddl/mysql.py``); a rename is a CHANGE COLUMN that
    restates it the same way.  A default alone is no MODIFY and keeps the rest."""
    if (
        op.type_ is None
        and op.nullable is None
        and op.comment is NOT_GIVEN
        and op.new_column_name is None
    ):
        return op
    return replace(
        op,
        nullable=op.nullable if op.nullable is not None else op.existing_nullable is not False,
        server_default=(
            op.server_default
            if op.server_default is not NOT_GIVEN
            else (None if op.existing_server_default is NOT_GIVEN else op.existing_server_default)
        ),
        comment=op.comment if op.comment is not NOT_GIVEN else op.existing_comment,
    )


def _is_one_of(con: ConstraintModel, checks: list[TypeCheck]) -> bool:
    """Whether ``con`` of a reflected table is one of a type's ``checks``: by name,
    or by its text when the CHECK has no name."""
    if con.kind != "check":
        return False
    for check in checks:
        if con.name is not None and con.name == check.name:
            return True
        if con.name is None and check.name is None and con.sqltext == check.sqltext:
            return True
    return False
