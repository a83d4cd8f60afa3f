"""A corpus of user mistakes: each ends in one line ``distill: error: ...``, exit 1.

Every case runs the real ``distill`` process, so what is checked is exactly
what a person sees: one line on stderr naming what and where, no traceback,
no password, and nothing written — neither a file of the project nor a table
or row of its database (which holds a table with a row, and a version table
where the case says so).  The cases themselves are tables in tests/cli/bad_inputs/.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from distill.runtime.version import VersionTables
from tests.cli.bad_inputs import alembic_projects, cli, metadata, revisions, settings, urls
from tests.cli.bad_inputs.common import PASSWORD, Case
from tests.conftest import create_scratch_database, require_server
from tests.projects import DISTILL, ProjectDir, make_project

CASES: list[Case] = [
    *settings.CASES,
    *alembic_projects.CASES,
    *revisions.CASES,
    *urls.CASES,
    *metadata.CASES,
    *cli.CASES,
]


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.fixture(scope="session")
def alembic_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Alembic project made by ``alembic init`` once, copied for each Alembic case."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    root = tmp_path_factory.mktemp("alembic_template")
    config = AlembicConfig(file_=str(root / "alembic.ini"), stdout=io.StringIO())
    command.init(config, str(root / "migrations"))
    return root


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_user_error_is_one_line(case: Case, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = _case_database(case, tmp_path, request)
    p = _case_project(case, tmp_path / "proj", url, request)
    _seed(url, case)
    case.setup(p)
    files_before, database_before = _files(p.root), _database(url)

    env = {k: v for k, v in os.environ.items() if k != "DISTILL_URL"}
    done = subprocess.run(
        [*DISTILL, *case.args],
        cwd=p.root,
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, **case.env},
    )

    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("distill: error: "), done.stderr
    assert case.expect in lines[0], lines[0]
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    assert PASSWORD not in output, "a password was printed"
    assert _files(p.root) == files_before, "an error must leave the files as they were"
    database_after = _database(url)
    changed = sorted(
        name
        for name in {*database_before, *database_after}
        if database_before.get(name) != database_after.get(name)
    )
    assert not changed, f"an error must leave the database as it was; changed: {changed}"


def _case_database(case: Case, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if case.server == "sqlite":
        return f"sqlite:///{tmp_path / 'proj' / 'app.db'}"
    require_server(case.server)
    url, drop = create_scratch_database(case.server, tmp_path)
    request.addfinalizer(drop)  # type: ignore[arg-type]
    if case.server == "postgresql":  # trust authentication: the password is carried, not checked
        url = url.replace("postgres@", f"postgres:{PASSWORD}@", 1)
    return url


def _case_project(case: Case, root: Path, url: str, request: pytest.FixtureRequest) -> ProjectDir:
    if case.flavour == "distill":
        p = make_project(root, url)
        (p.versions / ".gitkeep").write_text("")
        return p
    template: Path = request.getfixturevalue("alembic_template")
    shutil.copytree(template, root)
    ini = root / "alembic.ini"
    text = re.sub(
        r"(?m)^script_location = .*$", "script_location = %(here)s/migrations", ini.read_text()
    )
    ini.write_text(text.replace("driver://user:pass@localhost/dbname", url.replace("%", "%%")))
    (root / "migrations" / "versions").mkdir(exist_ok=True)
    (root / "migrations" / "versions" / ".gitkeep").write_text("")
    return ProjectDir(root, url)


def _seed(url: str, case: Case) -> None:
    """A table with a row, and the bookkeeping tables at ``case.db_at`` unless it is None."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE keep_me (id INTEGER PRIMARY KEY, note VARCHAR(20))")
            conn.exec_driver_sql("INSERT INTO keep_me VALUES (1, 'untouched')")
            if case.db_at is not None:
                tables = (
                    VersionTables("distill_version", "distill_history", None)
                    if case.flavour == "distill"
                    else VersionTables("alembic_version", None, None)
                )
                tables.version.metadata.create_all(conn)
                if case.db_at:
                    conn.execute(tables.version.insert().values(version_num=case.db_at))
    finally:
        engine.dispose()


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(f.relative_to(root)): f.read_bytes()
        for f in sorted(root.rglob("*"))
        if f.is_file() and "__pycache__" not in f.parts and f.name != "app.db"
    }


def _database(url: str) -> dict[str, object]:
    """Every table and view of the database with its columns and rows."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            found: dict[str, object] = {"views": sorted(inspector.get_view_names())}
            for name in sorted(inspector.get_table_names()):
                columns = [c["name"] for c in inspector.get_columns(name)]
                rows = [
                    tuple(row)
                    for row in conn.execute(sa.select(sa.text("*")).select_from(sa.table(name)))
                    if not _records_a_failure(name, columns, tuple(row))
                ]
                found[name] = (columns, sorted(rows, key=repr))
            return found
    finally:
        engine.dispose()


def _records_a_failure(table: str, columns: list[str], row: tuple[object, ...]) -> bool:
    """A history row of the failed attempt: where DDL commits at once (MariaDB) the
    history table keeps it on purpose, as the record of what was tried."""
    return table.endswith("_history") and row[columns.index("status")] == "failed"


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 250
    assert len({c.name for c in CASES}) == len(CASES), "case names must be distinct"
    assert len({(c.args, c.expect, c.name) for c in CASES}) == len(CASES)
