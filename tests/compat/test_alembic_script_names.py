"""What a revision script reads from ``alembic`` under Distill, beside Alembic 1.20.

Real scripts read more than ``op.*``: ``alembic.__version__`` to choose a code
path, ``op.get_context()``'s attributes (the version table, the dialect, the
connection, the revisions the database is at), and helper modules of the
project do ``from alembic import op`` themselves.  Each test writes an Alembic
project (``alembic init``) whose revisions write what they read into a table,
runs it with Alembic on one database and with Distill on another, and compares
the two tables.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from distill.scripts import alembic_modules
from tests.alembic_projects import (
    alembic_init,
    edit_ini,
    replace_once,
    require_success,
    revision_script,
    run_alembic,
    run_distill,
)
from tests.conftest import create_scratch_database

FIRST, SECOND = "1a2b3c4d5e6f", "2b3c4d5e6f7a"

# Records "revision.prefix.name" = value rows into the table "seen" (made by the first revision).
RECORD = """
def record(prefix, **values):
    seen = sa.table("seen", sa.column("k", sa.String), sa.column("v", sa.String))
    rows = [{"k": f"{revision}.{prefix}.{k}", "v": str(v)} for k, v in sorted(values.items())]
    op.bulk_insert(seen, rows)
"""
CREATE_SEEN = (
    'op.create_table("seen", sa.Column("k", sa.String(100), primary_key=True), '
    'sa.Column("v", sa.String(200)))'
)


@pytest.fixture
def two_databases(dialect_name: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A database for Alembic and one for Distill."""
    urls, drops = [], []
    try:
        for name in ("alembic", "distill"):
            (tmp_path / f"db-{name}").mkdir()
            url, drop = create_scratch_database(dialect_name, tmp_path / f"db-{name}")
            urls.append(url)
            drops.append(drop)
        yield urls[0], urls[1]
    finally:
        for drop in drops:
            drop()  # type: ignore[operator]


def make_project(
    root: Path, url: str, revisions: dict[str, str], files: dict[str, str], configure: str
) -> None:
    alembic_init(root)
    edit_ini(root / "alembic.ini", sqlalchemy__url=url.replace("%", "%%"))
    if configure:
        env_py = root / "alembic" / "env.py"
        online = "connection=connection, target_metadata=target_metadata"
        replace_once(env_py, online, f"{online}, {configure}")
        replace_once(
            env_py,
            "target_metadata=target_metadata,\n",
            f"target_metadata=target_metadata, {configure},\n",
        )
    for name, text in revisions.items():
        (root / "alembic" / "versions" / name).write_text(text)
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)


def seen(url: str) -> dict[str, str]:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(sa.text("SELECT k, v FROM seen")).all())  # type: ignore[arg-type]
    finally:
        engine.dispose()


def side_by_side(
    tmp_path: Path,
    urls: tuple[str, str],
    revisions: dict[str, str],
    files: dict[str, str] | None = None,
    commands: tuple[tuple[str, ...], ...] = (("upgrade", "head"),),
    configure: str = "",
) -> tuple[dict[str, str], dict[str, str]]:
    """What the scripts recorded under Alembic, then under Distill.

    ``configure``: more keyword arguments for env.py's ``context.configure()``.
    """
    found = []
    for tool, url in zip(("alembic", "distill"), urls, strict=True):
        root = tmp_path / tool
        make_project(root, url, revisions, files or {}, configure)
        outcome = (run_alembic if tool == "alembic" else run_distill)(root, *commands)
        require_success(outcome, " then ".join(" ".join(c) for c in commands))
        found.append(seen(url))
    return found[0], found[1]


def two_revisions(first_body: str, second_body: str, imports: str = "") -> dict[str, str]:
    return {
        f"{FIRST}_first.py": revision_script(
            FIRST, None, "first", f"{CREATE_SEEN}\n{first_body}", "pass",
            imports=imports + RECORD,
        ),
        f"{SECOND}_second.py": revision_script(
            SECOND, FIRST, "second", second_body, second_body.replace('"up', '"down'),
            imports=imports + RECORD,
        ),
    }  # fmt: skip


# -- item 4: alembic.__version__ ------------------------------------------------

VERSION_BODY = 'record("up", version=alembic.__version__, imported=__version__)'


def test_alembic_version_in_scripts(tmp_path: Path, two_databases: tuple[str, str]) -> None:
    revisions = two_revisions(
        VERSION_BODY, VERSION_BODY, imports="import alembic\nfrom alembic import __version__\n"
    )
    alembic, distill = side_by_side(tmp_path, two_databases, revisions)
    assert alembic[f"{SECOND}.up.version"] == importlib.metadata.version("alembic")
    assert distill == alembic


def test_alembic_version_without_alembic_is_the_one_distill_follows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert alembic_modules.package.__version__ == alembic_modules.COMPATIBLE_ALEMBIC_VERSION


# -- item 5: op.get_context() --------------------------------------------------

