"""SIGKILL in the middle of ``distill upgrade head``, then the same command again.

Each trial starts a real ``distill upgrade head`` on an empty database, kills
it with SIGKILL at a point chosen by a seeded random generator (after some
number of operations, plus a few milliseconds, so kills land inside
statements and inside Distill's bookkeeping as well as between them), then
runs ``distill upgrade head`` again, which must finish unattended with the
schema, the rows and the version table of a run that was never killed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import create_scratch_database
from tests.projects import DISTILL, ProjectDir, make_project

TRIALS = 10
TABLES = 5  # each: create_table, add_column, create_index, insert -> 20 operations
OPERATIONS = 4 * TABLES + 3
MAX_DELAY = 0.04  # seconds after the chosen operation before the kill

# Counts operations, across revisions, in the file $KILL_MARKER; holds at $KILL_HOLD.
TICK = """
import os as _os, time as _time
def _tick():
    marker = _os.environ.get("KILL_MARKER")
    if not marker:
        return
    try:
        with open(marker) as f:
            ticks = int(f.read() or 0) + 1
    except FileNotFoundError:
        ticks = 1
    with open(marker + ".tmp", "w") as f:
        f.write(str(ticks))
    _os.replace(marker + ".tmp", marker)
    if _os.environ.get("KILL_HOLD") == str(ticks):
        _time.sleep(120)
"""


def many_statements() -> str:
    lines = []
    for i in range(TABLES):
        lines += [
            f'op.create_table("t{i}", sa.Column("id", sa.Integer, primary_key=True),'
            f' sa.Column("a", sa.Integer))',
            "_tick()",
            f'op.add_column("t{i}", sa.Column("b", sa.String(20)))',
            "_tick()",
            f'op.create_index("ix_t{i}_a", "t{i}", ["a"])',
            "_tick()",
            # No unique key: running the INSERT twice would show as a second row.
            f"op.execute(\"INSERT INTO t{i} (a, b) VALUES ({i}, 'row {i}')\")"
            if i != 3
            else 'op.bulk_insert(sa.table("t3", sa.column("a"), sa.column("b")),'
            ' [{"a": 3, "b": "row 3"}, {"a": 13, "b": "row 13"}])',
            "_tick()",
        ]
    return "\n".join(lines)


def build_project(root: Path, url: str) -> ProjectDir:
    project = make_project(root, url)
    project.add(
        "bbbb00000001",
        None,
        'op.create_table("base", sa.Column("id", sa.Integer, primary_key=True))\n_tick()',
        message="base",
        header=TICK,
    )
    project.add("bbbb00000002", "bbbb00000001", many_statements(), message="many", header=TICK)
    project.add(
        "bbbb00000003",
        "bbbb00000002",
        'op.add_column("base", sa.Column("note", sa.String(30)))\n_tick()\n'
        "op.execute(\"INSERT INTO base (note) VALUES ('last')\")\n_tick()",
        message="last",
        header=TICK,
    )
    return project


def point_at(project: ProjectDir, url: str) -> None:
    (project.root / "distill.toml").write_text(f'script_location = "migrations"\nurl = "{url}"\n')
    project.url = url


def snapshot(url: str) -> dict[str, Any]:
    """Schema, rows and version rows: what a clean run and a resumed run must share."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        shape: dict[str, Any] = {}
        with engine.connect() as conn:
            for table in sorted(inspector.get_table_names()):
                if table == "distill_history":
                    continue
                columns = [
                    (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
                ]
                indexes = sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in inspector.get_indexes(table)
                )
                # Not the ids: InnoDB does not give back the id of a rolled-back insert.
                values = ", ".join(c[0] for c in columns if c[0] != "id") or "COUNT(*)"
                rows = sorted(
                    map(tuple, conn.exec_driver_sql(f"SELECT {values} FROM {table}")), key=repr
                )
                shape[table] = (columns, indexes, rows)
        return shape
    finally:
        engine.dispose()


