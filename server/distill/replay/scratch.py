"""Migrations -> Schema the sure way: run them on a throw-away database and reflect it.

The fallback for when symbolic replay is inexact.  SQLite projects use an
in-memory database; PostgreSQL and MariaDB projects get a database created on
the project's own server (``distill_scratch_<random>``), which is dropped
before returning — also when a revision fails or the user presses Ctrl-C.
The scripts run through the engine's own runtime (``run_online``), so the
scratch database is built exactly as ``distill upgrade`` would build it.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc

from distill.config import Config
from distill.errors import DatabaseError
from distill.masking import mask_text, mask_url
from distill.runtime.database import connect, create_engine, first_line, synchronous
from distill.runtime.migrate import run_online
from distill.runtime.plan import Step
from distill.schema.model import Schema
from distill.schema.reflect import reflect_schema
from distill.scripts.graph import RevisionGraph
from distill.scripts.plans import upgrade_steps

SCRATCH_PREFIX = "distill_scratch_"


def replay_on_scratch_database(
    graph: RevisionGraph,
    url_or_dialect: str | sa.URL | sa.Dialect,
    *,
    target: str = "heads",
    config: Config | None = None,
) -> Schema:
    """The schema ``upgrade`` to ``target`` builds, read back from a scratch database.

    ``url_or_dialect`` is the project's URL (its server hosts the scratch
    database; the project's own database is not touched), or a SQLite dialect.
    ``config`` supplies the version table names, left out of the result.
    """
    url = _server_url(url_or_dialect)
    config = config or Config(
        root=Path.cwd(), source=None, script_location=Path.cwd(), version_locations=()
    )
    scratch = _sqlite_in_memory() if url.get_backend_name() == "sqlite" else _on_server(url)
    with scratch as scratch_url:
        return _upgrade_and_reflect(graph, replace(config, url=scratch_url), target)


def _server_url(url_or_dialect: str | sa.URL | sa.Dialect) -> sa.URL:
    if isinstance(url_or_dialect, sa.Dialect):
        if url_or_dialect.name != "sqlite":
            raise DatabaseError(
                f"a scratch {url_or_dialect.name} database needs a server: configure the "
                "project's url so one can be created there"
            )
        return sa.make_url("sqlite://")
    return sa.make_url(url_or_dialect)


def _upgrade_and_reflect(graph: RevisionGraph, config: Config, target: str) -> Schema:
    def plan(heads: tuple[str, ...]) -> list[Step]:
        return [Step(graph.revisions[i], "upgrade") for i in upgrade_steps(graph, heads, target)]

    own_tables = {config.version_table, config.history_table}

    def upgrade_and_reflect(on: sa.Engine | sa.Connection) -> Schema:
        run_online(on, config, graph, plan, notify=lambda _: None, resumable=False)
        with connect(on) as conn:
            return reflect_schema(conn, exclude=own_tables.__contains__)

    url = config.require_url()
    if _async_driver_installed(url):
        return asyncio.run(_on_async_driver(url, upgrade_and_reflect))
    engine = create_engine(url, application="distill scratch")
    try:
        return upgrade_and_reflect(engine)
    finally:
        engine.dispose()


def _async_driver_installed(url: str) -> bool:
    """Whether ``url`` names an asyncio driver that is installed.  The revisions then run
    on it, as ``distill upgrade`` runs them through the project's env.py: drivers differ
    in what SQL they take (asyncpg runs ``format('%I', ...)`` in ``exec_driver_sql``,
    psycopg refuses it), so a stand-in driver would build another schema, or none."""
    parsed = sa.make_url(url)
    if synchronous(parsed) == parsed:
        return False
    try:
        parsed.get_dialect().import_dbapi()
    except ImportError:
        return False  # the synchronous driver it stands for serves, as for the project
    return True


async def _on_async_driver(url: str, work: Callable[[sa.Connection], Schema]) -> Schema:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, poolclass=sa.NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(work)
    finally:
        await engine.dispose()


@contextmanager
def _sqlite_in_memory() -> Iterator[str]:
    # A named shared-cache memory database lives as long as one connection to
    # it is open; the runtime opens and closes its own, so one is held here.
    name = f"{SCRATCH_PREFIX}{secrets.token_hex(6)}"
    url = f"sqlite:///file:{name}?mode=memory&cache=shared&uri=true"
    keeper = create_engine(url)
    try:
        with connect(keeper):
            yield url
    finally:
        keeper.dispose()


@contextmanager
def _on_server(url: sa.URL) -> Iterator[str]:
    name = f"{SCRATCH_PREFIX}{secrets.token_hex(6)}"
    admin = create_engine(url.render_as_string(hide_password=False), "distill scratch")
    try:
        _admin_statement(admin, f"CREATE DATABASE {name}", "create a scratch database")
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            _drop_despite_interrupts(admin, name)
    finally:
        admin.dispose()


def _drop_despite_interrupts(admin: sa.Engine, name: str) -> None:
    """DROP DATABASE, retried when Ctrl-C lands while it runs; the Ctrl-C then goes on."""
    interrupted = False
    while True:
        try:
            _admin_statement(admin, _drop_sql(admin, name), "drop the scratch database")
            break
        except KeyboardInterrupt:
            interrupted = True
    if interrupted:
        raise KeyboardInterrupt


def _drop_sql(admin: sa.Engine, name: str) -> str:
    if admin.dialect.name == "postgresql":
        # The runtime's connections are closed (NullPool); FORCE (PostgreSQL 13+)
        # also ends any a failure left behind.
        version = admin.dialect.server_version_info or (0,)
        force = " WITH (FORCE)" if version >= (13,) else ""
        return f"DROP DATABASE IF EXISTS {name}{force}"
    return f"DROP DATABASE IF EXISTS {name}"


def _admin_statement(admin: sa.Engine, sql: str, what: str) -> None:
    with connect(admin) as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            conn.exec_driver_sql(sql)
        except exc.DBAPIError as error:
            reason = first_line(str(error.orig) if error.orig is not None else str(error))
            where = mask_url(admin.url.render_as_string(hide_password=False))
            raise DatabaseError(
                f"cannot {what} on {where}: {mask_text(reason, admin.url.password)}; the "
                "fallback for inexact replay needs a user allowed to CREATE/DROP DATABASE"
            ) from None
