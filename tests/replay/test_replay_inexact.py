"""Inexact replay: detected and named, then the scratch-database fallback.

The scratch checks for one server run inside one test, so that under
``pytest -n`` no other test creates ``distill_scratch_*`` databases on that
server while the list of databases is compared before and after.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from distill import commands
from distill.errors import MigrationFailed, ScriptError
from distill.replay.recorder import replay
from distill.replay.scratch import SCRATCH_PREFIX, replay_on_scratch_database
from distill.schema.reflect import reflect_schema
from tests.conftest import SERVERS
from tests.projects import ProjectDir, make_project
from tests.replay.test_replay_corpus import USERS, VERSION_TABLES, differences

RAW_ALTER = 'op.execute("ALTER TABLE users ADD COLUMN extra INTEGER")'


def _project(tmp_path: Path, url: str, *bodies: str) -> ProjectDir:
    project = make_project(tmp_path / "project", url)
    down = None
    for n, body in enumerate(bodies, start=1):
        project.add(f"r{n}", down, body)
        down = f"r{n}"
    return project


def _scratch_databases(dialect_name: str) -> set[str]:
    if dialect_name == "sqlite":
        return set()
    engine = sa.create_engine(SERVERS[dialect_name])
    try:
        with engine.connect() as conn:
            if dialect_name == "postgresql":
                rows = conn.exec_driver_sql("SELECT datname FROM pg_database")
            else:
                rows = conn.exec_driver_sql("SHOW DATABASES")
            return {r[0] for r in rows if r[0].startswith(SCRATCH_PREFIX)}
    finally:
        engine.dispose()


def _left_behind(dialect_name: str, before: set[str]) -> set[str]:
    """Scratch databases made since ``before`` that are still there.  Other tests on the
    same server (xdist workers) make and drop theirs meanwhile: one of theirs is gone
    within seconds, and a leaked one stays, so the answer waits out the former."""
    deadline = time.monotonic() + 30
    while (new := _scratch_databases(dialect_name) - before) and time.monotonic() < deadline:
        time.sleep(0.5)
    return new


def test_raw_structural_sql_is_inexact_and_the_scratch_database_tells_the_truth(
    dialect_name: str, db_url: str, tmp_path: Path
) -> None:
    project_dir = _project(tmp_path, db_url, USERS, RAW_ALTER)
    project = project_dir.project()
    engine = sa.create_engine(db_url)
    before = _scratch_databases(dialect_name)
    try:
        with engine.connect():
            pass
        result = replay(project.graph, engine.dialect)
        assert not result.exact
        (reason,) = result.reasons
        assert "r2_r2.py" in reason and "ALTER TABLE users ADD COLUMN extra" in reason
        assert result.schema.table("users").column("extra") is None  # type: ignore[union-attr]

        scratch = replay_on_scratch_database(project.graph, db_url, config=project.config)
        assert _left_behind(dialect_name, before) == set()
        assert scratch.table("users").column("extra") is not None  # type: ignore[union-attr]

        commands.upgrade(project, "heads")
        with engine.connect() as conn:
            real = reflect_schema(conn, exclude=VERSION_TABLES.__contains__)
        assert differences(scratch, real) == []
        # The project's own database was not the scratch one.
        assert set(real.tables) == set(scratch.tables)
    finally:
        engine.dispose()
        project.dispose()

    # A revision that fails, or a Ctrl-C, still leaves no scratch database behind.
    project_dir.add("r3", "r2", 'op.execute("SELECT * FROM no_such_table")')
    with pytest.raises(MigrationFailed, match=r"r3_r3\.py"):
        replay_on_scratch_database(project_dir.project().graph, db_url)
    assert _left_behind(dialect_name, before) == set()
    project_dir.add("r4", "r3", "raise KeyboardInterrupt")
    (project_dir.versions / "r3_r3.py").unlink()
    project_dir.add("r3", "r2", "pass")
    with pytest.raises(KeyboardInterrupt):
        replay_on_scratch_database(project_dir.project().graph, db_url)
    assert _left_behind(dialect_name, before) == set()


def test_sqlite_scratch_needs_only_a_dialect(tmp_path: Path) -> None:
    project = _project(tmp_path, "sqlite://", USERS, RAW_ALTER).project()
    dialect = sa.create_engine("sqlite://").dialect
    schema = replay_on_scratch_database(project.graph, dialect)
    users = schema.table("users")
    assert users is not None and users.column("extra") is not None
    assert {t.name for t in schema.tables} == {"users"}  # no version tables


def test_scratch_on_a_server_needs_its_url(tmp_path: Path) -> None:
    from sqlalchemy.dialects import postgresql

    project = _project(tmp_path, "sqlite://", USERS).project()
    with pytest.raises(Exception, match="needs a server"):
        replay_on_scratch_database(project.graph, postgresql.dialect())  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    "body",
    [
        "op.get_bind()",
        # A script that swallows the failure is still caught.
        "try:\n    op.get_bind().execute(sa.text('SELECT 1'))\nexcept Exception:\n    pass",
    ],
)
def test_get_bind_is_inexact(tmp_path: Path, body: str) -> None:
    project = _project(tmp_path, "sqlite://", USERS, body, 'op.drop_column("users", "bio")')
    result = replay(project.project().graph, sa.create_engine("sqlite://").dialect)
    assert not result.exact
    (reason,) = result.reasons
    assert reason.endswith("r2_r2.py: op.get_bind() needs a live database")
    users = result.schema.table("users")
    assert users is not None and users.column("bio") is None  # later revisions still replay


def test_a_revision_that_raises_names_its_file_and_line(tmp_path: Path) -> None:
    project = _project(tmp_path, "sqlite://", USERS, "x = 1\nraise ValueError('broken')")
    with pytest.raises(ScriptError, match=r"r2_r2\.py:\d+: upgrade\(\) raised ValueError: broken"):
        replay(project.project().graph, sa.create_engine("sqlite://").dialect)


def test_drop_constraint_by_unknown_name_is_inexact_not_a_crash(tmp_path: Path) -> None:
    body = 'op.drop_constraint("users_email_key", "users", type_="unique")'
    project = _project(tmp_path, "sqlite://", USERS, body)
    result = replay(project.project().graph, sa.create_engine("sqlite://").dialect)
    assert not result.exact
    assert "no unique constraint named 'users_email_key'" in result.reasons[0]
    assert result.schema.table("users") is not None


# What only asyncpg runs: psycopg refuses "%I" in exec_driver_sql ("only '%s', '%b',
# '%t' are allowed as placeholders").
FORMAT_I = """
name = op.get_bind().exec_driver_sql("SELECT format('%I', 'extra')").scalar()
op.add_column("users", sa.Column(name, sa.Integer))
"""


@pytest.mark.parametrize("dialect_name", ["postgresql"], indirect=True)
def test_an_async_url_builds_its_scratch_database_on_its_own_driver(
    dialect_name: str, db_url: str, tmp_path: Path
) -> None:
    """As ``distill upgrade`` runs the revisions on the project's asyncio driver, so does
    the scratch replay: on psycopg this revision fails and no schema could be built."""
    url = sa.make_url(db_url).set(drivername="postgresql+asyncpg")
    async_url = url.render_as_string(hide_password=False)
    project = _project(tmp_path, async_url, USERS, FORMAT_I).project()
    # (That no scratch database is left behind is the test above's: two tests counting
    # the server's scratch databases at once would see each other's.)
    try:
        scratch = replay_on_scratch_database(project.graph, async_url, config=project.config)
        assert scratch.table("users").column("extra") is not None  # type: ignore[union-attr]
        with pytest.raises(MigrationFailed, match="placeholders"):
            replay_on_scratch_database(project.graph, db_url, config=project.config)
    finally:
        project.dispose()
