"""The lock-safe runner: ``ddl_lock_timeout`` per revision, retries, and naming who blocks.

Another session holds a lock on the table a revision alters (PostgreSQL: a
transaction that read it; MariaDB: the same, which holds its metadata lock).
With ``retries`` the revision waits at most ``ddl_lock_timeout``, gives up,
tries again once the lock is free and succeeds, each failed attempt in the
history table; without, the upgrade stops with one line naming the holder.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.projects import DISTILL, ProjectDir, make_project


@pytest.fixture(params=["postgresql", "mariadb"])
def dialect_name(request: pytest.FixtureRequest) -> str:
    from tests.conftest import require_server

    require_server(request.param)
    return str(request.param)


def _project(root: Path, url: str, settings: str) -> ProjectDir:
    project = make_project(root, url, settings)
    project.add("a1", None, 'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))')
    project.add("b2", "a1", 'op.add_column("t", sa.Column("x", sa.Integer))')
    assert project.cli("upgrade", "a1").returncode == 0
    return project


def _hold(url: str) -> tuple[sa.Engine, sa.Connection]:
    """A session in a transaction that has read ``t``: it holds a lock ALTER must wait for."""
    engine = sa.create_engine(url)
    conn = engine.connect()
    conn.exec_driver_sql("SELECT * FROM t").all()
    return engine, conn


def test_a_lock_held_elsewhere_is_waited_for_retried_and_named(
    db_url: str, dialect_name: str, tmp_path: Path
) -> None:
    project = _project(tmp_path / "retry", db_url, "ddl_lock_timeout = 1\nretries = 3\n")
    engine, holder = _hold(db_url)
    started = time.monotonic()
    upgrade = subprocess.Popen([*DISTILL, "upgrade", "head"], cwd=project.root, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    time.sleep(2.5)  # the first attempt has given up by now
    holder.rollback()  # the lock is free: the next attempt gets it
    holder.close()
    _, err = upgrade.communicate(timeout=60)
    assert upgrade.returncode == 0, err
    assert "a table's lock was not free within ddl_lock_timeout (attempt 1 of 4)" in err
    assert "Upgraded" in err and time.monotonic() - started < 30
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT revision, status FROM distill_history WHERE revision = 'b2' ORDER BY id"
        ).all()
    engine.dispose()
    assert rows[0] == ("b2", "failed") and rows[-1] == ("b2", "done")

    settings = project.root / "distill.toml"
    settings.write_text(settings.read_text().replace("retries = 3", "retries = 0"))
    project.add("c3", "b2", 'op.add_column("t", sa.Column("y", sa.Integer))')
    engine, holder = _hold(db_url)
    try:
        done = project.cli("upgrade", "head")
    finally:
        holder.close()
        engine.dispose()
    assert done.returncode == 1
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("distill: error:")]
    expected = "the lock is held by pid" if dialect_name == "postgresql" else "held by connection"
    assert "upgrade of revision c3" in line and expected in line, line
    assert "SELECT * FROM t" in line or dialect_name == "mariadb"


@pytest.mark.parametrize("dialect_name", ["postgresql"], indirect=True)
def test_the_timeout_holds_again_after_an_autocommit_block(db_url: str, tmp_path: Path) -> None:
    """The block commits the revision's transaction, and its ``SET LOCAL`` with it: the
    runner sets it again for the statements after the block."""
    project = make_project(tmp_path / "block", db_url, "ddl_lock_timeout = 2\n")
    project.add(
        "a1",
        None,
        'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))\n'
        "with op.get_context().autocommit_block():\n"
        '    op.create_index("ix_t_id", "t", ["id"], postgresql_concurrently=True)\n'
        "op.execute(\"CREATE TABLE seen AS SELECT current_setting('lock_timeout') AS v\")",
    )
    done = project.cli("upgrade", "head")
    assert done.returncode == 0, done.stderr
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT v FROM seen").scalar() == "2s"
    engine.dispose()
