"""``check`` and ``revision --autogenerate`` keep what env.py gave while nothing it read
changed (``commands/models_memo.py``), and run env.py again as soon as anything may have.

The models module counts its imports in a file: a run that used the memo did not import it.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.alembic_projects import ENV, make_app_project, prepend_to_env
from tests.projects import DISTILL

COUNTING = 'open(__file__ + ".imports", "a").write("x")\n'


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = make_app_project(tmp_path / "app")
    models = root / "app" / "models.py"
    models.write_text(COUNTING + models.read_text())
    assert _distill(root, "upgrade", "head").returncode == 0
    _settle(root)
    return root


def _settle(root: Path) -> None:
    """File and folder times well in the past: one changed within two seconds of the run
    is never trusted (a folder's time changes when a file is made in it)."""
    (root / "app" / "models.py.imports").touch()
    past = time.time() - 60
    for path in [root, *root.rglob("*")]:
        os.utime(path, (past, past))


def _distill(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**ENV, "DISTILL_CACHE_DIR": str(root.parent / "cache"), **env}
    return subprocess.run([*DISTILL, *args], cwd=root, capture_output=True, text=True,
                          env=environment, timeout=120)  # fmt: skip


def _imports(root: Path) -> int:
    counter = root / "app" / "models.py.imports"
    return len(counter.read_text()) if counter.exists() else 0


def test_check_uses_what_env_py_gave_until_a_file_changes(app: Path) -> None:
    first = _distill(app, "check")
    assert first.returncode == 1 and "legacy_things" in first.stdout
    imported = _imports(app)
    again = _distill(app, "check")
    assert (again.returncode, again.stdout, again.stderr) == (1, first.stdout, first.stderr)
    assert _imports(app) == imported  # env.py did not run: nothing it read changed
    models = app / "app" / "models.py"
    models.write_text(models.read_text().replace('"legacy_things"', '"old_things"'))
    changed = _distill(app, "check")
    assert "old_things" in changed.stdout and "legacy_things" not in changed.stdout
    assert _imports(app) == imported + 1


def test_an_environment_variable_or_the_setting_runs_env_py_again(app: Path) -> None:
    _distill(app, "check")
    imported = _imports(app)
    _distill(app, "check", APP_MODE="other")  # the models could read it
    assert _imports(app) == imported + 1
    _distill(app, "check", APP_MODE="other", DISTILL_NO_MODELS_CACHE="1")
    _distill(app, "check", APP_MODE="other", DISTILL_NO_MODELS_CACHE="1")
    assert _imports(app) == imported + 3


@pytest.mark.parametrize(
    "env_code",
    [
        "def include_object(obj, name, type_, reflected, compare_to):\n    return True\n",
        "from sqlalchemy import event\n",
        "SEVERAL = True\n",
        "OWN_URL = True\n",
        "LISTENER = True\n",
    ],
    ids=[
        "a hook runs per object", "an event on the connection", "a list of MetaData",
        "a database of env.py's own", "a listener in the models",
    ],
)  # fmt: skip
def test_env_py_that_does_more_than_name_the_models_always_runs(app: Path, env_code: str) -> None:
    prepend_to_env(app, env_code)
    if "include_object" in env_code:
        env = app / "alembic" / "env.py"
        env.write_text(env.read_text().replace(
            "target_metadata=target_metadata\n",
            "target_metadata=target_metadata, include_object=include_object\n",
        ))  # fmt: skip
    elif "OWN_URL" in env_code:  # the settings name one database, env.py connects to another
        env = app / "alembic" / "env.py"
        env.write_text(env.read_text().replace(
            "connectable = engine_from_config(",
            "connectable = __import__('sqlalchemy').create_engine("
            "'sqlite:///' + __file__ + '.other.db')\n    unused = dict(",
        ))  # fmt: skip
    elif "LISTENER" in env_code:  # a PRAGMA on every connection, set up by the models
        models = app / "app" / "models.py"
        models.write_text(models.read_text() + (
            "\n\n@sa.event.listens_for(sa.engine.Engine, 'connect')\n"
            "def _pragma(dbapi_connection, record):\n"
            "    dbapi_connection.execute('PRAGMA foreign_keys=ON')\n"
        ))  # fmt: skip
    elif "SEVERAL" in env_code:
        env = app / "alembic" / "env.py"
        env.write_text(env.read_text().replace(
            "target_metadata = Base.metadata", "target_metadata = [Base.metadata]"
        ))  # fmt: skip
    else:
        env = app / "alembic" / "env.py"
        env.write_text(env.read_text() + "\nevent.listen  # acts on connections\n")
    _settle(app)
    imported = _imports(app)
    for _ in range(3):
        _distill(app, "check")
    assert _imports(app) == imported + 3


def test_autogenerate_writes_the_same_revision_from_the_memo(app: Path) -> None:
    made = _distill(app, "revision", "--autogenerate", "-m", "first")
    assert made.returncode == 0, made.stderr
    imported = _imports(app)
    first = next((app / "alembic" / "versions").glob("*_first.py"))
    written = first.read_text()
    first.unlink()
    again = _distill(app, "revision", "--autogenerate", "-m", "first")
    assert again.returncode == 0, again.stderr
    second = next((app / "alembic" / "versions").glob("*_first.py"))
    body = written.split("def upgrade", 1)[1]
    assert second.read_text().split("def upgrade", 1)[1] == body
    assert _imports(app) == imported


BASELINE = '''"""add email to the users create_all made"""
from alembic import op
import sqlalchemy as sa

open(__file__ + ".imports", "a").write("x")
revision = "b2"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("email", sa.String(80)))


def downgrade():
    op.drop_column("users", "email")
'''


def test_a_history_that_begins_from_create_all_is_not_replayed_again(app: Path) -> None:
    """The revisions cannot build their schema from an empty database: that is kept, for
    these same files, and the database at head stands in without replaying them again."""
    import sqlalchemy as sa

    versions = app / "alembic" / "versions"
    (versions / "a1_users.py").unlink()
    (versions / "b2_email.py").write_text(BASELINE)
    (app / "app.db").unlink()
    engine = sa.create_engine(f"sqlite:///{app / 'app.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50))")
    engine.dispose()
    assert _distill(app, "upgrade", "head").returncode == 0
    _settle(app)
    counter = versions / "b2_email.py.imports"
    first = _distill(app, "check")
    replayed = len(counter.read_text())
    again = _distill(app, "check")
    assert (again.stdout, again.stderr) == (first.stdout, first.stderr)
    assert "the database, at heads, stands for them" in again.stderr
    assert len(counter.read_text()) == replayed  # not replayed again
