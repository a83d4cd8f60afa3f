"""MariaDB ``alter_column`` in Alembic projects: the schema Alembic's MODIFY builds.

MySQL's ``MODIFY`` restates the whole column. Alembic restates only the
``existing_*`` arguments a script gives, so an unstated NOT NULL, default or
comment is lost; a Distill project reads the live column instead. An Alembic
project gets Alembic's schema (and a warning naming what was lost), and the
replay agrees with it, so ``check`` finds no drift. Compared with real Alembic.
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
from tests.projects import DISTILL

HISTORY = {
    "r1": """
    op.create_table(
        "t",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("c", sa.String(20), nullable=False, server_default="x", comment="hello"),
        sa.Column("k", sa.String(20), nullable=False, server_default="y"),
    )""",
    # Nothing stated but the type: Alembic's MODIFY makes c NULL, without default or comment.
    "r2": 'op.alter_column("t", "c", type_=sa.String(50))',
    # Everything stated: nothing is lost.
    "r3": """
    op.alter_column("t", "k", type_=sa.String(60), existing_nullable=False,
                    existing_server_default="y")""",
}

MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass

class T(Base):
    __tablename__ = "t"
    id: Mapped[int] = mapped_column(primary_key=True)
    c: Mapped[str | None] = mapped_column(sa.String(50))
    k: Mapped[str] = mapped_column(sa.String(60), server_default="y")
"""


def _project(root: Path, url: str) -> None:
    alembic_init(root)
    edit_ini(root / "alembic.ini", sqlalchemy__url=url.replace("%", "%%"))
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(MODELS)
    env_py = root / "alembic" / "env.py"
    env_py.write_text(
        env_py.read_text().replace(
            "target_metadata = None",
            f"import sys\nsys.path.insert(0, {str(root)!r})\n"
            "from app.models import Base\ntarget_metadata = Base.metadata",
        )
    )
    down = None
    for rev, body in HISTORY.items():
        (root / "alembic" / "versions" / f"{rev}.py").write_text(
            "from alembic import op\nimport sqlalchemy as sa\n"
            f"revision = {rev!r}\ndown_revision = {down!r}\n"
            "branch_labels = None\ndepends_on = None\n\n"
            f"def upgrade():\n    {body.strip()}\n\ndef downgrade():\n    pass\n"
        )
        down = rev


def _columns(url: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    try:
        return [
            (c["name"], str(c["type"]), c["nullable"], c.get("default"), c.get("comment"))
            for c in sa.inspect(engine).get_columns("t")
        ]
    finally:
        engine.dispose()


def _run(tool: str, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DISTILL_URL"}
    command = [sys.executable, "-m", "alembic"] if tool == "alembic" else DISTILL
    return subprocess.run(
        [*command, *args], cwd=root, capture_output=True, text=True, env=env, timeout=180
    )


@pytest.mark.parametrize("dialect_name", ["mariadb"], indirect=True)
def test_modify_restates_as_alembic_does(tmp_path: Path, dialect_name: str) -> None:
    columns = {}
    for tool in ("alembic", "distill"):
        (tmp_path / tool).mkdir()
        url, drop = create_scratch_database(dialect_name, tmp_path / tool)
        try:
            _project(tmp_path / tool / "proj", url)
            done = _run(tool, tmp_path / tool / "proj", "upgrade", "head")
            assert done.returncode == 0, done.stderr
            columns[tool] = _columns(url)
            if tool == "distill":
                warnings = [w for w in done.stderr.splitlines() if w.startswith("warning:")]
                assert warnings == [
                    "warning: op.alter_column('t', 'c') restates the column as Alembic's MODIFY "
                    "does, which makes it NULL, drops its default, drops its comment; pass "
                    "existing_nullable=False, existing_server_default=..., existing_comment=... "
                    "to keep it (r2.py)"
                ]
                check = _run(tool, tmp_path / tool / "proj", "check")
                assert check.returncode == 0, check.stdout + check.stderr
        finally:
            drop()  # type: ignore[operator]
    assert columns["distill"] == columns["alembic"]
    assert columns["alembic"][1][1:] == ("VARCHAR(50)", True, None, None)
    assert columns["alembic"][2][1:3] == ("VARCHAR(60)", False)