CONTEXT_BODY = """
ctx = op.get_context()
record(
    "up",
    version_table=ctx.version_table,
    version_table_schema=ctx.version_table_schema,
    dialect=ctx.dialect.name,
    impl_dialect=ctx.impl.dialect.name,
    bind_is_the_connection=ctx.bind is op.get_bind(),
    connection_is_the_connection=ctx.connection is op.get_bind(),
    impl_bind_is_the_connection=ctx.impl.bind is op.get_bind(),
    as_sql=(ctx.as_sql, ctx.opts["as_sql"], ctx.impl.as_sql),
    current_revision=ctx.get_current_revision(),
    current_heads=ctx.get_current_heads(),
)
with ctx.autocommit_block():
    record("up.autocommit", dialect=op.get_context().dialect.name)
"""


@pytest.mark.parametrize("version_table", [None, "custom_version"])
def test_get_context_attributes(
    tmp_path: Path, two_databases: tuple[str, str], version_table: str | None
) -> None:
    revisions = two_revisions(CONTEXT_BODY, CONTEXT_BODY)
    configure = f"version_table={version_table!r}" if version_table else ""
    commands = (("upgrade", "head"), ("downgrade", "-1"))
    alembic, distill = side_by_side(tmp_path, two_databases, revisions, None, commands, configure)
    assert alembic[f"{SECOND}.up.current_revision"] == FIRST
    assert alembic[f"{SECOND}.down.current_heads"] == repr((SECOND,))
    assert distill == alembic


STATIC_BODY = """
ctx = op.get_context()
ctx.impl.static_output(
    f"-- {revision} sees heads {ctx.get_current_heads()!r}, as_sql {ctx.as_sql}"
)
"""


def static_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if " sees heads " in line]


@pytest.mark.parametrize(
    "command",
    [("upgrade", "head"), ("upgrade", "head", "--sql"), ("upgrade", f"{FIRST}:head", "--sql")],
    ids=["online", "sql", "sql-from-first"],
)
def test_static_output_and_heads_online_and_with_sql(
    tmp_path: Path, two_databases: tuple[str, str], command: tuple[str, ...]
) -> None:
    revisions = two_revisions(STATIC_BODY, STATIC_BODY)
    outcomes = []
    for tool, url in zip(("alembic", "distill"), two_databases, strict=True):
        make_project(tmp_path / tool, url, revisions, {}, "")
        outcome = (run_alembic if tool == "alembic" else run_distill)(tmp_path / tool, command)
        require_success(outcome, " ".join(command))
        outcomes.append(static_lines(outcome.stdout))
    alembic, distill = outcomes
    assert alembic, "Alembic printed none of the scripts' static output"
    assert distill == alembic


# -- item 13: helper modules of the project say "from alembic import op" ---------

HELPERS = {
    "migration_helpers/__init__.py": "from .columns import add_flag\n",
    "migration_helpers/columns.py": """
import sqlalchemy as sa
from alembic import op


def add_flag(table):
    op.add_column(table, sa.Column("flag", sa.Integer(), nullable=True))
    op.get_bind().execute(sa.text(f"UPDATE {table} SET flag = 1"))
""",
    "migration_helpers/facts.py": """
import alembic
from alembic import context


def facts():
    return {
        "dialect": alembic.op.get_bind().dialect.name,
        "offline": context.is_offline_mode(),
        "current": alembic.op.get_context().get_current_revision(),
    }
""",
}


def test_helper_modules_get_distills_op(tmp_path: Path, two_databases: tuple[str, str]) -> None:
    revisions = two_revisions(
        'record("up", **facts())',
        'add_flag("seen")\nrecord("up", **facts())',
        imports=(
            "from migration_helpers import add_flag\nfrom migration_helpers.facts import facts\n"
        ),
    )
    alembic, distill = side_by_side(tmp_path, two_databases, revisions, HELPERS)
    assert alembic[f"{SECOND}.up.current"] == FIRST
    assert distill == alembic


# Distill's CLI in a process where "import alembic" fails, as without Alembic installed.
WITHOUT_ALEMBIC = (
    "import sys; sys.modules['alembic'] = None; from distill.cli import main; "
    "sys.exit(main(sys.argv[1:]))"
)


def test_helper_modules_without_alembic_installed(tmp_path: Path, db_url: str) -> None:
    revisions = two_revisions(
        'record("up", **facts())',
        'add_flag("seen")\nrecord("up", **facts())',
        imports=(
            "from migration_helpers import add_flag\nfrom migration_helpers.facts import facts\n"
        ),
    )
    make_project(tmp_path / "project", db_url, revisions, HELPERS, "")
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_ALEMBIC, "upgrade", "head"],
        cwd=tmp_path / "project",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = seen(db_url)
    assert rows[f"{SECOND}.up.current"] == FIRST
    assert rows[f"{SECOND}.up.dialect"] == sa.make_url(db_url).get_dialect().name
