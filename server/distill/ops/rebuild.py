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
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import exc

from distill.ddl.common import quote, raw, table_sql
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
from distill.ops.table_model import (
    ModelChange,
    TableModel,
    constraint_models,
    constraint_object,
    copy_column,
    index_model,
    model_from_table,
)
from distill.schema.sqlite_ddl import parse_create_table

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from distill.ddl.context import OpContext

TMP_PREFIX = "_distill_tmp_"


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
            model.indexes += [index_model(index) for index in scratch.indexes]
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


def reflect_model(
    conn: Connection,
    name: str,
    schema: str | None,
    options: RebuildOptions | None = None,
    missing: str = "check the name",
) -> TableModel:
    options = options or RebuildOptions()
    try:
        # The tables its foreign keys name are not needed (a key is rebuilt from its
        # "table.column" text), and reflecting them was half of a rebuild's time...
        table = _reflect(conn, name, schema, options, resolve_fks=False)
        if any(c.foreign_keys and c.type._isnull for c in table.columns):
            # ...except where a column declared with no type takes its referent's
            # type from the resolved key, as SQLAlchemy (and so Alembic) does.
            table = _reflect(conn, name, schema, options, resolve_fks=True)
    except exc.NoSuchTableError:
        raise OperationError(f"table {name!r} does not exist; {missing}") from None
    model = model_from_table(table, index_sql_of(conn, name, schema))
    # SQLAlchemy does not reflect AUTOINCREMENT; the CREATE TABLE text has it.
    if parse_create_table(table_sql_of(conn, name, schema)).autoincrement:
        model.kwargs["sqlite_autoincrement"] = True
    return model


def _reflect(
    conn: Connection, name: str, schema: str | None, options: RebuildOptions, resolve_fks: bool
) -> sa.Table:
    with warnings.catch_warnings():
        # Expression indexes are rebuilt from SQLite's own SQL instead.
        warnings.simplefilter("ignore", exc.SAWarning)
        return sa.Table(
            name, sa.MetaData(), *options.reflect_args, schema=schema, autoload_with=conn,
            **{"resolve_fks": resolve_fks, **(options.reflect_kwargs or {})},
        )  # fmt: skip


def rebuild_table(
    ctx: OpContext,
    name: str,
    schema: str | None,
    changes: Sequence[ModelChange],
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
            item = constraint_object(con, table.metadata)
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
    for kept in model.indexes:
        if kept.sql is not None:
            ctx.execute(raw(kept.sql))
    for created in create_statements(dependents, dialect, model.schema):
        ctx.execute(raw(created))
    if not ctx.is_offline:
        check_views_work(ctx.connection, dependents, model.name, model.schema)
        log_kept(dependents, model.name)
        check_foreign_keys(ctx, model.name, model.schema, defer_mismatch=True)


def check_foreign_keys(
    ctx: OpContext, name: str, schema: str | None, *, defer_mismatch: bool = False
) -> None:
    """Refuse rows of or pointing at the rebuilt table that break a foreign key.

    SQLite cannot check at all while another table's key names columns that are not
    unique here ("foreign key mismatch"): a revision that reshapes keys passes through
    that state, rebuilding the parent before its children (mlflow's workspace
    revision).  ``defer_mismatch`` leaves the check to the end of the revision then
    (``ctx.foreign_key_checks_due``), where the runner makes it.
    """
    try:
        problems = foreign_key_problems(ctx.connection, name, schema)
    except exc.OperationalError as error:
        if not defer_mismatch or "foreign key mismatch" not in str(error.orig):
            raise
        ctx.foreign_key_checks_due.append((name, schema))
        return
    if problems:
        raise OperationError(
            f"rebuilding table {name!r} left {len(problems)} row(s) breaking a foreign "
            f"key ({problems[0]}); fix the data first, or change the foreign key"
        )
