"""env.py's ``process_revision_directives`` on ``revision --autogenerate``, against Alembic.

Two hooks real projects carry: the cookbook's "don't generate empty migrations"
(the hook empties ``directives``) and sequential revision ids (it sets
``rev_id``), here with an import added too.  Each tool runs the same project
in its own folder; the files written, and their names, must be the same.  A
hook that changes the operations themselves is refused by Distill, with
nothing written (it cannot render Alembic's op objects).
"""

from __future__ import annotations

from pathlib import Path

from tests.alembic_projects import app_project, prepend_to_env, replace_once, run_cli

MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass

class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
"""

HOOK = """
import os

def process_revision_directives(context, revision, directives):
    script = directives[0]
    if script.upgrade_ops.is_empty():
        directives[:] = []  # no empty revision
        return
    versions = os.path.join(os.path.dirname(__file__), "versions")
    done = [name for name in os.listdir(versions) if name.endswith(".py")]
    script.rev_id = "%04d" % (len(done) + 1)
    script.imports.add("import os")
    assert isinstance(revision, tuple) and context.opts["target_metadata"] is target_metadata
    script.message = "%s after %d" % (script.message, len(revision))  # the database's heads
"""

REWRITES = """
def process_revision_directives(context, revision, directives):
    directives[0].upgrade_ops.ops.append(object())
"""


def _project(root: Path, hook: str) -> Path:
    app_project(root, f"sqlite:///{root / 'app.db'}", MODELS)
    env_py = root / "alembic" / "env.py"
    prepend_to_env(root, hook)
    replace_once(
        env_py,
        "connection=connection, target_metadata=target_metadata\n",
        "connection=connection, target_metadata=target_metadata,\n"
        "            process_revision_directives=process_revision_directives,\n",
    )
    return root


def _written(root: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((root / "alembic" / "versions").glob("*.py"))}


def test_the_hook_names_revisions_and_skips_empty_ones_as_under_alembic(tmp_path: Path) -> None:
    written: dict[str, list[list[str]]] = {}
    for tool in ("alembic", "distill"):
        root = _project(tmp_path / tool, HOOK)
        steps = []
        for command in (
            ["revision", "--autogenerate", "-m", "users"],
            ["upgrade", "head"],
            ["revision", "--autogenerate", "-m", "nothing"],  # no change: no file
        ):
            done = run_cli(tool, root, *command)
            assert done.returncode == 0, done.stderr
            steps.append(sorted(_written(root)))
        written[tool] = steps
        first = _written(root)["0001_users_after_0.py"]
        assert "import os" in first and "op.create_table(" in first
        assert "Revision ID: 0001" in first
    assert written["distill"] == written["alembic"]
    assert written["alembic"][-1] == ["0001_users_after_0.py"]


def test_a_hook_that_changes_the_operations_is_refused(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", REWRITES)
    done = run_cli("distill", root, "revision", "--autogenerate", "-m", "users")
    assert done.returncode == 1
    assert done.stderr.startswith("distill: error: ")
    assert "process_revision_directives changed the revision's operations" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert _written(root) == {}


def test_doctor_says_the_hook_is_honoured(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", HOOK)
    done = run_cli("distill", root, "doctor")
    assert "configure(process_revision_directives=...): honoured" in done.stdout, done.stdout
