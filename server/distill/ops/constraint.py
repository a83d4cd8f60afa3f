"""Constraint operations: unique, foreign key, check, primary key, and dropping any of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from distill.ddl import mysql
from distill.ddl.common import ensure_referent, stub_table
from distill.ddl.context import NamingConvention, OpContext
from distill.errors import OperationError
from distill.ops import render as r
from distill.ops.base import Op, TableChange
from distill.ops.naming import created_name, dropped_constraint_name, metadata_for
from distill.ops.table_model import ConstraintModel, TableModel

KINDS = ("foreignkey", "unique", "check", "primary")


class CreateConstraint(TableChange):
    """Adding a constraint: ALTER TABLE ADD CONSTRAINT, or a rebuild on SQLite."""

    name: str | None
    kind: str
    naming_convention: NamingConvention | None

    def constraint(self) -> sa.Constraint:
        raise NotImplementedError

    def needs_rebuild(self, ctx: OpContext) -> bool:
        return True

    def execute_native(self, ctx: OpContext) -> None:
        ctx.execute(sa.schema.AddConstraint(self.constraint()))

    def reverse(self) -> Op:
        if self.name is None:
            raise OperationError(
                f"{self.describe()} cannot be reversed: the constraint has no name, so nothing "
                "could drop it; name it (name=... in the model, or a naming_convention on "
                "the models' MetaData)"
            )
        return DropConstraint(
            self.name, self.table_name, self.kind, self.schema, definition=self,
            naming_convention=self.naming_convention,
        )  # fmt: skip

    def describe(self) -> str:
        return f"op.{self.op_name}({self.name!r}, {self.table_name!r})"


@dataclass(eq=False)
class CreateUnique(CreateConstraint):
    op_name = "create_unique_constraint"
    kind = "unique"
    name: str | None
    table_name: str
    columns: Sequence[str]
    schema: str | None = None
    kw: dict[str, Any] = field(default_factory=dict)
    naming_convention: NamingConvention | None = field(default=None, repr=False)

    def constraint(self) -> sa.Constraint:
        con = sa.UniqueConstraint(*self.columns, name=self.name, **self.kw)
        metadata = metadata_for(self.naming_convention)
        stub_table(self.table_name, self.columns, self.schema, metadata).append_constraint(con)
        return con

    def change_model(self, model: TableModel) -> None:
        name = created_name(self.constraint())
        model.constraints.append(ConstraintModel("unique", name, list(self.columns)))

    def render(self, imports: set[str]) -> str:
        args = [r.literal(self.name), r.literal(self.table_name), r.literal(list(self.columns))]
        kwargs = r.schema_kwarg(self.schema) + r.dialect_kwargs_of(self.kw)
        return r.call("op.create_unique_constraint", args, kwargs)


@dataclass(eq=False)
class CreateForeignKey(CreateConstraint):
    op_name = "create_foreign_key"
    kind = "foreignkey"
    name: str | None
    table_name: str
    referent_table: str
    local_cols: Sequence[str]
    remote_cols: Sequence[str]
    onupdate: str | None = None
    ondelete: str | None = None
    deferrable: bool | None = None
    initially: str | None = None
    match: str | None = None
    schema: str | None = None
    referent_schema: str | None = None
    kw: dict[str, Any] = field(default_factory=dict)
    naming_convention: NamingConvention | None = field(default=None, repr=False)

    def _options(self) -> dict[str, Any]:
        options = {
            "onupdate": self.onupdate,
            "ondelete": self.ondelete,
            "deferrable": self.deferrable,
            "initially": self.initially,
            "match": self.match,
        }
        return {k: v for k, v in options.items() if v is not None}

    def constraint(self) -> sa.Constraint:
        metadata = metadata_for(self.naming_convention)
        ensure_referent(metadata, self.referent_table, self.referent_schema, self.remote_cols)
        prefix = (
            f"{self.referent_schema}.{self.referent_table}"
            if self.referent_schema
            else self.referent_table
        )
        con = sa.ForeignKeyConstraint(
            list(self.local_cols),
            [f"{prefix}.{c}" for c in self.remote_cols],
            name=self.name,
            **self._options(),
            **self.kw,
        )
        stub_table(self.table_name, self.local_cols, self.schema, metadata).append_constraint(con)
        return con

    def change_model(self, model: TableModel) -> None:
        options = self._options()
        options.pop("match", None)  # SQLite parses MATCH but ignores it
        model.constraints.append(
            ConstraintModel(
                "foreignkey",
                created_name(self.constraint()),
                list(self.local_cols),
                referent=(self.referent_schema, self.referent_table, list(self.remote_cols)),
                options=options,
            )
        )

    def render(self, imports: set[str]) -> str:
        args = [
            r.literal(self.name),
            r.literal(self.table_name),
            r.literal(self.referent_table),
            r.literal(list(self.local_cols)),
            r.literal(list(self.remote_cols)),
        ]
        kwargs = [(k, r.literal(v)) for k, v in self._options().items()]
        kwargs += r.schema_kwarg(self.schema, "source_schema")
        kwargs += r.schema_kwarg(self.referent_schema, "referent_schema")
        kwargs += r.dialect_kwargs_of(self.kw)
        return r.call("op.create_foreign_key", args, kwargs)


@dataclass(eq=False)
class CreateCheck(CreateConstraint):
    op_name = "create_check_constraint"
    kind = "check"
    name: str | None
    table_name: str
    condition: Any  # str, sa.text() or a SQL expression
    schema: str | None = None
    kw: dict[str, Any] = field(default_factory=dict)
    naming_convention: NamingConvention | None = field(default=None, repr=False)

    def constraint(self) -> sa.Constraint:
        con = sa.CheckConstraint(self.condition, name=self.name, **self.kw)
        metadata = metadata_for(self.naming_convention)
        stub_table(self.table_name, (), self.schema, metadata).append_constraint(con)
        return con

    def change_model(self, model: TableModel) -> None:
        sqltext = self.condition
        if not isinstance(sqltext, str):
            compiled = sqltext.compile(
                dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}
            )
            sqltext = str(compiled)
        name = created_name(self.constraint())
        model.constraints.append(ConstraintModel("check", name, sqltext=sqltext))

    def render(self, imports: set[str]) -> str:
        args = [
            r.literal(self.name),
            r.literal(self.table_name),
            r.sql_text(self.condition, imports),
        ]
        kwargs = r.schema_kwarg(self.schema) + r.dialect_kwargs_of(self.kw)
        return r.call("op.create_check_constraint", args, kwargs)


@dataclass(eq=False)
class CreatePrimaryKey(CreateConstraint):
    op_name = "create_primary_key"
    kind = "primary"
    name: str | None
    table_name: str
    columns: Sequence[str]
    schema: str | None = None
    naming_convention: NamingConvention | None = field(default=None, repr=False)

    def constraint(self) -> sa.Constraint:
        con = sa.PrimaryKeyConstraint(*self.columns, name=self.name)
        metadata = metadata_for(self.naming_convention)
        stub_table(self.table_name, self.columns, self.schema, metadata).append_constraint(con)
        return con

    def change_model(self, model: TableModel) -> None:
        # The rebuilt table gets this key in place of any it had, as in Alembic.
        for name in self.columns:
            model.column(name).column.nullable = False
        model.primary_key = (created_name(self.constraint()), list(self.columns))

    def render(self, imports: set[str]) -> str:
        args = [r.literal(self.name), r.literal(self.table_name), r.literal(list(self.columns))]
        return r.call("op.create_primary_key", args, r.schema_kwarg(self.schema))


@dataclass(eq=False)
class DropConstraint(TableChange):
    op_name = "drop_constraint"
    name: str
    table_name: str
    type_: str | None = None
    schema: str | None = None
    if_exists: bool | None = None
    definition: CreateConstraint | None = None  # what reverse() recreates, when known
    naming_convention: NamingConvention | None = field(default=None, repr=False)
    # The replay's say that MariaDB's index for a dropped foreign key stays, as under
    # Alembic (an Alembic project's run asks OpContext.as_alembic instead).
    key_index_stays: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self.type_ is not None and self.type_ not in KINDS:
            raise OperationError(
                f"{self.describe()}: type_={self.type_!r} is not one of {', '.join(KINDS)}"
            )

    def describe(self) -> str:
        return f"op.drop_constraint({self.name!r}, {self.table_name!r})"

    def needs_rebuild(self, ctx: OpContext) -> bool:
        return True

    def dropped_name(self) -> str:
        """The name dropped: the given one, rewritten by the naming convention."""
        return dropped_constraint_name(
            self.name, self.type_, self.table_name, self.naming_convention
        )

    def change_model(self, model: TableModel) -> None:
        try:
            model.drop_constraint(self.dropped_name(), self.type_)
        except OperationError:
            if not self.if_exists:
                raise

    def execute_native(self, ctx: OpContext) -> None:
        kind = self.type_
        name = self.dropped_name()
        if ctx.dialect_name == "mysql":
            if kind is None:
                if ctx.is_offline:
                    raise OperationError(
                        f"{self.describe()}: MySQL/MariaDB drop each kind of constraint "
                        "differently and with --sql it cannot be looked up; pass type_="
                    )
                kind = mysql.constraint_type(ctx.connection, self.table_name, name, self.schema)
            # Alembic leaves the key's index behind; an Alembic project gets its schema.
            implicit = (
                kind == "foreignkey" and not ctx.as_alembic and _implicit_fk_index(ctx, self, name)
            )
            ctx.execute(
                mysql.drop_constraint(
                    ctx, self.table_name, name, kind, self.schema, bool(self.if_exists)
                )
            )
            if implicit:
                ctx.execute(sa.schema.DropIndex(sa.Index(name, _stub_column(self))))
            return
        con = sa.UniqueConstraint(name=sa.sql.elements.conv(name))
        stub_table(self.table_name, (), self.schema).append_constraint(con)
        ctx.execute(sa.schema.DropConstraint(con, if_exists=bool(self.if_exists)))

    def reverse(self) -> Op:
        if self.definition is None:
            raise OperationError(
                f"{self.describe()} cannot be reversed without the constraint definition; "
                "write the op.create_...() of the downgrade by hand"
            )
        return self.definition

    def render(self, imports: set[str]) -> str:
        args = [r.literal(self.name), r.literal(self.table_name)]
        kwargs = [("type_", r.literal(self.type_))] if self.type_ else []
        kwargs += r.schema_kwarg(self.schema)
        if self.if_exists is not None:
            kwargs.append(("if_exists", r.literal(self.if_exists)))
        return r.call("op.drop_constraint", args, kwargs)


_FK_INDEX = sa.text(
    "SELECT s.COLUMN_NAME, k.COLUMN_NAME FROM information_schema.STATISTICS s "
    "LEFT JOIN information_schema.KEY_COLUMN_USAGE k ON k.TABLE_SCHEMA = s.TABLE_SCHEMA "
    " AND k.TABLE_NAME = s.TABLE_NAME AND k.CONSTRAINT_NAME = s.INDEX_NAME "
    " AND k.ORDINAL_POSITION = s.SEQ_IN_INDEX AND k.REFERENCED_TABLE_NAME IS NOT NULL "
    "WHERE s.TABLE_SCHEMA = COALESCE(:schema, DATABASE()) AND s.TABLE_NAME = :table "
    " AND s.INDEX_NAME = :name ORDER BY s.SEQ_IN_INDEX"
)


def _implicit_fk_index(ctx: OpContext, drop: DropConstraint, name: str) -> bool:
    """Whether MariaDB/MySQL made an index for this foreign key when it was added.

    They add one, named after the constraint, when no index starts with the
    key's columns, and keep it when the key is dropped.  Left behind, it is an
    index no model and no revision has; reflection counts an index with the
    key's name and columns as the key's own, so that is the one dropped with
    it (in a Distill project: an Alembic project keeps it, as Alembic does).
    Offline there is no catalog to ask and the index stays.
    """
    if ctx.is_offline:
        return False
    rows = ctx.connection.execute(
        _FK_INDEX, {"schema": drop.schema, "table": drop.table_name, "name": name}
    ).all()
    return bool(rows) and all(index_column == fk_column for index_column, fk_column in rows)


def _stub_column(drop: DropConstraint) -> sa.Column[object]:
    # DropIndex on MySQL needs the index's table; one column is enough for that.
    table = stub_table(drop.table_name, ("_",), drop.schema)
    column: sa.Column[object] = table.c["_"]
    return column
