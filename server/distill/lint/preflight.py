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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from distill.lint.engine import recorded_run
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


def preflight(
    conn: Connection, graph: RevisionGraph, pending: Sequence[str], dialect: sa.Dialect
) -> list[Problem]:
    """What in ``pending`` the database's rows would make fail (nothing is written)."""
    applied, revisions = recorded_run(graph, pending, dialect)
    untouched = {table.key for table in applied.tables}
    seen = [item for _, recorded, _ in revisions for item in recorded]
    problems: list[Problem] = []
    _read_only(conn)
    try:
        for item in seen:
            for op in item.op.ops if isinstance(item.op, BatchAlterTable) else [item.op]:
                key = (getattr(op, "schema", None), getattr(op, "table_name", None))
                if key in untouched:
                    problems += [
                        Problem(item.revision.path, item.line or 1, item.revision.id, message)
                        for message in _checks(conn, op, item.before)
                    ]
                _follow(op, key, untouched)
    finally:
        conn.rollback()
    return problems


def _follow(op: Op, key: tuple[Any, Any], untouched: set[Any]) -> None:
    """After an op that may change rows (raw SQL, inserted rows, a type or a name
    changed), what its rows will be is the migration's, not the database's."""
    if isinstance(op, (Execute, BulkInsert)):
        untouched.clear()
    elif isinstance(op, (RenameTable, DropTable)) or (
        isinstance(op, AlterColumn) and (op.type_ is not None or op.new_column_name)
    ):
        untouched.discard(key if not isinstance(op, RenameTable) else (op.schema, op.old_name))


def _read_only(conn: Connection) -> None:
    if conn.in_transaction():
        conn.rollback()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
    elif conn.dialect.name in ("mysql", "mariadb"):
        conn.exec_driver_sql("START TRANSACTION READ ONLY")


def _checks(conn: Connection, op: Op, before: Schema) -> Iterator[str]:
    table = before.table(op.table_name, getattr(op, "schema", None))  # type: ignore[attr-defined]
    if table is None:
        return
    t = sa.table(table.name, *(sa.column(c.name) for c in table.columns), schema=table.schema)
    keys = list(table.primary_key.columns) if table.primary_key else []
    if isinstance(op, AlterColumn) and op.nullable is False and table.column(op.column_name):
        nulls: Any = t.c[op.column_name].is_(None)
        yield from _rows(conn, t, nulls, keys, f"{table.name}.{op.column_name}", "NULL",
                         "SET NOT NULL would fail")  # fmt: skip
    elif isinstance(op, AddColumn) and not op.column.nullable and op.column.server_default is None:
        count = conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        if count:
            yield (f"{table.name} has {count} row{'s' if count != 1 else ''}: adding "
                   f"{op.column.name} NOT NULL without a default would fail")  # fmt: skip
    elif isinstance(op, (CreateUnique, CreatePrimaryKey)) or (
        isinstance(op, CreateIndex) and op.unique and all(isinstance(c, str) for c in op.columns)
    ):
        columns = [str(c) for c in getattr(op, "columns", ())]
        if all(table.column(c) for c in columns):
            yield from _duplicates(conn, t, columns, table.name)
    elif isinstance(op, CreateForeignKey) and not op.kw.get("postgresql_not_valid"):
        referent = before.table(op.referent_table, op.referent_schema)
        if referent is not None:
            yield from _orphans(conn, t, op, referent, keys)
    elif isinstance(op, CreateCheck) and not op.kw.get("postgresql_not_valid"):
        condition = op.condition if not isinstance(op.condition, str) else sa.text(op.condition)
        where = sa.not_(sa.func.coalesce(condition, sa.true()))
        yield from _rows(conn, t, where, keys, f"{table.name}", "violating",
                         f"CHECK {op.name or ''} would fail".replace("  ", " "))  # fmt: skip


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


def _orphans(
    conn: Connection, t: Any, op: CreateForeignKey, referent: Any, keys: list[str]
) -> Iterator[str]:
    r = sa.table(referent.name, *(sa.column(c.name) for c in referent.columns),
                 schema=referent.schema).alias("referent")  # fmt: skip
    pairs = zip(op.local_cols, op.remote_cols, strict=True)
    joined = t.outerjoin(r, sa.and_(*(t.c[local] == r.c[remote] for local, remote in pairs)))
    where = sa.and_(*(t.c[c].is_not(None) for c in op.local_cols), r.c[op.remote_cols[0]].is_(None))
    count = conn.execute(sa.select(sa.func.count()).select_from(joined).where(where)).scalar_one()
    if not count:
        return
    shown_keys = keys or list(op.local_cols)
    first = conn.execute(
        sa.select(*(t.c[k] for k in shown_keys)).select_from(joined).where(where).limit(SHOWN)
    ).all()
    more = ", ..." if count > SHOWN else ""
    yield (f"{op.table_name} has {count} row{'s' if count != 1 else ''} whose "
           f"{', '.join(op.local_cols)} is not in {op.referent_table} "
           f"({', '.join(shown_keys)}: {', '.join(_key(x) for x in first)}{more}): "
           "the foreign key would fail")  # fmt: skip


def _key(row: Any) -> str:
    values = tuple(row)
    return str(values[0]) if len(values) == 1 else "(" + ", ".join(map(str, values)) + ")"
