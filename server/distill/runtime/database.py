"""Opening the project's database, with errors a person can act on.

SQLite gets two adjustments.  Python's sqlite3 driver opens transactions
lazily and never around DDL, which would make a failed revision half-applied;
so the driver's own handling is switched off and Distill emits ``BEGIN``
itself — ``BEGIN IMMEDIATE`` for migrations, which takes SQLite's write lock
at once instead of failing midway.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine

from distill.errors import ConfigError, DatabaseError
from distill.masking import mask_text, mask_url

WRITE_INTENT = "distill_write"

_DRIVER_EXTRAS = {"psycopg": "postgresql", "psycopg2": "postgresql", "pymysql": "mysql"}


# Alembic's async templates name an asyncio driver.  Distill migrates
# synchronously, so it talks to the same database through its synchronous driver.
_SYNCHRONOUS = {
    "asyncpg": "psycopg",
    "psycopg_async": "psycopg",
    "aiosqlite": "pysqlite",
    "aiomysql": "pymysql",
    "asyncmy": "pymysql",
}


def synchronous(url: sa.URL) -> sa.URL:
    """``url`` with an asyncio driver replaced by the synchronous one for its database."""
    # Read from the text: asking the URL would load the dialect, which an
    # unknown one fails with a message meant for later.
    backend, _, driver = url.drivername.partition("+")
    replacement = _SYNCHRONOUS.get(driver)
    return url.set(drivername=f"{backend}+{replacement}") if replacement else url


def create_engine(url: str, application: str = "distill") -> Engine:
    try:
        parsed = synchronous(sa.make_url(url))
    except (exc.ArgumentError, ValueError):
        raise ConfigError(
            f"{mask_url(url)!r} is not a valid database URL; "
            "expected dialect+driver://user:password@host:port/database"
        ) from None
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg":
        connect_args["application_name"] = _application_name(application)
    try:
        engine = sa.create_engine(parsed, connect_args=connect_args, poolclass=sa.NullPool)
    except ModuleNotFoundError as missing:
        extra = _DRIVER_EXTRAS.get(missing.name or "", "")
        hint = f"pip install 'distill[{extra}]'" if extra else f"pip install {missing.name}"
        raise DatabaseError(
            f"the driver for {mask_url(url)} is not installed ({missing.name}); run: {hint}"
        ) from None
    except exc.NoSuchModuleError:
        raise ConfigError(
            f"{mask_url(url)}: unknown database dialect {parsed.drivername!r}"
        ) from None
    if engine.dialect.name == "sqlite":
        _take_over_sqlite_transactions(engine)
    return engine


def _application_name(application: str) -> str:
    # Shown to whoever waits for the migration lock, so it says who holds it.
    who = f"{application} pid {os.getpid()} {getpass.getuser()}@{socket.gethostname()}"
    return who[:63]


def _take_over_sqlite_transactions(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    event.listen(engine, "begin", _begin)


def _begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get(WRITE_INTENT) else "BEGIN")


@contextmanager
def adopted(conn: Connection) -> Iterator[Connection]:
    """A connection the project's env.py opened, made to migrate as Distill's own do.

    What env.py ran on it before (``SET search_path``, a PRAGMA) is committed and
    stays in effect; on SQLite, Distill begins the transactions itself for the
    time of the run (see the module's docstring), unless the project's engine
    does so already, and env.py gets its connection back as it was.
    """
    if conn.in_transaction():
        conn.commit()
    conn.info[WRITE_INTENT] = True
    if conn.dialect.name != "sqlite" or conn.dispatch.begin:
        # A "begin" listener of the project's own begins its transactions already
        # (SQLAlchemy's recipe for SQLite, often with BEGIN IMMEDIATE): a second BEGIN
        # would be refused.
        yield conn
        return
    dbapi_connection: Any = conn.connection.dbapi_connection
    isolation_level = dbapi_connection.isolation_level
    dbapi_connection.isolation_level = None
    event.listen(conn, "begin", _begin)
    try:
        yield conn
    finally:
        event.remove(conn, "begin", _begin)
        if not conn.closed and not conn.invalidated:
            if conn.in_transaction():
                conn.rollback()
            dbapi_connection.isolation_level = isolation_level


@contextmanager
def connect(engine: Engine | Connection, *, write: bool = False) -> Iterator[Connection]:
    """A connection, with connection failures turned into one-line errors.

    Given a connection (env.py's, see ``compat.env_run``), that one, left open.
    """
    if isinstance(engine, Connection):
        yield engine
        return
    try:
        conn = engine.connect()
    except exc.DBAPIError as error:
        raise connection_error(engine, error) from None
    try:
        conn.info[WRITE_INTENT] = write
        yield conn
    finally:
        conn.close()


def connection_error(engine: Engine, error: exc.DBAPIError) -> DatabaseError:
    reason = first_line(str(error.orig) if error.orig is not None else str(error))
    url = engine.url
    return DatabaseError(
        f"cannot connect to {mask_url(url.render_as_string(hide_password=False))}: "
        f"{mask_text(reason, url.password)}; check the URL and that the server is running"
    )


def first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return text.strip()


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"
