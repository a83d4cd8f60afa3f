"""Pre-flight: before a revision runs, would its data let it succeed?  Read-only.

For each pending op that the rows of a live table can make fail, one query
counts the rows that would: NULLs before ``SET NOT NULL`` (and rows at all
before a NOT NULL column without a default), duplicate groups before a UNIQUE
or PRIMARY KEY, orphans before a foreign key, violations before a CHECK.  The
queries run in a read-only transaction that is rolled back: pre-flight never
writes.  Tables a pending revision creates, or whose rows it may have changed
before the op (raw SQL, inserted rows, a type change, a rename), are not
checked: their rows are not known until the migrations run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from distill.lint.engine import RecordedRun, recorded_run
from distill.ops.base import Op
from distill.ops.batch import BatchAlterTable
from distill.ops.column import AddColumn, AlterColumn
from distill.ops.constraint import CreateCheck, CreateForeignKey, CreatePrimaryKey, CreateUnique
from distill.ops.data import BulkInsert, Execute
from distill.ops.index import CreateIndex
from distill.ops.table import DropTable, RenameTable
from distill.schema.model import Schema
from distill.scripts.graph import RevisionGraph

SHOWN = 5  # offending keys named in a message


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    revision: str
    message: str  # what would fail, how many rows, the first few keys


@dataclass(frozen=True)
class Check:
    """One count to make before a pending op, as plain data: planned where the revisions
    run (the editor's sandbox), counted where the database is (the server, the CLI)."""

    path: str  # plain values only: it crosses back from the sandbox
    line: int
    revision: str
    kind: str  # "not-null" | "rows" | "unique" | "foreign-key" | "check"
    table: str
    schema: str | None
    keys: tuple[str, ...]  # the table's primary key, to name offending rows by
    columns: tuple[str, ...] = ()  # the column (not-null, rows), the key (unique), local (FK)
    referent: tuple[str, str | None, tuple[str, ...]] | None = None  # FK: table, schema, cols
    condition: str = ""  # check: the CHECK's SQL, for the target dialect
    name: str = ""  # check: the constraint's name

    def counted(self) -> Check:
        """What the count depends on, without the place it is shown at (a cache key)."""
        return replace(self, path="", line=0, revision="")


def preflight(
    conn: Connection, graph: RevisionGraph, pending: Sequence[str], dialect: sa.Dialect
) -> list[Problem]:
    """What in ``pending`` the database's rows would make fail (nothing is written)."""
    return run_checks(conn, planned_checks(graph, pending, dialect))


def planned_checks(
    graph: RevisionGraph, pending: Sequence[str], dialect: sa.Dialect
) -> list[Check]:
    """The counts to make before ``pending`` runs (replayed: the revisions are user code)."""
    return checks_of(recorded_run(graph, pending, dialect), dialect)


def checks_of(replayed: RecordedRun, dialect: sa.Dialect) -> list[Check]:
    """The counts to make before the run ``recorded_run`` recorded."""
    applied, revisions = replayed
    untouched = {table.key for table in applied.tables}
    seen = [item for _, recorded, _ in revisions for item in recorded]
    checks: list[Check] = []
    for item in seen:
        for op in item.op.ops if isinstance(item.op, BatchAlterTable) else [item.op]:
            key = (getattr(op, "schema", None), getattr(op, "table_name", None))
            if key in untouched:
                check = _check(op, item.before, dialect)
                if check is not None:
                    place = (str(item.revision.path), item.line or 1, item.revision.id)
                    checks.append(Check(*place, **check))
            _follow(op, key, untouched)
    return checks


def run_checks(conn: Connection, checks: Sequence[Check]) -> list[Problem]:
    """What the checks find, each where its op is."""
    found = count_checks(conn, checks)
    return [
        Problem(Path(check.path), check.line, check.revision, message)
        for check in checks
        for message in found[check]
    ]


def count_checks(
    conn: Connection, checks: Sequence[Check], statement_timeout: float | None = None
) -> dict[Check, tuple[str, ...]]:
    """Each check's problems (none: the rows let it run), counted in one read-only
    transaction that is rolled back; each query is stopped after ``statement_timeout``
    seconds when one is given (the editor's, on a database it only looks at)."""
    if not checks:
        return {}
    found: dict[Check, tuple[str, ...]] = {}
    _read_only(conn, statement_timeout)
    try:
        for check in checks:
            found[check] = tuple(_counted(conn, check))
    finally:
        conn.rollback()
    return found


def _follow(op: Op, key: tuple[Any, Any], untouched: set[Any]) -> None:
    """After an op that may change rows (raw SQL, inserted rows, a type or a name
    changed), what its rows will be is the migration's, not the database's."""
    if isinstance(op, (Execute, BulkInsert)):
        untouched.clear()
    elif isinstance(op, (RenameTable, DropTable)) or (
        isinstance(op, AlterColumn) and (op.type_ is not None or op.new_column_name)
    ):
        untouched.discard(key if not isinstance(op, RenameTable) else (op.schema, op.old_name))


def _read_only(conn: Connection, statement_timeout: float | None) -> None:
    if conn.in_transaction():
        conn.rollback()
    name = conn.dialect.name
    if name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        if statement_timeout is not None:
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(statement_timeout * 1000)}")
    elif name in ("mysql", "mariadb"):
        if statement_timeout is not None:
            conn.exec_driver_sql(f"SET SESSION max_statement_time = {float(statement_timeout)}")
        conn.exec_driver_sql("START TRANSACTION READ ONLY")


