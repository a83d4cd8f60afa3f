"""Timeouts on the database for each revision, and who holds the lock when one fires.

``ddl_lock_timeout`` and ``statement_timeout`` (seconds, in the settings) are set
for each revision's work: ``SET LOCAL`` inside the revision's transaction on
PostgreSQL (so they hold behind PgBouncer in transaction mode, and end with
it), ``lock_wait_timeout`` / ``max_statement_time`` for the session on
MariaDB.  They are not the ``lock_timeout`` setting, which is how long Distill
waits for its own migration lock.

When a statement gives up waiting for a table's lock, ``blockers`` names the
sessions holding locks on that table, from another connection: the failed
transaction can ask nothing.
"""

from __future__ import annotations

import math
import re

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Engine

from distill.config import Config

# The table a DDL statement waits for: ALTER TABLE t, CREATE INDEX i ON t, DROP TABLE t.
_TABLE = re.compile(
    r"\b(?:ALTER\s+TABLE(?:\s+IF\s+EXISTS)?|DROP\s+TABLE(?:\s+IF\s+EXISTS)?|ON|LOCK\s+TABLE)"
    r"\s+(?:ONLY\s+)?((?:\"[^\"]+\"|\w+)(?:\.(?:\"[^\"]+\"|\w+))?)",
    re.IGNORECASE,
)


def set_timeouts(conn: Connection, config: Config) -> None:
    """The revision's timeouts, on its connection, inside its transaction where it has one."""
    lock, statement = config.ddl_lock_timeout, config.statement_timeout
    if lock is None and statement is None:
        return
    dialect = conn.dialect.name
    if dialect == "postgresql":
        if lock is not None:
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(lock * 1000)}ms'")
        if statement is not None:
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = '{int(statement * 1000)}ms'")
    elif dialect in ("mysql", "mariadb"):
        if lock is not None:
            conn.exec_driver_sql(f"SET SESSION lock_wait_timeout = {max(1, math.ceil(lock))}")
            conn.exec_driver_sql(
                f"SET SESSION innodb_lock_wait_timeout = {max(1, math.ceil(lock))}"
            )
        if statement is not None and getattr(conn.dialect, "is_mariadb", False):
            conn.exec_driver_sql(f"SET SESSION max_statement_time = {statement:g}")


def is_lock_wait(error: exc.DBAPIError) -> bool:
    """A statement that gave up waiting for a lock (not one that was too slow)."""
    orig = error.orig
    if getattr(orig, "sqlstate", None) == "55P03":  # PostgreSQL lock_not_available
        return True
    args: tuple[object, ...] = tuple(getattr(orig, "args", ()))
    return bool(args) and args[0] == 1205  # MariaDB/MySQL: Lock wait timeout exceeded


def blockers(engine: Engine, statement: str) -> str:
    """Who holds locks on the table ``statement`` waited for, in one phrase; "" if unknown."""
    found = _TABLE.search(statement or "")
    if found is None:
        return ""
    table = found.group(1)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                return _postgresql(conn, table)
            if conn.dialect.name in ("mysql", "mariadb"):
                return _mysql(conn, table.strip('"`').split(".")[-1])
    except exc.DBAPIError:
        return ""
    return ""


def _postgresql(conn: Connection, table: str) -> str:
    rows = conn.exec_driver_sql(
        "SELECT DISTINCT a.pid, a.usename, a.state, a.query_start, a.query"
        " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.granted AND l.relation = to_regclass(%(t)s) AND a.pid <> pg_backend_pid()"
        " ORDER BY a.query_start",
        {"t": table},
    ).all()
    return "; ".join(
        f"pid {pid} ({user}, {state}, query started {start:%H:%M:%S}: {_first_line(query)})"
        for pid, user, state, start, query in rows
    )


def _mysql(conn: Connection, table: str) -> str:
    rows = conn.exec_driver_sql(
        "SELECT ID, USER, COMMAND, TIME, INFO FROM information_schema.PROCESSLIST"
        " WHERE ID <> CONNECTION_ID() AND (INFO IS NULL OR INFO NOT LIKE %(me)s)"
        " AND DB = DATABASE() ORDER BY TIME DESC",
        {"me": "%PROCESSLIST%"},
    ).all()
    del table  # the processlist does not say which tables a session locks: all are named
    return "; ".join(
        f"connection {pid} ({user}, {command} for {seconds} s: {_first_line(info or 'idle')})"
        for pid, user, command, seconds, info in rows
    )


def _first_line(query: str | None) -> str:
    line = " ".join((query or "").split())
    return line if len(line) <= 80 else line[:77] + "..."
