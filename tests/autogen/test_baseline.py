"""``distill baseline``: adopting a database that ``create_all`` made, on each database.

The promise: afterwards the models, the migrations and the database agree
(``distill check`` finds nothing, and so does real Alembic's ``alembic check``
in an Alembic project), running it again changes nothing, and a fresh
database upgraded through the new revision is the same as ``create_all``'s.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.alembic_projects import alembic_init, edit_ini
from tests.conftest import create_scratch_database
from tests.projects import DISTILL, ProjectDir, make_project

MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })

class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200), unique=True)
    name: Mapped[str | None] = mapped_column(sa.String(50), index=True, server_default="x")

class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    total: Mapped[float] = mapped_column(sa.Numeric(10, 2))
"""


def _write_models(root: Path) -> None:
    (root / "app").mkdir(parents=True, exist_ok=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(MODELS)


def _create_all(root: Path, url: str) -> None:
    """Build the tables as the application itself would."""
    code = (
        "import sys, sqlalchemy as sa; sys.path.insert(0, sys.argv[2]); "
        "from app.models import Base; e = sa.create_engine(sys.argv[1]); "
        "Base.metadata.create_all(e); e.dispose()"
    )
    subprocess.run([sys.executable, "-c", code, url, str(root)], check=True)


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _version_rows(url: str, table: str = "distill_version") -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(table):
                return []
            return sorted(r[0] for r in conn.exec_driver_sql(f"SELECT version_num FROM {table}"))
    finally:
        engine.dispose()


def _schema(url: str) -> dict[str, object]:
    """What a person would compare: columns, keys, indexes and uniques per table."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        own = {"distill_version", "distill_history", "alembic_version"}
        return {
            name: (
                [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)],
                inspector.get_pk_constraint(name)["constrained_columns"],
                sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(name)),
                sorted(
                    (u["name"], tuple(u["column_names"]))
                    for u in inspector.get_unique_constraints(name)
                ),
                sorted(
                    (f["name"], tuple(f["constrained_columns"]), f["referred_table"])
                    for f in inspector.get_foreign_keys(name)
                ),
            )
            for name in sorted(set(inspector.get_table_names()) - own)
        }
    finally:
        engine.dispose()


@pytest.fixture
def shop(tmp_path: Path, db_url: str) -> ProjectDir:
    project = make_project(tmp_path / "proj", db_url, 'metadata = "app.models:Base.metadata"\n')
    _write_models(project.root)
    return project


def test_baseline_adopts_a_create_all_database(
    shop: ProjectDir, dialect_name: str, tmp_path: Path
) -> None:
    _create_all(shop.root, shop.url)
    done = shop.cli("baseline", "-m", "adopt the schema")
    assert done.returncode == 0, done.stderr
    [path] = shop.versions.glob("*_adopt_the_schema.py")
    rev = path.name.split("_", 1)[0]
    assert done.stdout.strip() == f"Created migrations/versions/{path.name}"
    assert "(2 tables adopted); the models, the migrations and the database now agree" in (
        done.stderr
    )
    assert _version_rows(shop.url) == [rev]
    check = shop.cli("check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No differences" in check.stdout + check.stderr

    again = shop.cli("baseline", "-m", "adopt the schema")
    assert again.returncode == 0, again.stderr
    assert "Nothing to do: " in again.stderr and f"is at {rev}, the head" in again.stderr
    assert [p.name for p in shop.versions.glob("*.py")] == [path.name]
    assert _version_rows(shop.url) == [rev]

    # A fresh database built through the new revision is what create_all builds.
    fresh, drop = create_scratch_database(dialect_name, tmp_path / "fresh")
    (tmp_path / "fresh").mkdir(exist_ok=True)
    try:
        up = shop.cli("--url", fresh, "upgrade", "head")
        assert up.returncode == 0, up.stderr
        assert _schema(fresh) == _schema(shop.url)
    finally:
        drop()  # type: ignore[operator]


def test_a_second_database_is_stamped_at_the_existing_baseline(
    shop: ProjectDir, dialect_name: str, tmp_path: Path
) -> None:
    """The team's other environments: the revision exists, their database was made by
    create_all and has no version rows; baseline stamps it once it matches."""
    _create_all(shop.root, shop.url)
    assert shop.cli("baseline").returncode == 0
    [rev] = _version_rows(shop.url)
    (tmp_path / "other").mkdir()
    other, drop = create_scratch_database(dialect_name, tmp_path / "other")
    try:
        _create_all(shop.root, other)
        upgrade = shop.cli("--url", other, "upgrade", "head")
        assert upgrade.returncode == 1
        [line] = upgrade.stderr.splitlines()
        assert "already exists" in line and "adopt it with 'distill baseline'" in line
        assert _version_rows(other) == []
        done = shop.cli("--url", other, "baseline")
        assert done.returncode == 0, done.stderr
        assert f"at {rev}: its 2 tables are what the revisions build" in done.stderr
        assert _version_rows(other) == [rev]
        assert len(list(shop.versions.glob("*.py"))) == 1
    finally:
        drop()  # type: ignore[operator]


def test_baseline_refuses_a_database_the_models_do_not_describe(shop: ProjectDir) -> None:
    engine = sa.create_engine(shop.url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(200))")
    engine.dispose()
    done = shop.cli("baseline")
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("distill: error: the models and the database ")
    assert "orders: table in models, not in database" in line
    assert "users.name: column in models, not in database" in line
    assert list(shop.versions.glob("*.py")) == []
    assert _tables(shop.url) == {"users"}  # no version table either


def test_baseline_refuses_an_empty_database(shop: ProjectDir) -> None:
    done = shop.cli("baseline")
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert "has no tables to adopt; write the first revision with 'distill revision" in line
    assert list(shop.versions.glob("*.py")) == []
    assert _tables(shop.url) == set()


def test_baseline_refuses_a_database_that_is_migrated_already(shop: ProjectDir) -> None:
    shop.add(
        "aaaa00000001", None, 'op.create_table("t", sa.Column("id", sa.Integer, primary_key=True))'
    )
    shop.add("aaaa00000002", "aaaa00000001", 'op.add_column("t", sa.Column("x", sa.Integer))')
    assert shop.cli("upgrade", "aaaa00000001").returncode == 0
    done = shop.cli("baseline")
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert "is at aaaa00000001, not at the heads" in line and "distill upgrade head" in line
    assert _version_rows(shop.url) == ["aaaa00000001"]


def test_an_alembic_project_adopted_by_distill_satisfies_real_alembic(
    tmp_path: Path, db_url: str, dialect_name: str
) -> None:
    """The same adoption in an Alembic project: written from its script.py.mako, stamped in
    alembic_version, and real Alembic then sees no drift and upgrades a fresh database."""
    root = tmp_path / "alem"
    alembic_init(root)
    edit_ini(root / "alembic.ini", sqlalchemy__url=db_url.replace("%", "%%"))
    env_py = root / "alembic" / "env.py"
    env_py.write_text(
        env_py.read_text().replace(
            "target_metadata = None",
            f"import sys\nsys.path.insert(0, {str(root)!r})\nfrom app.models import Base\n"
            "target_metadata = Base.metadata",
        )
    )
    _write_models(root)
    _create_all(root, db_url)
    env = {k: v for k, v in os.environ.items() if k != "DISTILL_URL"}
    done = subprocess.run(
        [*DISTILL, "baseline", "-m", "baseline"], cwd=root, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    [path] = (root / "alembic" / "versions").glob("*_baseline.py")
    rev = path.name.split("_", 1)[0]
    assert "from alembic import op" in path.read_text()  # the project's own template
    assert _version_rows(db_url, "alembic_version") == [rev]
    alembic = [sys.executable, "-m", "alembic"]
    check = subprocess.run([*alembic, "check"], cwd=root, capture_output=True, text=True, env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    current = subprocess.run([*alembic, "current"], cwd=root, capture_output=True, text=True)
    assert f"{rev} (head)" in current.stdout
    (tmp_path / "fresh").mkdir()
    fresh, drop = create_scratch_database(dialect_name, tmp_path / "fresh")
    try:
        edit_ini(root / "alembic.ini", sqlalchemy__url=fresh.replace("%", "%%"))
        up = subprocess.run([*alembic, "upgrade", "head"], cwd=root, capture_output=True, text=True)
        assert up.returncode == 0, up.stderr
        assert _schema(fresh) == _schema(db_url)
    finally:
        drop()  # type: ignore[operator]