def _check(op: Op, before: Schema, dialect: sa.Dialect) -> dict[str, Any] | None:
    """What to count before ``op`` on a live table; None when its rows cannot fail it."""
    table = before.table(op.table_name, getattr(op, "schema", None))  # type: ignore[attr-defined]
    if table is None:
        return None
    keys = tuple(table.primary_key.columns) if table.primary_key else ()
    where: dict[str, Any] = {"table": table.name, "schema": table.schema, "keys": keys}
    if isinstance(op, AlterColumn) and op.nullable is False and table.column(op.column_name):
        return {**where, "kind": "not-null", "columns": (op.column_name,)}
    if isinstance(op, AddColumn) and not op.column.nullable and op.column.server_default is None:
        return {**where, "kind": "rows", "columns": (op.column.name,)}
    if isinstance(op, (CreateUnique, CreatePrimaryKey)) or (
        isinstance(op, CreateIndex) and op.unique and all(isinstance(c, str) for c in op.columns)
    ):
        columns = tuple(str(c) for c in getattr(op, "columns", ()))
        if all(table.column(c) for c in columns):
            return {**where, "kind": "unique", "columns": columns}
    elif isinstance(op, CreateForeignKey) and not op.kw.get("postgresql_not_valid"):
        referent = before.table(op.referent_table, op.referent_schema)
        if referent is not None:
            target = (referent.name, referent.schema, tuple(op.remote_cols))
            return {**where, "kind": "foreign-key", "columns": tuple(op.local_cols),
                    "referent": target}  # fmt: skip
    elif isinstance(op, CreateCheck) and not op.kw.get("postgresql_not_valid"):
        condition = op.condition
        if not isinstance(condition, str):
            compiled = condition.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
            condition = str(compiled)
        return {**where, "kind": "check", "condition": condition, "name": op.name or ""}
    return None


