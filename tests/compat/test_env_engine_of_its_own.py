"""What env.py does to its own engine and connection, under both tools.

- SQLAlchemy's recipe for transactional DDL on SQLite: the driver's own
  transactions off (``isolation_level = None`` on connect) and a ``begin``
  listener that sends ``BEGIN`` itself, often ``BEGIN IMMEDIATE``.  Distill
  leaves that engine's transactions to it (a second BEGIN is refused).
- SQL env.py runs itself before migrating that the database refuses is that
  SQL's error, named as such, not a failure to connect.

And on the same project, what ``history -v`` says of a database Alembic migrated.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.alembic_projects import app_project, replace_once, revision_script, run_cli

MODELS = """
from sqlalchemy.orm import DeclarativeBase

class Base(DeclarativeBase):
    pass
"""

RECIPE = """    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    from sqlalchemy import event

    @event.listens_for(connectable, "connect")
    def _driver_transactions_off(dbapi_connection, record):
        dbapi_connection.isolation_level = None

    @event.listens_for(connectable, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
"""


def _project(root: Path, engine_code: str = RECIPE) -> Path:
    app_project(root, f"sqlite:///{root / 'app.db'}", MODELS)
    env_py = root / "alembic" / "env.py"
    replace_once(
        env_py,
        "    connectable = engine_from_config(\n"
        "        config.get_section(config.config_ini_section, {}),\n"
        '        prefix="sqlalchemy.",\n'
        "        poolclass=pool.NullPool,\n"
        "    )\n",
        engine_code,
    )
    for rev, down in (("r1", None), ("r2", "r1")):
        create = f'op.create_table("{rev}", sa.Column("id", sa.Integer, primary_key=True))'
        text = revision_script(rev, down, rev, create, f'op.drop_table("{rev}")')
        (root / "alembic" / "versions" / f"{rev}.py").write_text(text)
    return root


def _state(root: Path) -> tuple[list[str], list[str]]:
    with sqlite3.connect(root / "app.db") as db:
        tables = sorted(
            r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        )
        return tables, [r[0] for r in db.execute("SELECT version_num FROM alembic_version")]


def test_an_engine_that_begins_its_own_transactions_migrates_as_under_alembic(
    tmp_path: Path,
) -> None:
    states = {}
    for tool in ("alembic", "distill"):
        root = _project(tmp_path / tool)
        for target in ("r1", "head"):
            done = run_cli(tool, root, "upgrade", target)
            assert done.returncode == 0, done.stderr
        done = run_cli(tool, root, "downgrade", "-1")
        assert done.returncode == 0, done.stderr
        states[tool] = _state(root)
    assert states["distill"] == states["alembic"]
    assert states["alembic"] == (["alembic_version", "r1"], ["r1"])


def test_sql_env_py_runs_that_the_database_refuses_is_named_as_such(tmp_path: Path) -> None:
    refusing = RECIPE + (
        "    with connectable.connect() as probe:\n"
        '        probe.exec_driver_sql("SELECT * FROM settings_table")\n'
    )
    root = _project(tmp_path / "p", refusing)
    done = run_cli("distill", root, "upgrade", "head")
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("distill: error: ") and "env.py:" in line
    refused = "the database refused the SQL env.py runs before migrating"
    assert f"{refused} (SELECT * FROM settings_table): no such table" in line, line
    assert "cannot connect" not in line


def test_history_v_says_which_revisions_alembic_applied(tmp_path: Path) -> None:
    """An Alembic project keeps no history table: what the database is at or past is
    applied, with no record of when (it said "Applied: no" of every revision)."""
    root = _project(tmp_path / "p")
    assert run_cli("alembic", root, "upgrade", "r1").returncode == 0
    done = run_cli("distill", root, "history", "-v")
    assert done.returncode == 0, done.stderr
    applied = [line for line in done.stdout.splitlines() if line.startswith("Applied:")]
    assert applied == ["Applied: no", "Applied: yes (when is not recorded)"]  # r2, r1
    # current -v's header is on stdout under both tools
    headers = [run_cli(tool, root, "current", "-v").stdout.splitlines()[0] for tool in
               ("alembic", "distill")]  # fmt: skip
    assert headers[1] == headers[0] and headers[0].startswith("Current revision(s) for sqlite")
