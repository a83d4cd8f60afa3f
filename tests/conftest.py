"""Real databases for tests: SQLite always, PostgreSQL and MariaDB when reachable.

Every test that asks for ``db_url`` gets a database of its own, created before
and dropped after, so tests run in parallel (``pytest -n``) and leave nothing
behind.  A server that cannot be reached skips its tests with the reason shown
in the summary; under CI=true an unreachable server is a failure instead,
because CI starts both servers and a silent skip would hide a broken setup.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import sqlalchemy as sa

SERVERS = {
    "postgresql": os.environ.get(
        "DISTILL_TEST_POSTGRESQL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
    "mariadb": os.environ.get("DISTILL_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test"),
}
DIALECTS = ("sqlite", "postgresql", "mariadb")


@cache
def server_problem(kind: str) -> str | None:
    """Why the server for ``kind`` cannot be used, or None when it can."""
    try:
        engine = sa.create_engine(SERVERS[kind])
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
    except Exception as exc:  # any failure to connect means: not available
        return f"{kind} unreachable at {sa.make_url(SERVERS[kind]).render_as_string()}: {exc}"
    return None


def require_server(kind: str) -> None:
    problem = server_problem(kind) if kind != "sqlite" else None
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)


@pytest.fixture(params=DIALECTS)
def dialect_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    require_server(name)
    return name


def _scratch_name() -> str:
    return f"distill_t_{uuid.uuid4().hex[:10]}"


def create_scratch_database(kind: str, tmp_path: Path) -> tuple[str, object]:
    """A new empty database of ``kind``; returns its URL and a drop callable."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}", lambda: None
    name = _scratch_name()
    admin = sa.create_engine(SERVERS[kind], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = sa.make_url(SERVERS[kind]).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            else:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()

    return url, drop


@pytest.fixture
def db_url(dialect_name: str, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty database on each of SQLite, PostgreSQL, MariaDB."""
    url, drop = create_scratch_database(dialect_name, tmp_path)
    try:
        yield url
    finally:
        drop()  # type: ignore[operator]


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    eng = sa.create_engine(db_url)
    try:
        yield eng
    finally:
        eng.dispose()