def history(url: str) -> list[tuple[str, str, str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = "SELECT revision, direction, status FROM distill_history ORDER BY id"
            return [tuple(row) for row in conn.exec_driver_sql(query)]
    finally:
        engine.dispose()


def start_upgrade(
    project: ProjectDir, marker: Path, hold: int | None = None
) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "DISTILL_URL"}
    env["KILL_MARKER"] = str(marker)
    if hold is not None:
        env["KILL_HOLD"] = str(hold)
    return subprocess.Popen(
        [*DISTILL, "-q", "upgrade", "head"],
        cwd=project.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def ticks(marker: Path) -> int:
    try:
        return int(marker.read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def kill_after(proc: subprocess.Popen[str], marker: Path, operations: int, delay: float) -> None:
    deadline = time.monotonic() + 60
    while ticks(marker) < operations and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    marker.unlink(missing_ok=True)


def scratch(dialect_name: str, tmp_path: Path, name: str) -> tuple[str, Any]:
    if dialect_name == "sqlite":
        return f"sqlite:///{tmp_path / name}.db", lambda: None
    return create_scratch_database(dialect_name, tmp_path)


def test_ten_sigkills_each_resume_unattended(
    dialect_name: str, db_url: str, tmp_path: Path
) -> None:
    project = build_project(tmp_path / "proj", db_url)
    clean = project.cli("-q", "upgrade", "head")
    assert clean.returncode == 0, clean.stderr
    expected = snapshot(db_url)
    assert expected["distill_version"][2] == [("bbbb00000003",)]
    rng = random.Random(f"kill-resume-{dialect_name}")
    marker = tmp_path / "ticks"
    outcomes = []
    for trial in range(TRIALS):
        url, drop = scratch(dialect_name, tmp_path, f"trial{trial}")
        try:
            point_at(project, url)
            operations, delay = rng.randint(1, OPERATIONS), rng.uniform(0, MAX_DELAY)
            kill_after(start_upgrade(project, marker), marker, operations, delay)
            rerun = project.cli("upgrade", "head")
            outcomes.append((trial, operations, round(delay, 3), rerun.returncode, rerun.stderr))
            assert rerun.returncode == 0, outcomes
            assert "error" not in rerun.stderr, outcomes
            assert snapshot(url) == expected, (trial, operations, delay)
            done = [row for row in history(url) if row[1] == "upgrade"]
            assert sorted(done) == [(f"bbbb0000000{i}", "upgrade", "done") for i in (1, 2, 3)], done
        finally:
            drop()


@pytest.fixture
def killed_at_statement_6(db_url: str, tmp_path: Path) -> ProjectDir:
    """A project whose 'many' revision was killed while operation 6 held (MariaDB)."""
    project = build_project(tmp_path / "proj", db_url)
    marker = tmp_path / "ticks"
    proc = start_upgrade(project, marker, hold=1 + 6)  # 1: the tick of the first revision
    kill_after(proc, marker, 1 + 6, 0)
    return project


def file_of(project: ProjectDir, revision: str) -> Path:
    return next(project.versions.glob(f"{revision}_*.py"))


@pytest.mark.parametrize("dialect_name", ["mariadb"], indirect=True)
def test_a_file_changed_before_the_kill_point_is_refused_and_nothing_changes(
    killed_at_statement_6: ProjectDir,
) -> None:
    project = killed_at_statement_6
    path = file_of(project, "bbbb00000002")
    original = path.read_text()
    # The second table's column `a` becomes a BIGINT: statement 5 is no longer what ran.
    path.write_text(
        original.replace(
            'op.create_table("t1", sa.Column("id", sa.Integer, primary_key=True), '
            'sa.Column("a", sa.Integer))',
            'op.create_table("t1", sa.Column("id", sa.Integer, primary_key=True), '
            'sa.Column("a", sa.BigInteger))',
        )
    )
    assert path.read_text() != original
    before = (snapshot(project.url), history(project.url))
    refused = project.cli("upgrade", "head")
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("distill: error: "), refused.stderr
    assert str(path) in lines[0] and "statement 5 now differs" in lines[0], lines[0]
    assert "Traceback" not in refused.stderr
    assert (snapshot(project.url), history(project.url)) == before

    path.write_text(original)  # as the message says: put the file back, run again
    resumed = project.cli("upgrade", "head")
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed the upgrade of revision bbbb00000002" in resumed.stderr
    assert snapshot(project.url)["t1"][2] == [(1, "row 1")]


@pytest.mark.parametrize("dialect_name", ["mariadb"], indirect=True)
def test_a_file_changed_after_the_kill_point_resumes(killed_at_statement_6: ProjectDir) -> None:
    project = killed_at_statement_6
    path = file_of(project, "bbbb00000002")
    path.write_text(path.read_text().replace("'row 4'", "'row four'"))
    resumed = project.cli("upgrade", "head")
    assert resumed.returncode == 0, resumed.stderr
    assert snapshot(project.url)["t4"][2] == [(4, "row four")]
    assert [row[2] for row in history(project.url)] == ["done", "done", "done"]


@pytest.mark.parametrize("dialect_name", ["mariadb"], indirect=True)
def test_an_alembic_project_after_a_kill_is_told_what_to_do(db_url: str, tmp_path: Path) -> None:
    """No history table in an Alembic project: nothing to resume from, so a clear error."""
    from tests.alembic_projects import alembic_init, edit_ini

    root = tmp_path / "alembic_proj"
    alembic_init(root)
    (root / "alembic").rename(root / "migrations")
    edit_ini(root / "alembic.ini", sqlalchemy__url=db_url, script_location="%(here)s/migrations")
    project = build_project(root, db_url)
    (root / "distill.toml").unlink()
    for path in project.versions.glob("bbbb*.py"):
        path.write_text(
            path.read_text().replace("from distill import op", "from alembic import op")
        )
    marker = tmp_path / "ticks"
    kill_after(start_upgrade(project, marker, hold=1 + 6), marker, 1 + 6, 0)
    rerun = project.cli("upgrade", "head")
    assert rerun.returncode == 1
    lines = rerun.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "distill: error: upgrade of revision bbbb00000002"
    )
    assert "already exists" in lines[0] and "if an earlier run of it stopped partway" in lines[0]
    assert "distill stamp" in lines[0]


def test_a_history_table_from_before_resuming_keeps_working(db_url: str, tmp_path: Path) -> None:
    """A distill_history made without the progress column: MariaDB gets it, others need not."""
    from distill.runtime.version import VersionTables

    old = sa.MetaData()
    current = VersionTables("distill_version", "distill_history", None).history
    assert current is not None
    sa.Table("distill_history", old, *(c._copy() for c in current.columns if c.name != "progress"))
    engine = sa.create_engine(db_url)
    try:
        old.create_all(engine)
    finally:
        engine.dispose()
    project = build_project(tmp_path / "proj", db_url)
    done = project.cli("upgrade", "head")
    assert done.returncode == 0, done.stderr
    assert [row[2] for row in history(db_url)] == ["done", "done", "done"]
    engine = sa.create_engine(db_url)
    try:
        columns = {c["name"] for c in sa.inspect(engine).get_columns("distill_history")}
    finally:
        engine.dispose()
    assert ("progress" in columns) == (engine.dialect.name == "mysql")


@pytest.mark.parametrize("dialect_name", ["mariadb"], indirect=True)
def test_a_resumed_run_skips_a_bulk_insert_that_ran(db_url: str, tmp_path: Path) -> None:
    project = build_project(tmp_path / "proj", db_url)
    marker = tmp_path / "ticks"
    hold = 1 + 4 * 3 + 4 + 1  # after the bulk_insert into t3 and the next create_table
    kill_after(start_upgrade(project, marker, hold=hold), marker, hold, 0)
    resumed = project.cli("upgrade", "head")
    assert resumed.returncode == 0, resumed.stderr
    assert "after the 17 statement(s) that had run" in resumed.stderr
    assert sorted(snapshot(db_url)["t3"][2]) == [(3, "row 3"), (13, "row 13")]


@pytest.mark.parametrize("dialect_name", ["mariadb"], indirect=True)
@pytest.mark.parametrize(
    "commit",
    [
        'op.execute("INSERT INTO c (a) VALUES (1)")\nop.get_bind().commit()',
        'with op.get_context().autocommit_block():\n    op.execute("INSERT INTO c (a) VALUES (1)")',
    ],
    ids=["commit", "autocommit_block"],
)
def test_writes_the_revision_commits_itself_are_not_run_again(
    db_url: str, tmp_path: Path, commit: str
) -> None:
    project = make_project(tmp_path / "proj", db_url)
    project.add(
        "cccc00000001",
        None,
        'op.create_table("c", sa.Column("id", sa.Integer, primary_key=True), '
        'sa.Column("a", sa.Integer))\n'
        f"{commit}\n_tick()\n"
        'op.execute("INSERT INTO c (a) VALUES (2)")',
        header=TICK,
    )
    marker = tmp_path / "ticks"
    kill_after(start_upgrade(project, marker, hold=1), marker, 1, 0)
    resumed = project.cli("upgrade", "head")
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(snapshot(db_url)["c"][2]) == [(1,), (2,)]


@pytest.mark.parametrize("dialect_name", ["mariadb"], indirect=True)
def test_a_schema_changed_by_hand_after_the_kill_is_refused(
    killed_at_statement_6: ProjectDir,
) -> None:
    project = killed_at_statement_6
    engine = sa.create_engine(project.url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE by_hand (id INTEGER PRIMARY KEY)")
        before = (snapshot(project.url), history(project.url))
        refused = project.cli("upgrade", "head")
        assert refused.returncode == 1
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("distill: error: upgrade of revision ")
        assert "the schema has changed since then, not by this revision" in lines[0]
        assert (snapshot(project.url), history(project.url)) == before
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE by_hand")
    finally:
        engine.dispose()
    resumed = project.cli("upgrade", "head")
    assert resumed.returncode == 0, resumed.stderr


@pytest.mark.parametrize("dialect_name", ["mariadb"], indirect=True)
def test_a_revision_that_now_stops_before_the_kill_point_is_refused(
    killed_at_statement_6: ProjectDir,
) -> None:
    project = killed_at_statement_6
    path = file_of(project, "bbbb00000002")
    original = path.read_text()
    body = original.split("def upgrade():\n", 1)[1].split("\n\n\n", 1)[0]
    shortened = "\n".join(body.splitlines()[:6]) + "\n"  # three operations, each with its tick
    path.write_text(original.replace(body, shortened))
    refused = project.cli("upgrade", "head")
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "but it now produces only 3" in lines[0], refused.stderr
