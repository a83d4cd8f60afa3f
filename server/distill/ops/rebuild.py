"""SQLite table rebuild: the ALTERs SQLite lacks, done the way SQLite documents.

SQLite can add, rename and drop simple columns, nothing more.  Any other change
is made by describing the table (``TableModel``), applying the changes to the
description, and then, inside the current transaction::

    CREATE TABLE _distill_tmp_<name> (... the new definition ...)
    INSERT INTO _distill_tmp_<name> (...) SELECT ... FROM <name>
    DROP TABLE <name>
    ALTER TABLE _distill_tmp_<name> RENAME TO <name>
    CREATE INDEX ... (each index again, under its own name)
    PRAGMA foreign_key_check

Foreign keys of other tables keep pointing at ``<name>`` because SQLite stores
them by name.  The runtime keeps ``PRAGMA foreign_keys`` off during a migration
(it cannot change inside a transaction), so the closing ``foreign_key_check``
is what stops a rebuild from leaving dangling references.

The table keeps its AUTOINCREMENT and counter, and the views and triggers that
use it are dropped before and created again after (see ``rebuild_keep``).
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import exc

from distill.ddl.common import ensure_referent, quote, raw, table_sql
from distill.ddl.sqlite import foreign_key_problems, index_sql_of, table_sql_of
from distill.errors import OperationError
from distill.ops.rebuild_keep import (
    Dependent,
    check_views_work,
    create_statements,
    dependents_of,
    drop_statements,
    log_kept,
    refuse_broken,
    sequence_statements,
)
from distill.schema.sqlite_ddl import parse_create_table

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from distill.ops.base import TableChange
    from distill.ops.context import OpContext

TMP_PREFIX = "_distill_tmp_"


@dataclass
class ColumnModel:
    column: sa.Column[Any]  # detached; its name is the name after the rebuild
    source: str | None  # the column it is copied from; None for a new column


@dataclass
class ConstraintModel:
    kind: str  # "unique" | "check" | "foreignkey"
    name: str | None
    columns: list[str] = field(default_factory=list)
    sqltext: str | None = None
    referent: tuple[str | None, str, list[str]] | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class IndexModel:
    name: str
    columns: list[str]
    unique: bool = False
    sql: str | None = None  # verbatim CREATE INDEX for what SQLAlchemy cannot rebuild
    kwargs: dict[str, Any] = field(default_factory=dict)
    expressions: list[Any] = field(default_factory=list)


@dataclass
class TableModel:
    name: str
    schema: str | None
    columns: list[ColumnModel]
    primary_key: tuple[str | None, list[str]] | None = None
    constraints: list[ConstraintModel] = field(default_factory=list)
    indexes: list[IndexModel] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)  # Table(**kwargs): sqlite_autoincrement

    def column(self, name: str) -> ColumnModel:
        for item in self.columns:
            if item.column.name == name:
                return item
        raise OperationError(f"table {self.name!r} has no column {name!r}; check the name")

    def has_column(self, name: str) -> bool:
        return any(item.column.name == name for item in self.columns)

    def add_column(
        self, column: sa.Column[Any], before: str | None = None, after: str | None = None
    ) -> None:
        if self.has_column(column.name):
            raise OperationError(f"table {self.name!r} already has a column {column.name!r}")
        position = len(self.columns)
        if before is not None:
            position = self.columns.index(self.column(before))
        elif after is not None:
            position = self.columns.index(self.column(after)) + 1
        self.columns.insert(position, ColumnModel(copy_column(column), None))
        if column.primary_key:
            pk_name, pk_cols = self.primary_key or (None, [])
            self.primary_key = (pk_name, [*pk_cols, column.name])
        if column.unique:
            self.constraints.append(ConstraintModel("unique", None, [column.name]))
        for fk in column.foreign_keys:
            self.constraints.append(fk_model(_name(fk.name), [column.name], fk))
        if column.index:
            self.indexes.append(IndexModel(f"ix_{self.name}_{column.name}", [column.name]))

    def drop_column(self, name: str) -> None:
        self.columns.remove(self.column(name))
        if self.primary_key and name in self.primary_key[1]:
            remaining = [c for c in self.primary_key[1] if c != name]
            self.primary_key = (self.primary_key[0], remaining) if remaining else None
        self.constraints = [c for c in self.constraints if not _uses(c, name)]
        self.indexes = [i for i in self.indexes if name not in i.columns]

    def rename_column(self, old: str, new: str) -> None:
        if self.has_column(new):
            raise OperationError(f"table {self.name!r} already has a column {new!r}")
        self.column(old).column.name = new
        self.column(new).column.key = new
        if self.primary_key:
            self.primary_key = (self.primary_key[0], _renamed(self.primary_key[1], old, new))
        for con in self.constraints:
            con.columns = _renamed(con.columns, old, new)
            if con.sqltext is not None:
                # CHECK text names columns; without this the new table would not create.
                con.sqltext = _rename_word(con.sqltext, old, new)
        for index in self.indexes:
            index.columns = _renamed(index.columns, old, new)
            if index.sql is not None:
                index.sql = _rename_word(index.sql, old, new)

    def drop_constraint(self, name: str, kind: str | None) -> None:
        if kind in (None, "primary") and self.primary_key and self.primary_key[0] == name:
            self.primary_key = None
            return
        if kind == "primary" and self.primary_key:
            self.primary_key = None
            return
        for con in self.constraints:
            if con.name == name and kind in (None, con.kind):
                self.constraints.remove(con)
                return
        raise OperationError(
            f"table {self.name!r} has no {kind or ''} constraint named {name!r}".replace("  ", " ")
            + "; check the name (SQLite cannot drop an unnamed constraint by name)"
        )

    def drop_index(self, name: str) -> None:
        for index in self.indexes:
            if index.name == name:
                self.indexes.remove(index)
                return
        raise OperationError(f"table {self.name!r} has no index named {name!r}; check the name")

    def to_table(self, metadata: sa.MetaData, name: str) -> sa.Table:
        items: list[Any] = [copy_column(c.column) for c in self.columns]
        if self.primary_key:
            items.append(sa.PrimaryKeyConstraint(*self.primary_key[1], name=self.primary_key[0]))
        for con in self.constraints:
            items.append(_constraint(con, metadata))
        return sa.Table(
            name, metadata, *items, schema=self.schema, extend_existing=True, **self.kwargs
        )

    def index_objects(self, table: sa.Table) -> list[sa.Index]:
        out = []
        for index in self.indexes:
            if index.sql is None:
                elements = [*(table.c[c] for c in index.columns), *index.expressions]
                out.append(sa.Index(index.name, *elements, unique=index.unique, **index.kwargs))
        return out


def _name(name: object) -> str | None:
    return name if isinstance(name, str) else None


def _uses(con: ConstraintModel, column: str) -> bool:
    if column in con.columns:
        return True
    return con.sqltext is not None and _rename_word(con.sqltext, column, "\0") != con.sqltext


def _renamed(names: list[str], old: str, new: str) -> list[str]:
    return [new if n == old else n for n in names]


def _rename_word(text: str, old: str, new: str) -> str:
    pattern = rf'(?<![\w"`]){re.escape(old)}(?![\w"`])|"{re.escape(old)}"|`{re.escape(old)}`'
    return re.sub(pattern, new.replace("\\", "\\\\"), text)


def copy_column(column: sa.Column[Any]) -> sa.Column[Any]:
    return sa.Column(
        column.name,
        column.type,
        nullable=column.nullable,
        server_default=default_arg(column.server_default),
        comment=column.comment,
        autoincrement=column.autoincrement,
    )


def default_arg(default: Any) -> Any:
    # A DefaultClause belongs to one Column; a new column gets its argument.
    if isinstance(default, sa.DefaultClause) and not default.for_update:
        return default.arg
    return default


def fk_model(name: str | None, columns: list[str], fk: sa.ForeignKey) -> ConstraintModel:
    elements = fk.constraint.elements if fk.constraint is not None else [fk]
    referent: list[str] = []
    schema, table = None, ""
    for element in elements:
        parts = element._get_colspec().split(".")
        schema, table = (".".join(parts[:-2]) or None), parts[-2]
        referent.append(parts[-1])
    options = {k: getattr(fk, k) for k in ("ondelete", "onupdate", "deferrable", "initially")}
    return ConstraintModel(
        "foreignkey",
        name,
        columns,
        referent=(schema, table, referent),
        options={k: v for k, v in options.items() if v is not None},
    )


def _constraint(con: ConstraintModel, metadata: sa.MetaData) -> sa.Constraint:
    if con.kind == "unique":
        return sa.UniqueConstraint(*con.columns, name=con.name)
    if con.kind == "check":
        return sa.CheckConstraint(sa.text(con.sqltext or ""), name=con.name)
    assert con.referent is not None
    schema, table, columns = con.referent
    ensure_referent(metadata, table, schema, columns)
    prefix = f"{schema}.{table}" if schema else table
    return sa.ForeignKeyConstraint(
        con.columns, [f"{prefix}.{c}" for c in columns], name=con.name, **con.options
    )


def model_from_table(table: sa.Table, index_sql: dict[str, str]) -> TableModel:
    """Describe ``table``; ``index_sql`` holds the CREATE INDEX text SQLite stored."""
    model = TableModel(
        table.name, table.schema, [ColumnModel(copy_column(c), c.name) for c in table.columns]
    )
    pk = table.primary_key
    if pk is not None and len(pk.columns):
        model.primary_key = (
            pk.name if isinstance(pk.name, str) else None,
            [c.name for c in pk.columns],
        )
    if table.dialect_options["sqlite"].get("autoincrement"):
        model.kwargs["sqlite_autoincrement"] = True
    model.constraints = constraint_models(table)
    reflected = {str(i.name): i for i in table.indexes if isinstance(i.name, str)}
    for name, sql in index_sql.items():
        index = reflected.get(name)
        columns = [c.name for c in index.columns] if index is not None else []
        if (
            index is not None
            and " where " not in sql.lower()
            and len(index.expressions) == len(columns)
        ):
            model.indexes.append(IndexModel(name, columns, bool(index.unique)))
        else:
            model.indexes.append(IndexModel(name, _columns_named_in(sql, table), sql=sql))
    if not index_sql:  # a copy_from Table: its Index objects are the truth
        model.indexes += [_index_model(index) for index in table.indexes]
    return model


def constraint_models(table: sa.Table) -> list[ConstraintModel]:
    """The unique, check and foreign key constraints of ``table``, described."""
    found: list[ConstraintModel] = []
    for con in table.constraints:
        name = con.name if isinstance(con.name, str) else None
        if isinstance(con, sa.UniqueConstraint):
            found.append(ConstraintModel("unique", name, [c.name for c in con.columns]))
        elif isinstance(con, sa.CheckConstraint):
            sqltext = str(con.sqltext.compile(compile_kwargs={"literal_binds": True}))
            found.append(ConstraintModel("check", name, sqltext=sqltext))
        elif isinstance(con, sa.ForeignKeyConstraint):
            found.append(fk_model(name, list(con.column_keys), con.elements[0]))
    return found


def _index_model(index: sa.Index) -> IndexModel:
    extra = [e for e in index.expressions if not isinstance(e, sa.Column)]
    columns = [c.name for c in index.columns]
    return IndexModel(
        str(index.name), columns, bool(index.unique), kwargs=dict(index.dialect_kwargs),
        expressions=extra,
    )  # fmt: skip


@dataclass(frozen=True)
class RebuildOptions:
    """``batch_alter_table``'s say in a rebuild, as Alembic's options mean it.

    ``reflect_args``/``reflect_kwargs`` go to the reflection of the old table
    (a Column there overrides the reflected one); ``table_args``/``table_kwargs``
    to the new table (extra constraints, indexes, ``sqlite_autoincrement``...);
    ``partial_reordering`` lists column orders the new table must follow.
    """

    reflect_args: Sequence[Any] = ()
    reflect_kwargs: Mapping[str, Any] | None = None
    table_args: Sequence[Any] = ()
    table_kwargs: Mapping[str, Any] | None = None
    partial_reordering: Sequence[Sequence[str]] | None = None

    def apply_to(self, model: TableModel) -> None:
        if self.table_args:
            # Built beside the model so the arguments' column names resolve.
            columns = [copy_column(c.column) for c in model.columns]
            scratch = sa.Table(model.name, sa.MetaData(), *columns, *self.table_args)
            model.constraints += constraint_models(scratch)
            model.indexes += [_index_model(index) for index in scratch.indexes]
            if len(scratch.primary_key.columns):
                pk = scratch.primary_key
                name = pk.name if isinstance(pk.name, str) else None
                model.primary_key = (name, [c.name for c in pk.columns])
        model.kwargs.update(self.table_kwargs or {})
        if self.partial_reordering:
            order = column_order([c.column.name for c in model.columns], self.partial_reordering)
            model.columns.sort(key=lambda c: order.index(c.column.name))


def column_order(names: list[str], orderings: Sequence[Sequence[str]]) -> list[str]:
    """``names`` reordered so each of ``orderings`` holds; otherwise as they were."""
    before: dict[str, set[str]] = {name: set() for name in names}
    for ordering in orderings:
        for name in ordering:
            if name not in before:
                raise OperationError(
                    f"partial_reordering names column {name!r}, which the table does not have "
                    f"(it has {', '.join(names)})"
                )
        for first, second in itertools.pairwise(ordering):
            before[second].add(first)
    # In rounds: every column whose predecessors are all placed goes next, in
    # the table's order (Alembic's result, checked in the tests).
    placed: list[str] = []
    remaining = list(names)
    while remaining:
        done = set(placed)
        ready = [n for n in remaining if before[n] <= done]
        if not ready:
            raise OperationError(
                f"partial_reordering {list(map(tuple, orderings))!r} contradicts itself: "
                f"no order puts {', '.join(remaining)} as it asks"
            )
        placed += ready
        remaining = [n for n in remaining if n not in ready]
    return placed


def _columns_named_in(sql: str, table: sa.Table) -> list[str]:
    on = sql.split("(", 1)[-1]
    return [c.name for c in table.columns if _rename_word(on, c.name, "\0") != on]


def reflect_model(
    conn: Connection,
    name: str,
    schema: str | None,
    options: RebuildOptions | None = None,
    missing: str = "check the name",
) -> TableModel:
    metadata = sa.MetaData()
    options = options or RebuildOptions()
    try:
        with warnings.catch_warnings():
            # Expression indexes are rebuilt from SQLite's own SQL instead.
            warnings.simplefilter("ignore", exc.SAWarning)
            table = sa.Table(
                name, metadata, *options.reflect_args, schema=schema, autoload_with=conn,
                **(options.reflect_kwargs or {}),
            )  # fmt: skip
    except exc.NoSuchTableError:
        raise OperationError(f"table {name!r} does not exist; {missing}") from None
    model = model_from_table(table, index_sql_of(conn, name, schema))
    # SQLAlchemy does not reflect AUTOINCREMENT; the CREATE TABLE text has it.
    if parse_create_table(table_sql_of(conn, name, schema)).autoincrement:
        model.kwargs["sqlite_autoincrement"] = True
    return model


def rebuild_table(
    ctx: OpContext,
    name: str,
    schema: str | None,
    changes: Sequence[TableChange],
    copy_from: sa.Table | None = None,
    naming_convention: dict[str, Any] | None = None,
    options: RebuildOptions | None = None,
) -> None:
    # Given copy_from or not, the table's views and triggers must outlive it; with
    # --sql and copy_from, none are read (the catalog may not know the table).
    if copy_from is not None:
        dependents = [] if ctx.is_offline else dependents_of(ctx.connection, name, schema)
        model = model_from_table(copy_from, {})
        model.name, model.schema = name, schema
    else:
        what = ", ".join(c.describe() for c in changes)
        # With --sql, the catalog the SQL written so far has built.
        copy_hint = (
            f"use `with op.batch_alter_table({name!r}, copy_from=sa.Table(...))` giving the "
            "table's current definition"
        )
        conn = ctx.readable(f"{what} needs SQLite to rebuild table {name!r}", copy_hint)
        dependents = dependents_of(conn, name, schema)
        missing = (
            f"with --sql Distill knows the tables the revisions create, and none creates it; "
            f"check the name, or {copy_hint}"
            if ctx.is_offline
            else "check the name"
        )
        model = reflect_model(conn, name, schema, options, missing)
    old_columns = [c.column.name for c in model.columns]
    if naming_convention:
        # Alembic's recipe for dropping an unnamed constraint on SQLite: the
        # batch's convention names it, and drop_constraint() finds that name.
        name_unnamed(model, naming_convention)
    for change in changes:
        change.change_model(model)
    if options is not None:
        options.apply_to(model)
    refuse_broken(dependents, name, vanished_columns(old_columns, model))
    if naming_convention:
        name_unnamed(model, naming_convention)  # what the changes added unnamed
    run_rebuild(ctx, model, dependents)


def vanished_columns(old_columns: list[str], model: TableModel) -> dict[str, str | None]:
    """Each old column the new table lacks, with its new name (None: removed)."""
    kept = {c.column.name for c in model.columns}
    renamed = {c.source: c.column.name for c in model.columns if c.source is not None}
    return {name: renamed.get(name) for name in old_columns if name not in kept}


def name_unnamed(model: TableModel, naming_convention: Mapping[str, Any]) -> None:
    """Give the model's unnamed primary key and constraints the convention's names.

    Named after the real table, on the model, so the temporary table's name
    never reaches a name and a name already given is never rewritten.
    """
    from distill.ops.naming import created_name, metadata_for

    def stub() -> sa.Table:
        columns = [copy_column(c.column) for c in model.columns]
        metadata = metadata_for(naming_convention)
        return sa.Table(model.name, metadata, *columns, schema=model.schema)

    if model.primary_key and model.primary_key[0] is None:
        key = sa.PrimaryKeyConstraint(*model.primary_key[1])
        stub().append_constraint(key)
        model.primary_key = (created_name(key), model.primary_key[1])
    for con in model.constraints:
        if con.name is None:
            table = stub()
            item = _constraint(con, table.metadata)
            table.append_constraint(item)
            con.name = created_name(item)


def run_rebuild(ctx: OpContext, model: TableModel, dependents: Sequence[Dependent] = ()) -> None:
    metadata = sa.MetaData()
    # The final table exists in the MetaData so self-referencing keys resolve.
    final = model.to_table(metadata, model.name)
    tmp_name = TMP_PREFIX + model.name
    new = model.to_table(metadata, tmp_name)
    dialect = ctx.dialect
    create = sa.schema.CreateTable(new)
    ctx.execute(create)
    copied = [c for c in model.columns if c.source is not None]
    if copied:
        targets = ", ".join(quote(dialect, c.column.name) for c in copied)
        sources = ", ".join(quote(dialect, c.source or "") for c in copied)
        ctx.execute(
            raw(
                f"INSERT INTO {table_sql(dialect, tmp_name, model.schema)} ({targets}) "
                f"SELECT {sources} FROM {table_sql(dialect, model.name, model.schema)}"
            )
        )
    if parse_create_table(str(create.compile(dialect=dialect))).autoincrement:
        for statement, names in sequence_statements(dialect, model.schema, model.name, tmp_name):
            ctx.execute(statement, names)
    for drop in drop_statements(dependents, dialect, model.schema):
        ctx.execute(raw(drop))
    ctx.execute(raw(f"DROP TABLE {table_sql(dialect, model.name, model.schema)}"))
    ctx.execute(
        raw(
            f"ALTER TABLE {table_sql(dialect, tmp_name, model.schema)} "
            f"RENAME TO {quote(dialect, model.name)}"
        )
    )
    for index in model.index_objects(final):
        ctx.execute(sa.schema.CreateIndex(index))
    for index_model in model.indexes:
        if index_model.sql is not None:
            ctx.execute(raw(index_model.sql))
    for created in create_statements(dependents, dialect, model.schema):
        ctx.execute(raw(created))
    if not ctx.is_offline:
        check_views_work(ctx.connection, dependents, model.name, model.schema)
        log_kept(dependents, model.name)
        problems = foreign_key_problems(ctx.connection, model.name, model.schema)
        if problems:
            raise OperationError(
                f"rebuilding table {model.name!r} left {len(problems)} row(s) breaking a foreign "
                f"key ({problems[0]}); fix the data first, or change the foreign key"
            )
