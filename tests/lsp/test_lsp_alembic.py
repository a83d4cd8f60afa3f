"""The language server on an Alembic project (``alembic init``; models named only in env.py)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.alembic_projects import make_app_project as make_project
from tests.lsp.lsp_client import (
    ENV,
    SERVER,
    command,
    edit,
    line_of,
    open_file,
    run_action,
    start,
    until,
)

PHONE = "    phone: Mapped[str | None] = mapped_column(sa.String(30))\n"
NAME = "    name: Mapped[str] = mapped_column(sa.String(50))\n"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV))
async def client(lsp_client: LanguageClient, tmp_path: Path):  # type: ignore[no-untyped-def]
    await start(lsp_client, make_project(tmp_path / "legacy"))
    yield
    await lsp_client.shutdown_session()


async def test_drift_quick_fix_and_upgrade_on_an_alembic_project(
    client: LanguageClient, tmp_path: Path
) -> None:
    root = tmp_path / "legacy"
    path = root / "app" / "models.py"
    uri = open_file(client, path)
    # The history creates users only; legacy_things is in the models alone.
    found = await until(client, uri, lambda ds: "drift.table-not-migrated" in [d.code for d in ds])
    legacy = next(d for d in found if d.code == "drift.table-not-migrated")
    assert legacy.range.start.line == line_of(path.read_text(), "class Legacy(")
    assert "drift.database-behind" in [d.code for d in found]

    await command(client, "distill.upgrade", "head")
    assert _alembic(root, "current").stdout.split() == ["a1", "(head)"]
    await until(client, uri, lambda ds: [d.code for d in ds] == ["drift.table-not-migrated"])

    text = path.read_text().replace(NAME, NAME + PHONE)
    edit(client, uri, text)
    found = await until(client, uri, lambda ds: "drift.column-not-migrated" in [d.code for d in ds])
    phone = next(d for d in found if d.code == "drift.column-not-migrated")
    assert phone.range.start.line == line_of(text, "phone: Mapped")
    path.write_text(text)  # saved, so the CLI processes the actions start see it too

    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=phone.range,
        context=types.CodeActionContext(diagnostics=[phone]),
    ))  # fmt: skip
    generate = next(a for a in actions or [] if a.title.startswith("Generate revision"))
    made = await run_action(client, generate)
    written = Path(made["path"]).read_text()
    assert "from alembic import op" in written  # the project's script.py.mako
    assert 'op.add_column("users", sa.Column("phone"' in written
    assert 'op.create_table(\n        "legacy_things"' in written

    await until(client, uri, lambda ds: [d.code for d in ds] == ["drift.database-behind"])
    upgraded = _alembic(root, "upgrade", "head")  # Alembic runs what the editor wrote
    assert upgraded.returncode == 0, upgraded.stderr
    # The server reads the database at most once a second, on its next analysis.
    await asyncio.sleep(1.1)
    edit(client, uri, text + "\n")
    await until(client, uri, lambda ds: not ds)


def _alembic(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args], cwd=root, capture_output=True, text=True
    )
