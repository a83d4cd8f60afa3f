"""env.py runs for real: the migrations run inside its ``context.run_migrations()``.

Each case runs one Alembic project (made by ``alembic init``, env.py edited as
real projects edit it) through real Alembic 1.20 and through Distill, each on
a database of its own, and compares what they leave: tables (and in which
schema), rows the revisions wrote, version rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.alembic_projects import alembic_init, edit_ini
from tests.conftest import create_scratch_database, require_server
from tests.projects import DISTILL

ONLINE_RUN = """\
    with connectable.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata
        )

        with context.begin_transaction():
            context.run_migrations()
"""


def _revision(rev: str, down: str | None, upgrade: str) -> str:
    return (
        f'"""{rev}\n\nRevision ID: {rev}\nRevises: {down or ""}\n"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n\n\n"
        f"revision = {rev!r}\ndown_revision = {down!r}\n"
        "branch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade():\n{textwrap.indent(textwrap.dedent(upgrade).strip(), '    ')}\n\n\n"
        "def downgrade():\n    pass\n"
    )


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[Callable[[str], tuple[str, str]]]:
    """Two fresh databases of a kind, one for each tool: (alembic's URL, Distill's URL)."""
    drops: list[object] = []

    def make(kind: str) -> tuple[str, str]:
        require_server(kind)
        urls = []
        for tool in ("alembic", "distill"):
            folder = tmp_path / f"db_{tool}"
            folder.mkdir(exist_ok=True)
            url, drop = create_scratch_database(kind, folder)
            urls.append(url)
            drops.append(drop)
        return urls[0], urls[1]

    yield make
    for drop in drops:
        drop()  # type: ignore[operator]


def make_projects(
    tmp_path: Path,
    urls: tuple[str, str],
    revisions: dict[str, str],
    *,
    online: str | None = None,
    prelude: str = "",
    template: str = "generic",
    helpers: dict[str, str] | None = None,
) -> tuple[Path, Path]:
    """The same project twice: env.py's online run replaced by ``online`` (its
    ``connectable`` in scope), ``prelude`` put before the run functions."""
    roots = []
    for tool, url in zip(("alembic", "distill"), urls, strict=True):
        root = tmp_path / tool
        alembic_init(root, template=template)
        edit_ini(root / "alembic.ini", sqlalchemy__url=url.replace("%", "%%"))
        env = root / "alembic" / "env.py"
        text = env.read_text()
        if online is not None:
            assert ONLINE_RUN in text
            text = text.replace(ONLINE_RUN, textwrap.indent(textwrap.dedent(online), "    "))
        if prelude:
            anchor = "def run_migrations_offline"
            text = text.replace(anchor, textwrap.dedent(prelude) + "\n\n" + anchor)
        env.write_text(text)
        for name, source in revisions.items():
            (root / "alembic" / "versions" / f"{name}.py").write_text(source)
        for name, source in (helpers or {}).items():
            (root / name).write_text(textwrap.dedent(source))
        roots.append(root)
    return roots[0], roots[1]


def run(tool: str, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "alembic"] if tool == "alembic" else DISTILL
    env = {k: v for k, v in os.environ.items() if k != "DISTILL_URL"}
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [*command, *args], cwd=root, env=env, capture_output=True, text=True, timeout=180
    )


def both(roots: tuple[Path, Path], *args: str) -> tuple[str, str]:
    """Run the command through both tools; both must succeed. Their stderr."""
    said = []
    for tool, root in zip(("alembic", "distill"), roots, strict=True):
        done = run(tool, root, *args)
        assert done.returncode == 0, f"{tool}: {done.stderr}"
        said.append(done.stderr)
    return said[0], said[1]


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(sql)]
    finally:
        engine.dispose()


def tables_by_schema(url: str, schemas: tuple[str | None, ...]) -> dict[str | None, set[str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            found = {s: set(inspector.get_table_names(schema=s)) for s in schemas}
    finally:
        engine.dispose()
    return {s: names - {"distill_history"} for s, names in found.items()}


# -- what env.py wraps around the run ----------------------------------------------------

APP_CONTEXT = """\
    import contextlib
    import app_state

    @contextlib.contextmanager
    def app_context():
        app_state.current.append("the app")
        try:
            yield
        finally:
            app_state.current.pop()
"""

NEEDS_APP = _revision(
    "r1",
    None,
    """
    import app_state
    if not app_state.current:
        raise RuntimeError("outside the application context")
    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("owner", sa.String(20)))
    op.execute(f"INSERT INTO notes (id, owner) VALUES (1, '{app_state.current[-1]}')")
    """,
)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "mariadb"])
def test_revisions_run_inside_the_application_context_env_py_opens(
    tmp_path: Path, databases: Callable[[str], tuple[str, str]], kind: str
) -> None:
    urls = databases(kind)
    roots = make_projects(
        tmp_path,
        urls,
        {"r1": NEEDS_APP},
        prelude=APP_CONTEXT,
        online="""\
        with connectable.connect() as connection, app_context():
            context.configure(connection=connection, target_metadata=target_metadata)
            with context.begin_transaction():
                context.run_migrations()
        """,
        helpers={"app_state.py": "current = []\n"},
    )
    both(roots, "upgrade", "head")
    for url in urls:
        assert rows(url, "SELECT id, owner FROM notes") == [(1, "the app")]
        assert rows(url, "SELECT version_num FROM alembic_version") == [("r1",)]


