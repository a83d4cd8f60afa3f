"""Histories that begin from tables ``create_all`` made (the first revision alters them).

No empty database can replay such a history, so Alembic's way — compare the
models with the database at head — is the only answer: ``check`` and
``revision --autogenerate`` give Alembic's findings, compared with real
Alembic 1.20 on the same project and database.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.alembic_projects import app_project, run_cli

MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass

class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.String(50))
    # EXTRA
"""

BASE = '''"""base revision: the tables come from create_all

Revision ID: r1
"""
revision = "r1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
'''

ADD_NAME = '''"""add users.name

Revision ID: r2
"""
from alembic import op
import sqlalchemy as sa

revision = "r2"
down_revision = "r1"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("name", sa.String(50)))


def downgrade():
    op.drop_column("users", "name")
'''


def _project(root: Path, url: str) -> None:
    app_project(root, url, MODELS)
    (root / "alembic" / "versions" / "r1_base.py").write_text(BASE)
    (root / "alembic" / "versions" / "r2_add_name.py").write_text(ADD_NAME)


def _create_all_and_stamp(root: Path, url: str) -> None:
    """What such a project does for a new database: create_all, then stamp head."""
    code = (
        "import sys, sqlalchemy as sa; sys.path.insert(0, sys.argv[2]); "
        "from app.models import Base; e = sa.create_engine(sys.argv[1]); "
        "Base.metadata.create_all(e); e.dispose()"
    )
    subprocess.run([sys.executable, "-c", code, url, str(root)], check=True)
    assert run_cli("alembic", root, "stamp", "head").returncode == 0


def test_check_and_autogenerate_agree_with_alembic(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "proj"
    _project(root, db_url)
    _create_all_and_stamp(root, db_url)

    alembic_check = run_cli("alembic", root, "check")
    distill_check = run_cli("distill", root, "check")
    assert alembic_check.returncode == 0, alembic_check.stderr
    assert distill_check.returncode == 0, distill_check.stdout + distill_check.stderr
    notes = [line for line in distill_check.stderr.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: the revisions cannot build their schema from an empty database (a history "
        "that begins from create_all?); the database, at heads, stands for them, as in Alembic"
    ]

    # A model change: both tools find the one column, and write it.
    models = root / "app" / "models.py"
    models.write_text(
        models.read_text().replace("# EXTRA", "age: Mapped[int | None] = mapped_column(sa.Integer)")
    )
    alembic_check = run_cli("alembic", root, "check")
    distill_check = run_cli("distill", root, "check")
    assert alembic_check.returncode != 0  # Alembic exits 255 on "operations detected"
    assert "New upgrade operations detected: [('add_column', None, 'users'" in (
        alembic_check.stdout + alembic_check.stderr
    )
    assert distill_check.returncode == 1
    assert "users.age: column in models, not in migrations" in distill_check.stdout
    findings = [line for line in distill_check.stdout.splitlines() if ": " in line]
    assert len(findings) == 1, distill_check.stdout

    versions = root / "alembic" / "versions"
    made = run_cli("distill", root, "revision", "--autogenerate", "-m", "age")
    assert made.returncode == 0, made.stderr
    [distill_file] = versions.glob("*_age.py")
    distill_ops = re.findall(r"op\.(\w+)\(", distill_file.read_text())
    distill_file.unlink()
    made = run_cli("alembic", root, "revision", "--autogenerate", "-m", "age")
    assert made.returncode == 0, made.stderr
    [alembic_file] = versions.glob("*_age.py")
    alembic_ops = re.findall(r"op\.(\w+)\(", alembic_file.read_text())
    assert distill_ops == alembic_ops == ["add_column", "drop_column"]


@pytest.mark.parametrize("dialect_name", ["sqlite"], indirect=True)
def test_without_a_database_at_head_it_says_what_is_missing(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "proj"
    _project(root, db_url)
    for args in (["check"], ["revision", "--autogenerate", "-m", "x"]):
        done = run_cli("distill", root, *args)
        assert done.returncode == 1
        [error] = [line for line in done.stderr.splitlines() if line.startswith("distill:")]
        assert "the revisions cannot build their schema from an empty database" in error
        assert "no such table: users" in error
        assert "compared with a database at heads instead, as Alembic does, but" in error
    assert not list((root / "alembic" / "versions").glob("*_x.py"))
