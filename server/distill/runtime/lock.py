"""One migrator at a time per database.

The lock is held for the whole run, across the per-revision transactions, and
the plan is computed only once it is held: a second ``distill upgrade head``
started at the same moment waits, then finds nothing left to do.

- PostgreSQL: a session-level advisory lock keyed by the version table.
- MariaDB/MySQL: ``GET_LOCK`` with a name derived from the database and table.
- SQLite: an exclusive ``flock`` on the database file.  SQLite's own locks
  cannot outlive a transaction, and ``flock`` is released by the kernel when
  the holder dies, so a killed migrator never leaves a stale lock behind.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sqlalchemy.engine import Connection

from distill.errors import LockTimeout

# First key of the PostgreSQL two-key advisory lock: "DIST" in ASCII.
_PG_LOCK_CLASS = 0x44495354
_POLL_START, _POLL_MAX = 0.05, 1.0

Notify = Callable[[str], None]


@contextmanager
def migration_lock(
    conn: Connection, lock_name: str, timeout: float, notify: Notify
) -> Iterator[None]:
    """Hold the migration lock named ``lock_name`` for the duration of the block."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        with _postgresql_lock(conn, lock_name, timeout, notify):
            yield
    elif dialect in ("mysql", "mariadb"):
        with _mysql_lock(conn, lock_name, timeout, notify):
            yield
    elif dialect == "sqlite":
        with _sqlite_lock(conn, timeout, notify):
            yield
    else:
        yield  # other dialects: the per-revision version check still guards


def _wait(
    try_once: Callable[[], bool],
    holder: Callable[[], str],
    timeout: float,
    notify: Notify,
    what: str,
) -> None:
    deadline = time.monotonic() + timeout
    delay = _POLL_START
    told = False
    while not try_once():
        if not told:
            notify(f"waiting for the migration lock on {what}, held by {holder()}")
            told = True
        if time.monotonic() >= deadline:
            raise LockTimeout(
                f"gave up after {timeout:g}s waiting for the migration lock on {what}, "
                f"held by {holder()}; wait for it to finish or raise lock_timeout"
            )
        time.sleep(delay)
        delay = min(delay * 2, _POLL_MAX)


def _pg_key(lock_name: str) -> int:
    # int4 range: pg_advisory_lock(int, int) takes signed 32-bit keys
    key = zlib.crc32(lock_name.encode())
    return key - (1 << 32) if key >= 1 << 31 else key


@contextmanager
def _postgresql_lock(
    conn: Connection, lock_name: str, timeout: float, notify: Notify
) -> Iterator[None]:
    key = _pg_key(lock_name)

    def try_once() -> bool:
        got = conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({_PG_LOCK_CLASS}, {key})").scalar()
        conn.commit()
        return bool(got)

    def holder() -> str:
        row = conn.exec_driver_sql(
            "SELECT a.pid, a.application_name, a.usename, a.client_addr, a.backend_start "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            f"WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {_PG_LOCK_CLASS} "
            f"AND l.objid = {key & 0xFFFFFFFF} AND l.objsubid = 2"
        ).first()
        conn.commit()
        if row is None:
            return "another session (now gone)"
        name = row.application_name or "a client"
        since = f"{row.backend_start:%H:%M:%S}"
        return f"{name} (backend pid {row.pid}, user {row.usename}, since {since})"

    def release() -> None:
        conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_LOCK_CLASS}, {key})")

    with _session_lock(conn, try_once, holder, release, timeout, notify, lock_name):
        yield


@contextmanager
def _mysql_lock(conn: Connection, lock_name: str, timeout: float, notify: Notify) -> Iterator[None]:
    database = conn.exec_driver_sql("SELECT DATABASE()").scalar() or ""
    name = f"distill:{database}.{lock_name}"[:64]

    def try_once() -> bool:
        got = conn.exec_driver_sql("SELECT GET_LOCK(%s, 0)", (name,)).scalar()
        conn.commit()
        return got == 1

    def holder() -> str:
        row = conn.exec_driver_sql(
            "SELECT p.ID, p.USER, p.HOST FROM information_schema.PROCESSLIST p "
            "WHERE p.ID = IS_USED_LOCK(%s)",
            (name,),
        ).first()
        conn.commit()
        if row is None:
            return "another session (now gone)"
        return f"connection {row[0]} ({row[1]}@{row[2]})"

    def release() -> None:
        conn.exec_driver_sql("SELECT RELEASE_LOCK(%s)", (name,))

    with _session_lock(conn, try_once, holder, release, timeout, notify, lock_name):
        yield


@contextmanager
def _session_lock(
    conn: Connection,
    try_once: Callable[[], bool],
    holder: Callable[[], str],
    release: Callable[[], None],
    timeout: float,
    notify: Notify,
    lock_name: str,
) -> Iterator[None]:
    """A lock owned by the database session: waited for, held, then released."""
    _wait(try_once, holder, timeout, notify, f"table {lock_name}")
    try:
        yield
    finally:
        # A dead connection took the lock with it; a live one releases it
        # outside whatever transaction a failure left open.
        if not conn.closed and not conn.invalidated:
            conn.rollback()
            release()
            conn.commit()


@contextmanager
def _sqlite_lock(conn: Connection, timeout: float, notify: Notify) -> Iterator[None]:
    database = conn.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        yield  # private to this process: nobody else can migrate it
        return
    import fcntl  # POSIX only; imported here so Windows users of other dialects are unaffected

    path = Path(database)
    handle: IO[bytes] = path.open("ab")

    def try_once() -> bool:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    try:
        _wait(try_once, lambda: "another process", timeout, notify, str(path))
        yield
    finally:
        handle.close()  # closing releases the flock
