"""A URL that env.py builds from the application's settings, not from alembic.ini.

The most common FastAPI layouts leave ``sqlalchemy.url`` out of alembic.ini and
have env.py read it from the app's settings (an environment variable behind a
settings module).  Every command that talks to the database must find it the
way the project's own env.py does; compared with real Alembic's answers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.alembic_projects import alembic_init, edit_ini
from tests.projects import DISTILL

FIRST = '''"""users

Revision ID: a1
Revises:
Create Date: 2026-01-01 00:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "a1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("users")
'''

SECOND = FIRST.replace('"""users', '"""more').replace('revision = "a1"', 'revision = "a2"')
SECOND = (
    SECOND.replace("down_revision = None", 'down_revision = "a1"')
    .replace(
        'op.create_table("users", sa.Column("id", sa.Integer, primary_key=True))',
        'op.add_column("users", sa.Column("name", sa.String(20)))',
    )
    .replace('op.drop_table("users")', 'op.drop_column("users", "name")')
)

SETTINGS = """import os

DATABASE_URL = os.environ["APP_DATABASE_URL"]
"""

# full-stack-fastapi-template's shape: the ini section, with the URL put in.
BY_SECTION = """
from app.settings import DATABASE_URL


def run_migrations_online() -> None:
    configuration = config.get_section(config.config_ini_section, {})
    configuration["sqlalchemy.url"] = DATABASE_URL
    connectable = engine_from_config(
        configuration, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
"""

# The other common shape: set_main_option before the stock code reads it.
BY_MAIN_OPTION = """
from app.settings import DATABASE_URL

config.set_main_option("sqlalchemy.url", DATABASE_URL.replace("%", "%%"))
"""


def _project(root: Path, shape: str) -> None:
    alembic_init(root)
    edit_ini(root / "alembic.ini", sqlalchemy__url="")
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "settings.py").write_text(SETTINGS)
    env_py = root / "alembic" / "env.py"
    text = env_py.read_text().replace(
        "target_metadata = None",
        f"import sys\nsys.path.insert(0, {str(root)!r})\ntarget_metadata = None",
    )
    if shape == "section":
        # Replace the stock online function with the template's.
        start = text.index("def run_migrations_online() -> None:")
        end = text.index("if context.is_offline_mode():")
        text = text[:start] + BY_SECTION.strip() + "\n\n\n" + text[end:]
    else:
        anchor = "target_metadata = None\n"
        text = text.replace(anchor, anchor + BY_MAIN_OPTION, 1)
    env_py.write_text(text)
    versions = root / "alembic" / "versions"
    (versions / "a1_users.py").write_text(FIRST)
    (versions / "a2_more.py").write_text(SECOND)


def _run(tool: str, root: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DISTILL_URL"}
    env["APP_DATABASE_URL"] = url
    command = [sys.executable, "-m", "alembic"] if tool == "alembic" else DISTILL
    return subprocess.run(
        [*command, *args], cwd=root, capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize("shape", ["section", "main-option"])
def test_commands_find_the_url_env_py_builds(tmp_path: Path, db_url: str, shape: str) -> None:
    root = tmp_path / "proj"
    _project(root, shape)
    up = _run("distill", root, db_url, "upgrade", "a1")
    assert up.returncode == 0, up.stderr
    for tool in ("distill", "alembic"):
        current = _run(tool, root, db_url, "current")
        assert current.returncode == 0, current.stderr
        assert current.stdout.split() == ["a1"], (tool, current.stdout)
    history = _run("distill", root, db_url, "history", "-i")
    assert history.returncode == 0, history.stderr
    assert "a1 -> a2 (head), more" in history.stdout
    assert "<base> -> a1 (current), users" in history.stdout
    assert _run("alembic", root, db_url, "upgrade", "head").returncode == 0
    assert _run("distill", root, db_url, "current").stdout.split() == ["a2", "(head)"]
    doctor = _run("distill", root, db_url, "doctor")
    assert "(built by env.py; commands run it to find it)" in doctor.stdout, doctor.stdout


def test_doctor_says_when_no_url_can_be_found(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    alembic_init(root)
    edit_ini(root / "alembic.ini", sqlalchemy__url="")
    doctor = _run("distill", root, "", "doctor")
    assert doctor.returncode == 1
    assert "PROBLEM database: " in doctor.stdout
    assert "sets no sqlalchemy.url and env.py names none" in doctor.stdout
    current = _run("distill", root, "", "current")
    assert current.returncode == 1
    [line] = current.stderr.splitlines()
    assert line.startswith("distill: error: ") and "no database URL" in line
