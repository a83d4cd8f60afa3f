"""An analysis the language server cannot run is shown to the user, once, never silence.

The most common FastAPI layout has env.py build the URL from the app's settings
(here from an environment variable the editor does not have), and alembic.ini
names none: the server used to log "analysis failed" and publish nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alembic_projects import alembic_init, edit_ini, prepend_to_env
from tests.lsp.lsp_raw import RawServer, raw_server


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    alembic_init(root)
    edit_ini(root / "alembic.ini", sqlalchemy__url="")
    prepend_to_env(root, 'import os\nDATABASE_URL = os.environ["APP_DATABASE_URL_NOT_SET"]')
    return root


@pytest.fixture
def server(project: Path) -> Iterator[RawServer]:
    with raw_server(project) as raw:
        yield raw


def _shown(server: RawServer) -> list[str]:
    return [
        m["params"]["message"] for m in server.received if m.get("method") == "window/showMessage"
    ]


def _wait_for_message(server: RawServer, timeout: float = 60.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while not _shown(server) and time.monotonic() < deadline:
        server.request("distill/status", {})
        time.sleep(0.2)
    return _shown(server)


def test_a_failing_analysis_is_shown_once(server: RawServer, project: Path) -> None:
    server.initialize(trusted=True)
    [message] = _wait_for_message(server)
    assert message.startswith("Distill cannot check this project: no database URL: ")
    assert "alembic.ini names none, and env.py, which builds it, failed: " in message
    assert "KeyError: 'APP_DATABASE_URL_NOT_SET'" in message
    # Edits run the analysis again; the same failure is not said again.
    uri = (project / "alembic" / "env.py").as_uri()
    text = (project / "alembic" / "env.py").read_text()
    server.send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": text}}})  # fmt: skip
    for version in (2, 3):
        server.send({"method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"text": text + f"\n# edit {version}\n"}]}})  # fmt: skip
        time.sleep(1.0)
    server.request("distill/status", {})
    assert _shown(server) == [message]


def test_a_url_env_py_builds_from_the_apps_settings_is_found(tmp_path: Path) -> None:
    """The FastAPI layout: alembic.ini names no URL, env.py takes it from the app's
    settings module. The editor finds it as the CLI does, and shows the database drift."""
    root = tmp_path / "app"
    alembic_init(root)
    edit_ini(root / "alembic.ini", sqlalchemy__url="")
    (root / "app_settings.py").write_text(f"DATABASE_URL = 'sqlite:///{root / 'app.db'}'\n")
    prepend_to_env(root, """
        import app_settings
        config.set_main_option("sqlalchemy.url", app_settings.DATABASE_URL)
        import sqlalchemy as sa
        target_metadata = sa.MetaData()
    """)  # fmt: skip
    (root / "alembic" / "versions" / "r1_first.py").write_text(
        '"""first"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
        "revision = 'r1'\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade():\n    op.create_table('t', sa.Column('id', sa.Integer))\n\n\n"
        "def downgrade():\n    op.drop_table('t')\n"
    )
    with raw_server(root) as raw:
        raw.initialize(trusted=True)
        deadline = time.monotonic() + 60
        status: dict[str, object] = {}
        while time.monotonic() < deadline:
            status = raw.request("distill/status", {}).get("result") or {}
            if status.get("heads"):
                break
            time.sleep(0.3)
        assert _shown(raw) == []
        assert status.get("current") == [] and status.get("heads"), status