def _counted(conn: Connection, check: Check) -> Iterator[str]:
    names = dict.fromkeys((*check.keys, *check.columns))
    t = sa.table(check.table, *(sa.column(c) for c in names), schema=check.schema)
    keys = list(check.keys)
    if check.kind == "not-null":
        (column,) = check.columns
        yield from _rows(conn, t, t.c[column].is_(None), keys, f"{check.table}.{column}",
                         "NULL", "SET NOT NULL would fail")  # fmt: skip
    elif check.kind == "rows":
        count = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        if count:
            yield (f"{check.table} has {count} row{'s' if count != 1 else ''}: adding "
                   f"{check.columns[0]} NOT NULL without a default would fail")  # fmt: skip
    elif check.kind == "unique":
        yield from _duplicates(conn, t, list(check.columns), check.table)
    elif check.kind == "foreign-key" and check.referent is not None:
        yield from _orphans(conn, t, check, keys)
    elif check.kind == "check":
        where = sa.not_(sa.func.coalesce(sa.text(check.condition), sa.true()))
        yield from _rows(conn, t, where, keys, check.table, "violating",
                         f"CHECK {check.name} would fail".replace("  ", " "))  # fmt: skip


def _rows(
    conn: Connection, t: Any, where: Any, keys: list[str], what: str, kind: str, outcome: str
) -> Iterator[str]:
    count = conn.execute(sa.select(sa.func.count()).select_from(t).where(where)).scalar_one()
    if not count:
        return
    shown = ""
    if keys:
        first = conn.execute(
            sa.select(*(t.c[k] for k in keys)).where(where).order_by(*(t.c[k] for k in keys))
            .limit(SHOWN)
        ).all()  # fmt: skip
        shown = (
            f" ({', '.join(keys)}: {', '.join(_key(r) for r in first)}"
            + (", ..." if count > SHOWN else "")
            + ")"
        )
    yield f"{what} has {count} {kind} row{'s' if count != 1 else ''}{shown}: {outcome}"


def _duplicates(conn: Connection, t: Any, columns: list[str], table: str) -> Iterator[str]:
    cols = [t.c[c] for c in columns]
    groups = (
        sa.select(*cols, sa.func.count().label("n")).where(sa.and_(*(c.is_not(None) for c in cols)))
        .group_by(*cols).having(sa.func.count() > 1)
    )  # fmt: skip
    count = conn.execute(sa.select(sa.func.count()).select_from(groups.subquery())).scalar_one()
    if not count:
        return
    first = conn.execute(groups.order_by(*cols).limit(SHOWN)).all()
    named = ", ".join(f"{_key(r[:-1])} ({r[-1]} rows)" for r in first)
    more = ", ..." if count > SHOWN else ""
    yield (f"{table}({', '.join(columns)}) has {count} duplicated value"
           f"{'s' if count != 1 else ''} ({named}{more}): the unique key would fail")  # fmt: skip


def _orphans(conn: Connection, t: Any, check: Check, keys: list[str]) -> Iterator[str]:
    assert check.referent is not None
    name, schema, remote = check.referent
    r = sa.table(name, *(sa.column(c) for c in remote), schema=schema).alias("referent")
    pairs = zip(check.columns, remote, strict=True)
    joined = t.outerjoin(r, sa.and_(*(t.c[local] == r.c[other] for local, other in pairs)))
    where = sa.and_(*(t.c[c].is_not(None) for c in check.columns), r.c[remote[0]].is_(None))
    count = conn.execute(sa.select(sa.func.count()).select_from(joined).where(where)).scalar_one()
    if not count:
        return
    shown_keys = keys or list(check.columns)
    first = conn.execute(
        sa.select(*(t.c[k] for k in shown_keys)).select_from(joined).where(where).limit(SHOWN)
    ).all()
    more = ", ..." if count > SHOWN else ""
    yield (f"{check.table} has {count} row{'s' if count != 1 else ''} whose "
           f"{', '.join(check.columns)} is not in {name} "
           f"({', '.join(shown_keys)}: {', '.join(_key(x) for x in first)}{more}): "
           "the foreign key would fail")  # fmt: skip


def _key(row: Any) -> str:
    values = tuple(row)
    return str(values[0]) if len(values) == 1 else "(" + ", ".join(map(str, values)) + ")"
