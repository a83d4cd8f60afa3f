"""Real databases for tests: SQLite always, PostgreSQL and MariaDB when reachable.

Every test that asks for ``db_url`` gets a database of its own, created before
and dropped after, so tests run in parallel (``pytest -n``) and leave nothing
behind.  A server that cannot be reached skips its tests with the reason shown
in the summary; under CI=true an unreachable server is a failure instead,
because CI starts both servers and a silent skip would hide a broken setup.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import sqlalchemy as sa

# Distill's caches (distill.caches) of this run's projects, and of the CLI and
# language servers it starts, go to a folder of the run's own, removed after.
_OWN_CACHE = tempfile.mkdtemp(prefix="distill-test-cache-")
os.environ["DISTILL_CACHE_DIR"] = _OWN_CACHE


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_OWN_CACHE, ignore_errors=True)


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


def scratch_database_for_module(
    kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A module fixture's body: a new empty database of ``kind`` while the module runs."""
    require_server(kind)
    made, drop = create_scratch_database(kind, tmp_path_factory.mktemp(kind))
    yield made
    drop()  # type: ignore[operator]


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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The side-by-side figures: the autogenerate corpus, then the real histories."""
    _autogen_corpus_summary(terminalreporter)
    from tests.realworld.report import summarize

    summarize(terminalreporter)


def _autogen_corpus_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Where Alembic and Distill differ on the autogenerate corpus (test_autogen_corpus).

    Each corpus test records both tools' outcomes as a user property, which
    also reaches this hook from pytest-xdist workers.
    """
    import json

    rows = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            for key, value in getattr(report, "user_properties", ()):
                if key == "autogen_corpus" and getattr(report, "when", "") == "call":
                    rows.append(json.loads(value))
    if not rows:
        return
    questions = ("reached_m2", "clean_after", "downgraded_to_m1")

    def mark(value: object) -> str:
        return {True: "yes", False: "NO", None: "-"}[value]  # type: ignore[index]

    differ = [r for r in rows if any(r["distill"][q] != r["alembic"][q] for q in questions)]
    terminalreporter.section("autogenerate corpus: Alembic 1.20 vs Distill")
    terminalreporter.write_line(
        f"{len(rows)} case/dialect runs; Distill reached m2 / clean / downgraded in "
        f"{sum(all(r['distill'][q] for q in questions) for r in rows)}, Alembic in "
        f"{sum(all(r['alembic'][q] for q in questions) for r in rows)}; "
        f"they differ in {len(differ)}"
    )
    if not differ:
        return
    header = f"{'case':<30} {'dialect':<11} {'reached m2':<14} {'clean after':<14} " \
             f"{'down to m1':<14} alembic error"  # fmt: skip
    terminalreporter.write_line(header)
    terminalreporter.write_line("(each cell: distill/alembic)")
    for r in sorted(differ, key=lambda r: (r["case"], r["dialect"])):
        cells = [f"{mark(r['distill'][q])}/{mark(r['alembic'][q])}" for q in questions]
        error = (r.get("alembic_error") or "")[:60]
        terminalreporter.write_line(
            f"{r['case']:<30} {r['dialect']:<11} {cells[0]:<14} {cells[1]:<14} {cells[2]:<14} "
            f"{error}"
        )


# -- the example project ----------------------------------


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A copy of examples/shop (no database yet)."""
    from tests.projects import copy_shop

    return copy_shop(tmp_path / "shop")