SET_ON_CONNECTION = """\
    with connectable.connect() as connection:
        connection.exec_driver_sql("SET search_path TO tenant_a")
        connection.commit()
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
"""
SET_THROUGH_CONTEXT = """\
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        context.execute("SET search_path TO tenant_a")
        with context.begin_transaction():
            context.run_migrations()
"""


@pytest.mark.parametrize("online", [SET_ON_CONNECTION, SET_THROUGH_CONTEXT])
def test_search_path_set_by_env_py_places_tables_and_version_rows(
    tmp_path: Path, databases: Callable[[str], tuple[str, str]], online: str
) -> None:
    """A schema-per-tenant env.py: ``SET search_path`` before the run; unqualified
    tables, the version table included, land in the tenant's schema."""
    urls = databases("postgresql")
    for url in urls:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE SCHEMA tenant_a")
        engine.dispose()
    first = _revision("r1", None, 'op.create_table("items", sa.Column("id", sa.Integer))')
    second = _revision("r2", "r1", "pass")
    roots = make_projects(
        tmp_path,
        urls,
        {"r1": first, "r2": second},
        online=online,
        prelude="""\
        import sqlalchemy as sa
        target_metadata = sa.MetaData()
        sa.Table("items", target_metadata, sa.Column("id", sa.Integer))
        """,
    )
    both(roots, "upgrade", "r1")
    both(roots, "stamp", "r2")  # stamp runs env.py too: the row moves in tenant_a
    found = [tables_by_schema(url, ("public", "tenant_a")) for url in urls]
    assert found[0] == found[1] == {"public": set(), "tenant_a": {"items", "alembic_version"}}
    for url in urls:
        assert rows(url, "SELECT version_num FROM tenant_a.alembic_version") == [("r2",)]
    # check compares inside env.py too: the tenant's version rows and tables, no drift.
    both(roots, "check")


def test_a_begin_mode_pragma_and_lock_of_the_projects_own(
    tmp_path: Path, databases: Callable[[str], tuple[str, str]]
) -> None:
    """SQLite: env.py turns foreign keys on for its run; Distill still runs the
    revisions, under its own transactions, and env.py's code after the run sees
    its connection as it left it."""
    urls = databases("sqlite")
    first = _revision(
        "r1",
        None,
        """
        op.create_table("owners", sa.Column("id", sa.Integer, primary_key=True))
        op.create_table("pets", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("owner_id", sa.Integer, sa.ForeignKey("owners.id")))
        op.execute("INSERT INTO owners (id) VALUES (1)")
        op.execute("INSERT INTO pets (id, owner_id) VALUES (1, 1)")
        """,
    )
    roots = make_projects(
        tmp_path,
        urls,
        {"r1": first},
        online="""\
        with connectable.connect() as connection:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            context.configure(connection=connection, target_metadata=target_metadata)
            with context.begin_transaction():
                context.run_migrations()
            connection.exec_driver_sql("CREATE TABLE after_run (at TEXT)")
            connection.commit()
        """,
    )
    both(roots, "upgrade", "head")
    for url in urls:
        assert rows(url, "SELECT count(*) FROM pets") == [(1,)]
        assert rows(url, "SELECT count(*) FROM after_run") == [(0,)]


# -- the project's own async driver ------------------------------------------------------

FORMAT_PERCENT = _revision(
    "r1",
    None,
    """
    bind = op.get_bind()
    op.create_table("drivers", sa.Column("name", sa.String(40)))
    op.execute(f"INSERT INTO drivers (name) VALUES ('{bind.dialect.driver}')")
    if bind.dialect.name == "postgresql":
        # asyncpg takes '%' as it is; psycopg would read '%I' as a placeholder.
        quoted = bind.exec_driver_sql("SELECT format('%I.%I', 'a b', 'c')").scalar()
        op.execute(sa.text("INSERT INTO drivers (name) VALUES (:q)").bindparams(q=quoted))
    """,
)

_ASYNC = {
    "sqlite": ("sqlite://", "sqlite+aiosqlite://", "aiosqlite"),
    "postgresql": ("postgresql+psycopg://", "postgresql+asyncpg://", "asyncpg"),
}


