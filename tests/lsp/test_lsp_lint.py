"""The lint in the editor: findings on the op lines of revision files, and the rewrite.

On the example shop at head on a real PostgreSQL database, a new revision that
builds an index without CONCURRENTLY gets the lint's error on that line, once
the file is saved; the quick fix rewrites the call into the safe form, and once
that is saved the finding goes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.conftest import create_scratch_database, require_server
from tests.lsp.lsp_client import ENV, SERVER, open_file, start, until
from tests.lsp.lsp_client import edit as edit_buffer
from tests.projects import DISTILL, copy_shop

REVISION = '''"""index notes"""
import sqlalchemy as sa
from distill import op

revision = "4d5e6f708192"
down_revision = "3c4d5e6f7081"


def upgrade():
    op.create_index("ix_customers_name", "customers", ["name"])


def downgrade():
    op.drop_index("ix_customers_name", "customers")
'''


def _shop_at_head(kind: str, tmp_path: Path) -> Iterator[Path]:
    """The example shop on a new database of ``kind``, upgraded to head."""
    require_server(kind)
    url, drop = create_scratch_database(kind, tmp_path)
    shop = copy_shop(tmp_path / "shop")
    settings = shop / "pyproject.toml"
    settings.write_text(settings.read_text().replace('url = "sqlite:///shop.db"', f'url = "{url}"'))
    done = subprocess.run([*DISTILL, "upgrade", "head"], cwd=shop, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    yield shop
    drop()  # type: ignore[operator]


@pytest.fixture
def pg_shop(tmp_path: Path) -> Iterator[Path]:
    yield from _shop_at_head("postgresql", tmp_path)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV))
async def client(lsp_client: LanguageClient, pg_shop: Path):  # type: ignore[no-untyped-def]
    await start(lsp_client, pg_shop)
    yield
    await lsp_client.shutdown_session()


def _lint(diagnostics: list[types.Diagnostic]) -> list[types.Diagnostic]:
    return [d for d in diagnostics if str(d.code).startswith("lint.")]


async def test_a_pending_revision_is_linted_and_the_fix_rewrites_it(
    client: LanguageClient, pg_shop: Path
) -> None:
    path = pg_shop / "migrations" / "versions" / "4d5e6f708192_index_notes.py"
    path.write_text(REVISION)
    uri = open_file(client, path)
    found = await until(client, uri, lambda ds: "lint.index-not-concurrent" in [d.code for d in ds])
    finding = next(d for d in found if d.code == "lint.index-not-concurrent")
    assert finding.range.start.line == 9 and finding.range.start.character == 4
    assert finding.severity == types.DiagnosticSeverity.Error
    assert "holds SHARE on customers" in finding.message
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=finding.range,
        context=types.CodeActionContext(diagnostics=[finding]),
    ))  # fmt: skip
    rewrite = next(a for a in actions or [] if isinstance(a, types.CodeAction) and a.edit)
    assert rewrite.title == "Build the index CONCURRENTLY, in an autocommit block"
    assert rewrite.edit is not None and rewrite.edit.changes is not None
    (edit,) = rewrite.edit.changes[uri]
    assert (
        "    with op.get_context().autocommit_block():\n"
        '        op.create_index("ix_customers_name", "customers", ["name"], '
        "postgresql_concurrently=True)\n"
    ) in edit.new_text
    edit_buffer(client, uri, edit.new_text)  # the user applies it (the buffer changes)
    path.write_text(edit.new_text)  # and saves
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri), text=edit.new_text
    ))  # fmt: skip
    await until(client, uri, lambda ds: not [d for d in _lint(ds) if d.severity == 1])


NOT_NULL_LINE = '    op.add_column("customers", sa.Column("code", sa.Integer, nullable=False))\n'


async def test_the_lint_follows_unsaved_text_and_offers_the_not_null_split(
    client: LanguageClient, pg_shop: Path
) -> None:
    """As you type: the finding comes from the buffer, before any save; the split is a
    quick fix (its backfill needs the user, so ``--fix`` does not write it)."""
    path = pg_shop / "migrations" / "versions" / "4d5e6f708192_index_notes.py"
    saved = REVISION.replace(
        '    op.create_index("ix_customers_name", "customers", ["name"])\n', "    pass\n"
    )
    path.write_text(saved)
    uri = open_file(client, path)
    await until(client, uri, lambda ds: not _lint(ds))
    typed = saved.replace("    pass\n", NOT_NULL_LINE, 1)
    edit_buffer(client, uri, typed)  # not saved
    code = "lint.not-null-column-without-default"
    found = await until(client, uri, lambda ds: code in [d.code for d in ds])
    finding = next(d for d in found if d.code == code)
    assert finding.range.start.line == 9
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=finding.range,
        context=types.CodeActionContext(diagnostics=[finding]),
    ))  # fmt: skip
    split = next(
        a
        for a in actions or []
        if isinstance(a, types.CodeAction) and a.title.startswith("Add it nullable")
    )
    assert split.edit is not None and split.edit.changes is not None
    (change,) = split.edit.changes[uri]
    assert 'sa.Column("code", sa.Integer, nullable=True)' in change.new_text
    assert 'op.execute("UPDATE customers SET code = <value> WHERE code IS NULL")' in change.new_text
    edit_buffer(client, uri, change.new_text)  # applied, still not saved
    await until(client, uri, lambda ds: code not in [d.code for d in ds])
    assert path.read_text() == saved  # nothing was written


EMAIL_NOT_NULL = '    op.alter_column("customers", "email", nullable=False)\n'


def _execute(shop: Path, sql: str) -> None:
    import sqlalchemy as sa

    settings = (shop / "pyproject.toml").read_text()
    url = settings.split('url = "', 1)[1].split('"', 1)[0]
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


async def test_preflight_counts_the_rows_on_the_op_line(
    client: LanguageClient, pg_shop: Path
) -> None:
    """With the database there, a pending SET NOT NULL gets the count of the NULLs that
    would stop it, on its line; once the rows are fixed and the file saved, it goes."""
    _execute(pg_shop, "INSERT INTO customers (id, name) VALUES (1, 'ann'), (2, 'bo')")
    path = pg_shop / "migrations" / "versions" / "4d5e6f708192_index_notes.py"
    path.write_text(REVISION.replace(
        '    op.create_index("ix_customers_name", "customers", ["name"])\n', EMAIL_NOT_NULL
    ))  # fmt: skip
    uri = open_file(client, path)
    code = "preflight.would-fail"
    found = await until(client, uri, lambda ds: code in [d.code for d in ds])
    finding = next(d for d in found if d.code == code)
    assert finding.range.start.line == 9
    assert finding.severity == types.DiagnosticSeverity.Warning
    assert finding.message == (
        "pre-flight: customers.email has 2 NULL rows (id: 1, 2): SET NOT NULL would fail"
    )
    _execute(pg_shop, "UPDATE customers SET email = name || '@example.com'")
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)
    ))  # fmt: skip
    await until(client, uri, lambda ds: code not in [d.code for d in ds])


@pytest.fixture
def mariadb_shop(tmp_path: Path) -> Iterator[Path]:
    yield from _shop_at_head("mariadb", tmp_path)


async def test_the_editor_lints_for_the_connected_servers_version(
    mariadb_shop: Path,
) -> None:
    """The lint targets the server the editor reads (MariaDB 10.11 here), not the newest."""
    from tests.lsp.lsp_client import running_server

    async with running_server(mariadb_shop) as lsp:
        path = mariadb_shop / "migrations" / "versions" / "4d5e6f708192_index_notes.py"
        path.write_text(REVISION.replace(
            '    op.create_index("ix_customers_name", "customers", ["name"])\n',
            '    op.alter_column("orders", "status", type_=sa.Text())\n',
        ))  # fmt: skip
        uri = open_file(lsp, path)
        code = "lint.mysql-copy-alter"
        found = await until(lsp, uri, lambda ds: code in [d.code for d in ds])
        message = next(d.message for d in found if d.code == code)
        assert "so MariaDB 10.11 has no INSTANT or INPLACE way" in message, message
