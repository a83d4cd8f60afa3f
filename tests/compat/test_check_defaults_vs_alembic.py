"""Server defaults in ``check`` of an Alembic project: compared only when env.py asks.

Alembic's ``compare_server_default`` is off unless ``context.configure()`` turns
it on, and CI jobs read ``check``'s exit code: a default the models spell
differently from the database must not fail ``distill check`` where ``alembic
check`` passes.  A Distill project compares defaults unless told not to.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.alembic_projects import app_project, replace_once, revision_script, run_cli

MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass

class T(Base):
    __tablename__ = "t"
    id: Mapped[int] = mapped_column(primary_key=True)
    c: Mapped[str | None] = mapped_column(sa.String(10), server_default="new")
"""

R1 = revision_script(
    "r1", None, "t",
    """op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("c", sa.String(10), server_default="old"))""",
    'op.drop_table("t")',
)  # fmt: skip


@pytest.mark.parametrize("compare", [None, True])
def test_check_compares_defaults_only_when_env_py_asks(
    tmp_path: Path, compare: bool | None
) -> None:
    codes = {}
    for tool in ("alembic", "distill"):
        root = app_project(tmp_path / tool, f"sqlite:///{tmp_path / tool / 'app.db'}", MODELS)
        (root / "alembic" / "versions" / "r1.py").write_text(R1)
        if compare is not None:
            replace_once(
                root / "alembic" / "env.py",
                "connection=connection, target_metadata=target_metadata\n",
                f"connection=connection, target_metadata=target_metadata, "
                f"compare_server_default={compare}\n",
            )
        assert run_cli(tool, root, "upgrade", "head").returncode == 0
        done = run_cli(tool, root, "check")
        codes[tool] = done.returncode
        if tool == "distill" and compare:
            assert "t.c: column default 'old' -> 'new'" in done.stdout, done.stdout
    failed = {"alembic": 255, "distill": 1}
    assert codes == (failed if compare else {"alembic": 0, "distill": 0})