@pytest.mark.parametrize("kind", sorted(_ASYNC))
def test_the_async_template_runs_on_the_projects_async_driver(
    tmp_path: Path, databases: Callable[[str], tuple[str, str]], kind: str
) -> None:
    plain, asyncio_form, driver = _ASYNC[kind]
    pytest.importorskip(driver)
    urls = databases(kind)
    roots = make_projects(
        tmp_path,
        tuple(u.replace(plain, asyncio_form) for u in urls),  # type: ignore[arg-type]
        {"r1": FORMAT_PERCENT},
        template="async",
    )
    both(roots, "upgrade", "head")
    expected = [(driver,)] + ([('"a b".c',)] if kind == "postgresql" else [])
    for url in urls:
        assert rows(url, "SELECT name FROM drivers") == expected
        assert rows(url, "SELECT version_num FROM alembic_version") == [("r1",)]


def test_a_missing_async_driver_falls_back_to_the_synchronous_one_and_says_so(
    tmp_path: Path, databases: Callable[[str], tuple[str, str]]
) -> None:
    """aiomysql is not installed here: Alembic cannot run at all; Distill runs on
    PyMySQL and says so (deliberately better, docs/alembic.md)."""
    try:
        import aiomysql  # noqa: F401

        pytest.skip("aiomysql is installed")
    except ImportError:
        pass
    urls = databases("mariadb")
    asyncio_urls = tuple(u.replace("mysql+pymysql://", "mysql+aiomysql://") for u in urls)
    alembic_root, distill_root = make_projects(
        tmp_path,
        asyncio_urls,
        {"r1": FORMAT_PERCENT},
        template="async",  # type: ignore[arg-type]
    )
    refused = run("alembic", alembic_root, "upgrade", "head")
    assert refused.returncode == 1 and "No module named 'aiomysql'" in refused.stderr
    done = run("distill", distill_root, "upgrade", "head")
    assert done.returncode == 0, done.stderr
    assert "the project's asyncio driver is not installed (aiomysql)" in done.stderr
    assert "migrating through mysql+pymysql instead" in done.stderr
    assert rows(urls[1], "SELECT name FROM drivers") == [("pymysql",)]


# -- what is refused ---------------------------------------------------------------------


def test_an_env_py_that_never_runs_the_migrations_is_an_error(
    tmp_path: Path, databases: Callable[[str], tuple[str, str]]
) -> None:
    urls = databases("sqlite")
    first = _revision("r1", None, 'op.create_table("items", sa.Column("id", sa.Integer))')
    _, root = make_projects(
        tmp_path,
        urls,
        {"r1": first},
        online="""\
        with connectable.connect() as connection:
            context.configure(connection=connection, target_metadata=target_metadata)
        """,
    )
    refused = run("distill", root, "upgrade", "head")
    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("distill: error: ") and "env.py returned without calling" in line
    assert not Path(urls[1].removeprefix("sqlite:///")).exists() or not rows(
        urls[1], "SELECT name FROM sqlite_master WHERE type = 'table'"
    )


def test_the_import_timeout_does_not_cut_the_migrations_short(
    tmp_path: Path, databases: Callable[[str], tuple[str, str]]
) -> None:
    urls = databases("sqlite")
    slow = _revision(
        "r1",
        None,
        'import time\ntime.sleep(2.5)\nop.create_table("t", sa.Column("id", sa.Integer))',
    )
    _, root = make_projects(tmp_path, urls, {"r1": slow})
    done = run("distill", root, "--timeout", "1", "upgrade", "head")
    assert done.returncode == 0, done.stderr
    assert rows(urls[1], "SELECT version_num FROM alembic_version") == [("r1",)]


def test_check_when_env_py_cannot_connect_still_compares_the_models(tmp_path: Path) -> None:
    """Alembic's check stops with the driver's error; Distill reads env.py's offline
    branch, compares models with migrations and says the database was not compared."""
    url = "postgresql+psycopg://app:s3cret-pw@127.0.0.1:1/app"
    first = _revision("r1", None, 'op.create_table("items", sa.Column("id", sa.Integer))')
    alembic_root, root = make_projects(
        tmp_path,
        (url, url),
        {"r1": first},
        prelude="""\
        import sqlalchemy as sa
        target_metadata = sa.MetaData()
        sa.Table("items", target_metadata, sa.Column("id", sa.Integer))
        sa.Table("extra", target_metadata, sa.Column("id", sa.Integer))
        """,
    )
    theirs = run("alembic", alembic_root, "check")
    assert theirs.returncode != 0 and "Connection refused" in theirs.stderr
    ours = run("distill", root, "check")
    assert ours.returncode == 1
    assert ours.stdout.splitlines() == [
        "models vs migrations: extra: table in models, not in migrations"
    ]
    assert "note: the database was not compared: cannot connect to " in ours.stderr
    assert "s3cret-pw" not in ours.stdout + ours.stderr
