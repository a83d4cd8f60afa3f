"""Models that reach target_metadata only through the revision files' imports.

mlflow's env.py imports only its declarative ``Base``; the model modules are
imported by revision files, and Alembic imports every revision file to read its
identifiers, so under Alembic target_metadata holds the models when ``check``
compares.  Distill reads revision headers without importing them, and its
replay cache can spare it importing them at all: with an empty target_metadata
it imports them as Alembic does, whatever its caches hold.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.alembic_projects import ENV, app_project, replace_once, revision_script, run_cli
from tests.projects import DISTILL

BASE = """
from sqlalchemy.orm import DeclarativeBase

class Base(DeclarativeBase):
    pass
"""

MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base

class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.String(40))
"""

R1 = revision_script(
    "r1", None, "users",
    """op.create_table("users", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(40)))""",
    'op.drop_table("users")',
    imports="import app.models  # noqa: F401  (what puts the models in Base.metadata)",
)  # fmt: skip


def test_check_sees_the_models_the_revisions_import(tmp_path: Path) -> None:
    root = app_project(tmp_path / "p", f"sqlite:///{tmp_path / 'p' / 'app.db'}", MODELS)
    (root / "app" / "base.py").write_text(BASE)
    replace_once(
        root / "alembic" / "env.py", "from app.models import Base", "from app.base import Base"
    )
    (root / "alembic" / "versions" / "r1.py").write_text(R1)
    assert run_cli("alembic", root, "upgrade", "head").returncode == 0
    assert run_cli("alembic", root, "check").returncode == 0
    env = {**ENV, "DISTILL_CACHE_DIR": str(tmp_path / "cache")}
    for no_memo in ("", "1"):  # cold caches, warm ones, and without env.py's models kept
        for _ in range(2):
            done = subprocess.run(
                [*DISTILL, "check"], cwd=root, capture_output=True, text=True, timeout=180,
                env={**env, "DISTILL_NO_MODELS_CACHE": no_memo} if no_memo else env,
            )  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr
    assert os.listdir(tmp_path / "cache")  # the caches were there to be used
