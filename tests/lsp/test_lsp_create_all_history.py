"""The editor on a history that begins from tables ``create_all`` made (issue 12, item 6).

No empty database can replay such a history (its first revision alters a table
no revision creates), so, as on the command line and as in Alembic, the
database at head stands for the migrations: the models' drift still shows.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest_lsp
import sqlalchemy as sa
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.alembic_projects import APP_MODELS as MODELS
from tests.alembic_projects import make_app_project as make_project
from tests.lsp.lsp_client import ENV, SERVER, edit, line_of, open_file, start, until

PHONE = "    phone: Mapped[str | None] = mapped_column(sa.String(30))\n"
NICK = "    nick: Mapped[str | None] = mapped_column(sa.String(10))\n"
NAME = "    name: Mapped[str] = mapped_column(sa.String(50))\n"

ADD_PHONE = '''\
"""phone"""
from alembic import op
import sqlalchemy as sa

revision = "a1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("phone", sa.String(30), nullable=True))


def downgrade():
    op.drop_column("users", "phone")
'''


def _history_from_create_all(root: Path) -> Path:
    """The database made by the models' create_all, then upgraded by real Alembic."""
    make_project(root)
    (root / "alembic" / "versions" / "a1_users.py").write_text(ADD_PHONE)
    engine = sa.create_engine(f"sqlite:///{root / 'app.db'}")
    namespace: dict[str, object] = {}
    exec(compile(MODELS, "models", "exec", dont_inherit=True), namespace)
    namespace["Base"].metadata.create_all(engine)  # type: ignore[attr-defined]
    engine.dispose()
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=root, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    models = root / "app" / "models.py"
    models.write_text(models.read_text().replace(NAME, NAME + PHONE))
    return models


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV))
async def client(lsp_client: LanguageClient, tmp_path: Path):  # type: ignore[no-untyped-def]
    _history_from_create_all(tmp_path / "legacy")
    await start(lsp_client, tmp_path / "legacy")
    yield
    await lsp_client.shutdown_session()


async def test_the_database_at_head_stands_for_the_migrations(
    client: LanguageClient, tmp_path: Path
) -> None:
    path = tmp_path / "legacy" / "app" / "models.py"
    uri = open_file(client, path)
    await until(client, uri, lambda ds: ds == [], timeout=60)  # no replay error, no drift
    text = path.read_text().replace(PHONE, PHONE + NICK)
    edit(client, uri, text)
    found = await until(client, uri, lambda ds: "drift.column-not-migrated" in [d.code for d in ds])
    nick = next(d for d in found if d.code == "drift.column-not-migrated")
    assert nick.range.start.line == line_of(text, "nick: Mapped")
    assert [d.code for d in found] == ["drift.column-not-migrated"]
