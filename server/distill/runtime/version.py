"""The version table (what is applied) and the history table (what happened).

The version table has Alembic's layout — one ``version_num VARCHAR(32)`` row
per applied head — so a project moving from Alembic can keep its table.  The
history table is Distill's audit trail: one row per revision applied, reverted
or stamped, with timings, the sha256 of the file that ran and who ran it.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from distill.release import VERSION as __version__
from distill.runtime.database import os_user

Bound = tuple[sa.Executable, dict[str, Any]]  # a statement and its parameters

STATUS_DONE = "done"
STATUS_RUNNING = "running"
STATUS_FAILED = "failed"


@dataclass(frozen=True)
class HistoryEntry:
    revision: str
    direction: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    duration_ms: int | None
    checksum: str | None
    os_user: str | None
    hostname: str | None


@dataclass(frozen=True)
class Unfinished:
    """A history row of a revision that began and was never finished (killed)."""

    entry_id: int
    revision: str
    direction: str
    progress: str | None  # how far it got, as runtime.resume records it


class VersionTables:
    """The two bookkeeping tables of one project in one database."""

    def __init__(self, version_table: str, history_table: str | None, schema: str | None) -> None:
        metadata = sa.MetaData(schema=schema)
        self.version = sa.Table(
            version_table,
            metadata,
            sa.Column("version_num", sa.String(32), nullable=False),
            sa.PrimaryKeyConstraint("version_num", name=f"{version_table}_pkc"),
        )
        # None: no audit table (Alembic projects, whose autogenerate would see it as drift)
        self.history = None if history_table is None else _history_table(history_table, metadata)
        self.schema = schema
        # Built once: a statement object reused with new parameters skips
        # SQLAlchemy's per-statement compile work, which dominated long runs.
        number = self.version.c.version_num
        self._insert_row = self.version.insert().values(version_num=sa.bindparam("new_num"))
        self._delete_row = self.version.delete().where(number == sa.bindparam("old_num"))
        self._update_row = (
            self.version.update()
            .where(number == sa.bindparam("old_num"))
            .values(version_num=sa.bindparam("new_num"))
        )
        self._insert_history = None
        if self.history is not None:
            # progress is left out so a history table made before it existed still takes rows
            history_columns = [
                c.name for c in self.history.columns if c.name not in ("id", "progress")
            ]
            self._insert_history = self.history.insert().values(
                {name: sa.bindparam(f"p_{name}") for name in history_columns}
            )
        self._who = {
            "os_user": os_user(),
            "hostname": socket.gethostname()[:255],
            "tool_version": __version__,
        }

    # -- reading -------------------------------------------------------------

    def exists(self, conn: Connection) -> bool:
        return self._has(conn, self.version)

    def _has(self, conn: Connection, table: sa.Table) -> bool:
        return sa.inspect(conn).has_table(table.name, schema=self.schema)

    def heads(self, conn: Connection) -> tuple[str, ...]:
        """The applied heads; empty when nothing was ever applied."""
        if not self.exists(conn):
            return ()
        rows = conn.execute(sa.select(self.version.c.version_num)).scalars()
        return tuple(sorted(rows))

    def history_entries(self, conn: Connection) -> list[HistoryEntry]:
        if self.history is None or not self._has(conn, self.history):
            return []
        h = self.history.c
        query = sa.select(
            h.revision,
            h.direction,
            h.status,
            h.started_at,
            h.finished_at,
            h.duration_ms,
            h.checksum,
            h.os_user,
            h.hostname,
        ).order_by(h.id)
        return [HistoryEntry(*row) for row in conn.execute(query)]

    # -- writing -------------------------------------------------------------

    def create_statements(
        self, conn_or_dialect: Connection | sa.Dialect
    ) -> list[sa.schema.CreateTable]:
        """CREATE TABLE statements for whichever tables are missing."""
        tables = [self.version] if self.history is None else [self.version, self.history]
        if isinstance(conn_or_dialect, Connection):
            missing = [t for t in tables if not self._has(conn_or_dialect, t)]
        else:
            missing = tables
        return [sa.schema.CreateTable(t) for t in missing]

    def set_heads(self, before: Iterable[str], after: Iterable[str]) -> list[Bound]:
        """Statements turning the version rows ``before`` into ``after``."""
        old, new = set(before), set(after)
        removed, added = sorted(old - new), sorted(new - old)
        statements: list[Bound] = []
        # One row changing into another is an UPDATE, as Alembic does, so a
        # reader never sees the table empty between two statements.
        while removed and added:
            statements.append(
                (self._update_row, {"old_num": removed.pop(0), "new_num": added.pop(0)})
            )
        statements += [(self._delete_row, {"old_num": rev}) for rev in removed]
        statements += [(self._insert_row, {"new_num": rev}) for rev in added]
        return statements

    def record(
        self,
        revision: str,
        direction: str,
        *,
        started_at: dt.datetime,
        finished_at: dt.datetime | None,
        checksum: str | None,
        status: str = STATUS_DONE,
        statements_run: int | None = None,
    ) -> list[Bound]:
        """The history row's INSERT (none when the project keeps no history)."""
        if self._insert_history is None:
            return []
        duration = int((finished_at - started_at).total_seconds() * 1000) if finished_at else None
        values = {
            "revision": revision,
            "direction": direction,
            "status": status,
            "started_at": started_at,
            "finished_at": finished_at,
            "duration_ms": duration,
            "statements_run": statements_run,
            "checksum": checksum,
            **self._who,
        }
        return [(self._insert_history, {f"p_{k}": v for k, v in values.items()})]

    def record_offline(self, revision: str, direction: str, checksum: str | None) -> list[Bound]:
        """A history row for SQL that a person runs later: the database stamps the time."""
        if self.history is None:
            return []
        now = sa.func.current_timestamp()
        # inline: nobody reads the new id back from a script, so no RETURNING clause
        statement = (
            self.history.insert()
            .inline()
            .values(
                revision=revision,
                direction=direction,
                status=STATUS_DONE,
                started_at=now,
                finished_at=now,
                checksum=checksum,
                **self._who,
            )
        )
        return [(statement, {})]

    def finish(
        self,
        entry_id: int,
        status: str,
        started_at: dt.datetime,
        statements_run: int,
        checksum: str | None = None,
    ) -> Bound:
        assert self.history is not None, "only runs that recorded a history row finish one"
        finished = utcnow()
        values: dict[str, Any] = {
            "status": status,
            "finished_at": finished,
            "duration_ms": int((finished - started_at).total_seconds() * 1000),
            "statements_run": statements_run,
        }
        if status == STATUS_DONE:
            values["progress"] = None  # only an interrupted run needs it
        if checksum is not None:
            values["checksum"] = checksum  # a resumed run: the file that finished it
        statement = self.history.update().where(self.history.c.id == entry_id).values(values)
        return statement, {}

    def progress_update(self, entry_id: int) -> sa.Update:
        """The UPDATE recording how far a running revision got (bind ``progress``)."""
        assert self.history is not None, "only runs that recorded a history row have progress"
        return (
            self.history.update()
            .where(self.history.c.id == entry_id)
            .values(progress=sa.bindparam("progress"))
        )

    def add_progress_column(self, conn: Connection) -> None:
        """Give a history table made before the ``progress`` column existed that column."""
        if self.history is None or not self._has(conn, self.history):
            return
        columns = sa.inspect(conn).get_columns(self.history.name, schema=self.schema)
        if any(c["name"] == "progress" for c in columns):
            return
        column = self.history.c.progress
        kind = column.type.compile(dialect=conn.dialect)
        table = conn.dialect.identifier_preparer.format_table(self.history)
        conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN progress {kind}")

    def unfinished(self, conn: Connection) -> list[Unfinished]:
        """Runs that began and never ended (only possible without transactional DDL)."""
        if self.history is None:
            return []
        h = self.history.c
        query = sa.select(h.id, h.revision, h.direction, h.progress).where(
            h.status == STATUS_RUNNING
        )
        return [Unfinished(*row) for row in conn.execute(query)]


class _LongText(sa.types.TypeDecorator[str]):
    """TEXT, MEDIUMTEXT on MariaDB/MySQL (where TEXT holds 64 KB).  A decorator rather
    than a variant: MySQL's types are imported only when a MySQL dialect asks for them."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "mysql":
            from sqlalchemy.dialects.mysql import MEDIUMTEXT

            return MEDIUMTEXT()
        return sa.Text()


def _history_table(name: str, metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("revision", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("statements_run", sa.Integer),
        sa.Column("checksum", sa.String(64)),
        sa.Column("os_user", sa.String(255)),
        sa.Column("hostname", sa.String(255)),
        sa.Column("tool_version", sa.String(32)),
        # Where a running revision has got to, so a killed run can be resumed
        # (MariaDB/MySQL only; see runtime.resume).  TEXT holds 64 KB there.
        sa.Column("progress", _LongText()),
    )


def utcnow() -> dt.datetime:
    # Stored naive, in UTC: DateTime without time zone is portable to all three.
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
