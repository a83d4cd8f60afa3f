"""The runtime on real databases: transactions, version and history tables, locks."""

from __future__ import annotations

import hashlib
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from distill import commands
from distill.errors import LockTimeout, MigrationFailed
from tests.projects import DISTILL, ProjectDir, make_project


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def history_rows(url: str) -> list[tuple[str, str, str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.exec_driver_sql(
                    "SELECT revision, direction, status FROM distill_history ORDER BY id"
                )
            ]
    finally:
        engine.dispose()


@pytest.fixture
def proj(db_url: str, tmp_path: Path) -> ProjectDir:
    p = make_project(tmp_path / "proj", db_url)
    p.add(
        "aaaa00000001",
        None,
        'op.create_table("t1", sa.Column("id", sa.Integer, primary_key=True))',
        'op.drop_table("t1")',
        message="create t1",
    )
    p.add(
        "aaaa00000002",
        "aaaa00000001",
        'op.create_table("t2", sa.Column("id", sa.Integer, primary_key=True))',
        'op.drop_table("t2")',
        message="create t2",
    )
    p.add(
        "aaaa00000003",
        "aaaa00000002",
        'op.add_column("t2", sa.Column("name", sa.String(40)))',
        'op.drop_column("t2", "name")',
        message="add name",
    )
    return p


def test_upgrade_then_downgrade_step_by_step(proj: ProjectDir) -> None:
    project = proj.project()
    result = commands.upgrade(project, "head")
    assert result is not None
    assert result.before == () and result.after == ("aaaa00000003",)
    assert [s.revision.id for s in result.steps] == ["aaaa00000001", "aaaa00000002", "aaaa00000003"]
    assert {"t1", "t2", "distill_version", "distill_history"} <= tables(proj.url)
    assert [(c.id, c.is_head) for c in commands.current(project)] == [("aaaa00000003", True)]

    commands.downgrade(project, "-1")
    assert [c.id for c in commands.current(project)] == ["aaaa00000002"]
    commands.downgrade(project, "base")
    assert commands.current(project) == []
    assert {"t1", "t2"}.isdisjoint(tables(proj.url))
    assert history_rows(proj.url) == [
        ("aaaa00000001", "upgrade", "done"),
        ("aaaa00000002", "upgrade", "done"),
        ("aaaa00000003", "upgrade", "done"),
        ("aaaa00000003", "downgrade", "done"),
        ("aaaa00000002", "downgrade", "done"),
        ("aaaa00000001", "downgrade", "done"),
    ]


def test_history_records_checksum_user_and_timing(proj: ProjectDir) -> None:
    project = proj.project()
    commands.upgrade(project, "+1")
    lines, problem = commands.history(project, with_applied=True, indicate_current=True)
    assert problem is None
    applied = {line.revision.id: line.applied for line in lines}
    entry = applied["aaaa00000001"]
    assert entry is not None and applied["aaaa00000002"] is None
    path = next(proj.versions.glob("aaaa00000001_*.py"))
    assert entry.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry.os_user and entry.duration_ms is not None and entry.duration_ms >= 0
    assert [line.is_current for line in lines] == [False, False, True]


def test_nothing_to_do_is_not_an_error(proj: ProjectDir) -> None:
    project = proj.project()
    commands.upgrade(project, "head")
    again = commands.upgrade(project, "head")
    assert again is not None and again.steps == [] and again.after == ("aaaa00000003",)


def test_failing_revision_leaves_database_at_previous_revision(
    proj: ProjectDir, dialect_name: str
) -> None:
    proj.add(
        "aaaa00000004",
        "aaaa00000003",
        'op.create_table("t4", sa.Column("id", sa.Integer, primary_key=True))\n'
        'op.execute("INSERT INTO no_such_table VALUES (1)")',
        message="broken",
    )
    project = proj.project()
    with pytest.raises(MigrationFailed) as info:
        commands.upgrade(project, "head")
    message = str(info.value)
    assert "aaaa00000004" in message and "_broken.py" in message
    assert "no_such_table" in message  # the statement
    assert "\n" not in message
    assert [c.id for c in commands.current(project)] == ["aaaa00000003"]
    if dialect_name == "mariadb":
        assert "1 statement(s) of it already ran" in message and "CREATE TABLE t4" in message
        assert "t4" in tables(proj.url)
        assert history_rows(proj.url)[-1] == ("aaaa00000004", "upgrade", "failed")
    else:
        assert "nothing of it was applied, the database is still at aaaa00000003" in message
        assert "t4" not in tables(proj.url)
        assert all(row[0] != "aaaa00000004" for row in history_rows(proj.url))


def test_python_error_in_a_revision_names_its_line(proj: ProjectDir) -> None:
    path = proj.add("aaaa00000004", "aaaa00000003", "x = 1\nraise ValueError('boom')")
    with pytest.raises(MigrationFailed) as info:
        commands.upgrade(proj.project(), "head")
    assert f"raised ValueError: boom at {path}:" in str(info.value)


def test_one_transaction_for_all_when_not_per_migration(
    db_url: str, tmp_path: Path, dialect_name: str
) -> None:
    if dialect_name == "mariadb":
        pytest.skip("MariaDB has no transactional DDL")
    p = make_project(tmp_path / "p", db_url, "transaction_per_migration = false\n")
    p.add(
        "bbbb00000001", None, 'op.create_table("a", sa.Column("id", sa.Integer, primary_key=True))'
    )
    p.add("bbbb00000002", "bbbb00000001", 'op.execute("SELECT * FROM missing_table")')
    with pytest.raises(MigrationFailed) as info:
        commands.upgrade(p.project(), "head")
    # One transaction for the run: the message names where the rollback really went.
    assert "the database is still at base (empty)" in str(info.value)
    assert "a" not in tables(db_url)
    assert commands.current(p.project()) == []


def test_stamp_and_purge(proj: ProjectDir) -> None:
    project = proj.project()
    commands.stamp(project, "aaaa00000002")
    assert [c.id for c in commands.current(project)] == ["aaaa00000002"]
    assert "t1" not in tables(proj.url)  # nothing ran
    commands.stamp(project, "head")
    assert [c.id for c in commands.current(project)] == ["aaaa00000003"]
    commands.stamp(project, "base", purge=True)
    assert commands.current(project) == []
    directions = [row[1] for row in history_rows(proj.url)]
    assert directions == ["stamp", "unstamp", "stamp", "unstamp"]


def test_offline_sql_needs_no_database(tmp_path: Path) -> None:
    # Port 1 on loopback: nothing listens, so any connection attempt would fail.
    p = make_project(tmp_path / "p", "postgresql+psycopg://u:pw@127.0.0.1:1/db")
    p.add(
        "cccc00000001",
        None,
        'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))',
        'op.drop_table("t")',
    )
    p.add(
        "cccc00000002",
        "cccc00000001",
        'op.add_column("t", sa.Column("x", sa.Integer))',
        'op.drop_column("t", "x")',
    )
    out: list[str] = []
    commands.upgrade(p.project(), "head", sql=out.append)
    text = "\n".join(out)
    assert "CREATE TABLE distill_version" in text and "CREATE TABLE distill_history" in text
    assert text.count("BEGIN;") == 2 and text.count("COMMIT;") == 2
    assert "INSERT INTO distill_version (version_num) VALUES ('cccc00000001')" in text
    assert "UPDATE distill_version SET version_num='cccc00000002'" in text
    assert "ALTER TABLE t ADD COLUMN x INTEGER" in text

    down: list[str] = []
    commands.downgrade(p.project(), "head:base", sql=down.append)
    down_text = "\n".join(down)
    assert "ALTER TABLE t DROP COLUMN x" in down_text and "DROP TABLE t" in down_text
    assert "DELETE FROM distill_version WHERE" in down_text


@contextmanager
def _lock_held_elsewhere(proj: ProjectDir, dialect_name: str) -> Iterator[str]:
    """The migration lock, held by another session; yields how Distill names the holder."""
    holder = sa.create_engine(proj.url)
    handle = None
    try:
        with holder.connect() as conn:
            if dialect_name == "postgresql":
                from distill.runtime.lock import _PG_LOCK_CLASS, _pg_key

                conn.exec_driver_sql(
                    f"SELECT pg_advisory_lock({_PG_LOCK_CLASS}, {_pg_key('distill_version')})"
                )
                yield "backend pid"
            elif dialect_name == "mariadb":
                name = conn.exec_driver_sql("SELECT DATABASE()").scalar()
                conn.exec_driver_sql(f"SELECT GET_LOCK('distill:{name}.distill_version', 0)")
                yield "connection"
            else:
                import fcntl

                handle = open(sa.make_url(proj.url).database or "", "ab")  # noqa: SIM115
                fcntl.flock(handle, fcntl.LOCK_EX)
                yield "another process"
    finally:
        if handle is not None:
            handle.close()
        holder.dispose()


def test_lock_held_elsewhere_times_out_naming_the_holder(
    proj: ProjectDir, dialect_name: str
) -> None:
    (proj.root / "distill.toml").write_text(
        (proj.root / "distill.toml").read_text() + "lock_timeout = 1\n"
    )
    commands.upgrade(proj.project(), "+1")  # creates the database file and tables
    notices: list[str] = []
    with _lock_held_elsewhere(proj, dialect_name) as expected, pytest.raises(LockTimeout) as info:
        commands.upgrade(proj.project(), "head", notify=notices.append)
    assert expected in str(info.value) and "lock_timeout" in str(info.value)
    assert notices and notices[0].startswith("waiting for the migration lock")
    assert [c.id for c in commands.current(proj.project())] == ["aaaa00000001"]


def test_at_head_ten_upgrades_answer_at_once_without_the_lock(
    proj: ProjectDir, dialect_name: str
) -> None:
    """Ten replicas starting at once at head: none waits for the migration lock (held
    elsewhere the whole time); with work to do, the lock is still taken."""
    (proj.root / "distill.toml").write_text(
        (proj.root / "distill.toml").read_text() + "lock_timeout = 20\n"
    )
    commands.upgrade(proj.project(), "head")
    with _lock_held_elsewhere(proj, dialect_name):
        started = time.monotonic()
        procs = [
            subprocess.Popen([*DISTILL, "upgrade", "head"], cwd=proj.root, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(10)
        ]  # fmt: skip
        outcomes = [(p.wait(timeout=60), p.communicate()[1]) for p in procs]
        seconds = time.monotonic() - started
        assert all(code == 0 and "Nothing to do" in err for code, err in outcomes), outcomes
        print(f"\n[{dialect_name}] 10 concurrent 'upgrade head' at head: {seconds:.2f} s")
        assert seconds < 20  # the lock's timeout: none of them waited it out
        proj.add("aaaa00000004", "aaaa00000003")
        (proj.root / "distill.toml").write_text(
            (proj.root / "distill.toml")
            .read_text()
            .replace("lock_timeout = 20", "lock_timeout = 1")
        )
        with pytest.raises(LockTimeout):
            commands.upgrade(proj.project(), "head")


def test_eight_concurrent_upgrades_apply_each_revision_once(proj: ProjectDir) -> None:
    for i in range(4, 9):
        proj.add(
            f"aaaa0000000{i}",
            f"aaaa0000000{i - 1}",
            f'op.create_table("c{i}", sa.Column("id", sa.Integer, primary_key=True))\n'
            "import time; time.sleep(0.05)",
        )
    procs = [
        subprocess.Popen(
            [*DISTILL, "-q", "upgrade", "head"],
            cwd=proj.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outcomes = [(p.wait(timeout=180), p.stderr.read() if p.stderr else "") for p in procs]
    assert [code for code, _ in outcomes] == [0] * 8, outcomes
    upgrades = [row[0] for row in history_rows(proj.url) if row[1] == "upgrade"]
    assert sorted(upgrades) == [f"aaaa0000000{i}" for i in range(1, 9)]
    assert [c.id for c in commands.current(proj.project())] == ["aaaa00000008"]


def test_sigkill_during_upgrade_leaves_a_database_that_upgrades(
    proj: ProjectDir, tmp_path: Path
) -> None:
    marker = tmp_path / "started"
    proj.add(
        "aaaa00000004",
        "aaaa00000003",
        f"open({str(marker)!r}, 'w').close()\nimport time; time.sleep(60)\n"
        'op.create_table("t4", sa.Column("id", sa.Integer, primary_key=True))',
        message="slow",
    )
    proc = subprocess.Popen(
        [*DISTILL, "-q", "upgrade", "head"],
        cwd=proj.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the slow revision never started"
    proc.kill()
    proc.wait()
    # The second run must not sleep: make the slow revision quick, as a fix would.
    marker.unlink()
    path = next(proj.versions.glob("aaaa00000004_*.py"))
    path.write_text(path.read_text().replace("time.sleep(60)", "pass"))
    done = proj.cli("upgrade", "head")
    assert done.returncode == 0, done.stderr
    assert [c.id for c in commands.current(proj.project())] == ["aaaa00000004"]
    assert "t4" in tables(proj.url)
