"""The language server end to end: the real ``distill lsp`` process over stdio, on SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.lsp.lsp_client import (
    ENV,
    SERVER,
    codes,
    command,
    edit,
    line_of,
    open_file,
    run_action,
    start,
    until,
)

PHONE = "    phone: Mapped[str | None] = mapped_column(sa.String(30))\n"
EMAIL = "    email: Mapped[str | None] = mapped_column(sa.String(255), unique=True)\n"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV))
async def client(lsp_client: LanguageClient, shop: Path):  # type: ignore[no-untyped-def]
    await start(lsp_client, shop)
    yield
    await lsp_client.shutdown_session()


def models(shop: Path) -> Path:
    return shop / "shop" / "models.py"


async def test_drift_on_the_line_then_revision_and_upgrade_clear_it(
    client: LanguageClient, shop: Path
) -> None:
    path = models(shop)
    uri = open_file(client, path)
    # A new project: the database is at base, three revisions behind head.
    found = await until(client, uri, lambda ds: "drift.database-behind" in [d.code for d in ds])
    behind = next(d for d in found if d.code == "drift.database-behind")
    assert behind.range.start.line == line_of(path.read_text(), "class Base(")
    assert "3 revisions behind head" in behind.message
    assert not (shop / "shop.db").exists()  # looking at a database creates none
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=behind.range,
        context=types.CodeActionContext(diagnostics=[behind]),
    ))  # fmt: skip
    titles = [a.title for a in actions or []]
    assert titles == ["Upgrade database to head"]  # at base: nothing to downgrade
    result = await command(client, "distill.upgrade", "head")
    assert len(result["steps"]) == 3
    await until(client, uri, lambda ds: not ds)

    # Typing a column, unsaved: the squiggle is on its line.
    text = path.read_text().replace(EMAIL, EMAIL + PHONE)
    edit(client, uri, text)
    found = await until(client, uri, lambda ds: "drift.column-not-migrated" in [d.code for d in ds])
    (phone,) = found
    assert phone.message == "customers.phone is not in any migration"
    assert phone.range.start.line == line_of(text, "phone: Mapped")
    assert phone.source == "distill" and phone.data["table"] == "customers"

    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=phone.range,
        context=types.CodeActionContext(diagnostics=[phone]),
    ))  # fmt: skip
    generate = next(a for a in actions or [] if a.title.startswith("Generate revision"))
    assert generate.title == "Generate revision for 1 model change"
    made = await run_action(client, generate)
    written = Path(made["path"]).read_text()
    assert 'op.add_column("customers", sa.Column("phone"' in written
    assert client.shown_documents[-1].uri == made["uri"]
    # The migrations now have the column; the database does not yet.
    await until(client, uri, lambda ds: [d.code for d in ds] == ["drift.database-behind"])
    await command(client, "distill.upgrade", "head")
    await until(client, uri, lambda ds: not ds)
    status = await client.protocol.send_request_async("distill/status", {})
    assert status.pending == 0 and status.drift == 0 and status.databaseReachable


async def test_syntax_error_keeps_the_last_drift_and_points_at_the_line(
    client: LanguageClient, shop: Path
) -> None:
    path = models(shop)
    uri = open_file(client, path)
    text = path.read_text().replace(EMAIL, EMAIL + PHONE)
    edit(client, uri, text)
    await until(client, uri, lambda ds: "drift.column-not-migrated" in [d.code for d in ds])
    broken = text.replace("class Order(Base):", "class Order(Base)")
    edit(client, uri, broken)
    found = await until(client, uri, lambda ds: "models.syntax" in [d.code for d in ds])
    error = next(d for d in found if d.code == "models.syntax")
    assert error.range.start.line == line_of(broken, "class Order(Base)")
    assert "drift.column-not-migrated" in [d.code for d in found]  # still visible


async def test_import_error_is_shown_where_it_was_raised(
    client: LanguageClient, shop: Path
) -> None:
    path = models(shop)
    uri = open_file(client, path)
    typo = "    nick: Mapped[str] = mapped_column(sa.Strng(5))\n"
    text = path.read_text().replace(EMAIL, EMAIL + typo)
    edit(client, uri, text)
    found = await until(client, uri, lambda ds: "models.import" in [d.code for d in ds])
    error = next(d for d in found if d.code == "models.import")
    assert error.range.start.line == line_of(text, "sa.Strng")
    assert "Strng" in error.message


async def test_a_hanging_models_module_is_stopped(client: LanguageClient, shop: Path) -> None:
    path = models(shop)
    uri = open_file(client, path)
    text = path.read_text()
    future = "from __future__ import annotations\n"
    edit(client, uri, text.replace(future, future + "import time\ntime.sleep(600)\n"))
    found = await until(client, uri, lambda ds: "models.timeout" in [d.code for d in ds], 60)
    assert "timed out" in next(d for d in found if d.code == "models.timeout").message
    edit(client, uri, text)  # fixed: the next build works again
    await until(client, uri, lambda ds: "models.timeout" not in [d.code for d in ds], 60)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV))
async def untrusted(lsp_client: LanguageClient, shop: Path):  # type: ignore[no-untyped-def]
    await start(lsp_client, shop, trusted=False)
    yield
    await lsp_client.shutdown_session()


async def test_untrusted_workspace_runs_nothing(untrusted: LanguageClient, shop: Path) -> None:
    uri = open_file(untrusted, models(shop), models(shop).read_text().replace(EMAIL, EMAIL + PHONE))
    settings = (shop / "pyproject.toml").as_uri()
    (note,) = await until(untrusted, settings, lambda ds: len(ds) == 1)
    assert note.code == "workspace.untrusted" and "not trusted" in note.message
    assert codes(untrusted, uri) == []
    status = await untrusted.protocol.send_request_async("distill/status", {})
    assert status.trusted is False and "not trusted" in status.lastError
    assert not (shop / "shop.db").exists()


async def test_revision_files_hover_definition_lenses(client: LanguageClient, shop: Path) -> None:
    versions = shop / "migrations" / "versions"
    orders = next(versions.glob("2b3c*_create_orders.py"))
    uri = open_file(client, orders)
    text = orders.read_text()
    line = line_of(text, "down_revision =")
    character = text.splitlines()[line].index('"') + 2
    document = types.TextDocumentIdentifier(uri=uri)
    position = types.Position(line=line, character=character)
    hover = await client.text_document_hover_async(types.HoverParams(document, position))
    assert hover is not None and "create customers" in str(hover.contents)
    target = await client.text_document_definition_async(types.DefinitionParams(document, position))
    assert isinstance(target, types.Location) and target.uri.endswith("_create_customers.py")
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    titles = [lens.command.title for lens in lenses or [] if lens.command]
    assert titles == ["Upgrade to here", "Show SQL"]  # not applied: nothing to downgrade to
    show = [lens.command for lens in lenses or [] if lens.command][-1]
    sql = await command(client, show.command, *(show.arguments or []))
    assert "CREATE TABLE orders" in sql["sql"]

    # Applied and current: only Show SQL; applied below the current one: downgrade to it.
    await command(client, "distill.upgrade", "2b3c4d5e6f70")
    customers = next(versions.glob("1a2b*_create_customers.py"))
    assert await _lens_titles(client, orders, ["Show SQL"]) == ["Show SQL"]
    assert await _lens_titles(client, customers, ["Downgrade to here", "Show SQL"]) == [
        "Downgrade to here", "Show SQL"
    ]  # fmt: skip
    await command(client, "distill.downgrade", "base")


async def _lens_titles(client: LanguageClient, path: Path, wanted: list[str]) -> list[str]:
    """The lens titles on ``path``, once they are ``wanted`` (the database is read again
    by the analysis a command starts) or after 30 s."""
    uri = path.as_uri()
    if uri not in client.diagnostics:
        open_file(client, path)
    titles: list[str] = []
    for _ in range(150):
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        titles = [lens.command.title for lens in lenses or [] if lens.command]
        if titles == wanted:
            break
        await asyncio.sleep(0.2)
    return titles


async def test_revisions_request_lists_the_graph(client: LanguageClient, shop: Path) -> None:
    await command(client, "distill.upgrade", "2b3c4d5e6f70")
    graph = await client.protocol.send_request_async("distill/revisions", {})
    assert [r.id for r in graph.revisions] == ["3c4d5e6f7081", "2b3c4d5e6f70", "1a2b3c4d5e6f"]
    assert [r.applied for r in graph.revisions] == [False, True, True]
    assert list(graph.heads) == ["3c4d5e6f7081"]


async def test_a_revision_written_outside_the_editor_is_seen(
    client: LanguageClient, shop: Path
) -> None:
    path = models(shop)
    uri = open_file(client, path)
    await until(client, uri, lambda ds: any("3 revisions behind" in d.message for d in ds))
    # As if `distill revision` ran in a terminal: the client reports the new file.
    new = shop / "migrations" / "versions" / "4d5e6f708192_noop.py"
    new.write_text(
        '"""noop"""\nrevision = "4d5e6f708192"\ndown_revision = "3c4d5e6f7081"\n'
        "branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    pass\n\n\n"
        "def downgrade():\n    pass\n"
    )
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=new.as_uri(), type=types.FileChangeType.Created)
    ]))  # fmt: skip
    await until(client, uri, lambda ds: any("4 revisions behind" in d.message for d in ds))


async def test_a_new_table_can_be_ignored(client: LanguageClient, shop: Path) -> None:
    path = models(shop)
    uri = open_file(client, path)
    text = path.read_text() + (
        "\n\nclass Scratch(Base):\n"
        '    __tablename__ = "scratch"\n\n'
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
    )
    edit(client, uri, text)
    found = await until(client, uri, lambda ds: "drift.table-not-migrated" in [d.code for d in ds])
    table = next(d for d in found if d.code == "drift.table-not-migrated")
    assert table.range.start.line == line_of(text, "class Scratch(")
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=table.range,
        context=types.CodeActionContext(diagnostics=[table]),
    ))  # fmt: skip
    ignore = next(a for a in actions or [] if a.title == "Ignore table scratch")
    await run_action(client, ignore)
    assert 'exclude_tables = ["scratch"]' in (shop / "pyproject.toml").read_text()
    await until(client, uri, lambda ds: "drift.table-not-migrated" not in [d.code for d in ds])


async def test_upgrade_and_downgrade_report_the_steps_that_ran(
    client: LanguageClient, shop: Path
) -> None:
    """The CLI's ``--format json`` lines, not a plan read beforehand: a revision that
    fails part-way leaves the steps that finished in the error's data."""
    ran = await command(client, "distill.upgrade", "2b3c4d5e6f70")
    assert ran == {"before": [], "after": ["2b3c4d5e6f70"],
                   "steps": ["upgrade 1a2b3c4d5e6f", "upgrade 2b3c4d5e6f70"]}  # fmt: skip
    back = await command(client, "distill.downgrade", "-1")
    assert back["steps"] == ["downgrade 2b3c4d5e6f70"] and back["after"] == ["1a2b3c4d5e6f"]
    head = next((shop / "migrations" / "versions").glob("3c4d*.py"))
    failing = head.with_name("4d5e6f708192_fails.py")
    failing.write_text(
        '"""fails"""\nrevision = "4d5e6f708192"\ndown_revision = "3c4d5e6f7081"\n\n'
        "def upgrade():\n    raise RuntimeError('no')\n\n\ndef downgrade():\n    pass\n"
    )
    try:
        await command(client, "distill.upgrade", "head")
    except Exception as error:  # the JSON-RPC error, with what ran before the failure
        data = getattr(error, "data", None) or {}
    else:
        raise AssertionError("the failing revision did not fail the upgrade")
    assert data["steps"] == ["upgrade 2b3c4d5e6f70", "upgrade 3c4d5e6f7081"]
    assert await command(client, "distill.stamp", "3c4d5e6f7081") == {
        "current": ["3c4d5e6f7081"], "before": ["3c4d5e6f7081"], "after": ["3c4d5e6f7081"],
        "steps": [],
    }  # fmt: skip
