"""The language server end to end against real PostgreSQL and MariaDB servers.

The ``distill lsp`` process runs on a copy of the example shop whose url points
at a throw-away database (``tests/ops/conftest.py`` creates and drops them), so what
is checked is the whole path: reflection, the version table, DDL run by
``distill.upgrade``, a change made by hand with plain SQL, a server that does not
have the database yet, and a password that must never be shown.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.conftest import SERVERS, create_scratch_database, require_server
from tests.lsp.lsp_client import (
    Probe,
    command,
    edit,
    line_of,
    open_file,
    request_status,
    run_action,
    running_server,
    save,
    until,
)
from tests.projects import copy_shop

KINDS = ("postgresql", "mariadb")
# PostgreSQL here trusts local connections and ignores a password, so a URL can
# carry one without failing; MariaDB's root has none, so there it would be refused.
SECRET = "Hunter2-n0t-to-be-shown"
PHONE = "    phone: Mapped[str | None] = mapped_column(sa.String(30))\n"
EMAIL = "    email: Mapped[str | None] = mapped_column(sa.String(255), unique=True)\n"


@dataclass
class Database:
    kind: str
    name: str
    url: str  # what the project is given (with SECRET on PostgreSQL)

    def execute(self, *statements: str) -> None:
        engine = sa.create_engine(self.url)
        try:
            with engine.begin() as conn:
                for statement in statements:
                    conn.exec_driver_sql(statement)
        finally:
            engine.dispose()

    def inspect(self) -> dict[str, list[str]]:
        """Table -> column names, as the database has them."""
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                inspector = sa.inspect(conn)
                return {
                    table: [c["name"] for c in inspector.get_columns(table)]
                    for table in inspector.get_table_names()
                }
        finally:
            engine.dispose()


def _with_secret(kind: str, url: str) -> str:
    parsed = sa.make_url(url)
    if kind == "postgresql":
        parsed = parsed.set(password=SECRET)
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    require_server(name)
    return name


@pytest.fixture
def database(kind: str, tmp_path: Path) -> Iterator[Database]:
    """A new empty database on the real server."""
    url, drop = create_scratch_database(kind, tmp_path)
    name = sa.make_url(url).database
    assert name is not None
    try:
        yield Database(kind, name, _with_secret(kind, url))
    finally:
        drop()  # type: ignore[operator]


@dataclass
class LateDatabase(Database):
    """A database that does not exist until ``create`` is called."""

    def create(self) -> None:
        admin = sa.create_engine(SERVERS[self.kind], isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"CREATE DATABASE {self.name}")
        finally:
            admin.dispose()


@pytest.fixture
def late_database(kind: str) -> Iterator[LateDatabase]:
    name = f"distill_t_{uuid.uuid4().hex[:10]}"  # the suite's prefix for scratch databases
    url = sa.make_url(SERVERS[kind]).set(database=name).render_as_string(hide_password=False)
    try:
        yield LateDatabase(kind, name, _with_secret(kind, url))
    finally:
        admin = sa.create_engine(SERVERS[kind], isolation_level="AUTOCOMMIT")
        force = " WITH (FORCE)" if kind == "postgresql" else ""
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
        admin.dispose()


def shop_using(tmp_path: Path, url: str) -> Path:
    """A copy of the example shop whose settings name ``url``."""
    root = copy_shop(tmp_path / "shop")
    settings = root / "pyproject.toml"
    text = settings.read_text()
    assert 'url = "sqlite:///shop.db"' in text
    settings.write_text(text.replace('url = "sqlite:///shop.db"', f'url = "{url}"'))
    return root


def models(root: Path) -> Path:
    return root / "shop" / "models.py"


def codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


def has(code: str) -> Callable[[list[types.Diagnostic]], bool]:
    return lambda ds: code in codes(ds)


def shown(client: LanguageClient) -> str:
    """Everything the server has said to the client, as one text."""
    parts: list[object] = list(client.diagnostics.history)  # type: ignore[attr-defined]
    parts += client.messages + client.log_messages
    return "\n".join(map(repr, parts))


# -- the main flow ------------------------------------------------------------------------------


async def test_drift_then_revision_then_upgrade_on_a_real_server(
    database: Database, tmp_path: Path
) -> None:
    root = shop_using(tmp_path, database.url)
    path = models(root)
    original = path.read_text()
    async with running_server(root) as client:
        uri = open_file(client, path)
        found = await until(client, uri, has("drift.database-behind"))
        (behind,) = found  # the empty database holds no hand-made change either
        assert behind.range.start.line == line_of(original, "class Base(")
        assert behind.message == "database is at base, 3 revisions behind head"
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), range=behind.range,
            context=types.CodeActionContext(diagnostics=[behind]),
        ))  # fmt: skip
        upgrade = next(a for a in actions or [] if a.title == "Upgrade database to head")
        result = await run_action(client, upgrade)
        assert len(result["steps"]) == 3
        await until(client, uri, lambda ds: not ds)
        assert database.inspect()["customers"] == ["id", "name", "email"]

        # A column typed in the unsaved buffer: drift on its line.
        text = original.replace(EMAIL, EMAIL + PHONE)
        edit(client, uri, text)
        (phone,) = await until(client, uri, lambda ds: codes(ds) == ["drift.column-not-migrated"])
        assert phone.message == "customers.phone is not in any migration"
        assert phone.range.start.line == line_of(text, "phone: Mapped")
        assert phone.severity == types.DiagnosticSeverity.Warning
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), range=phone.range,
            context=types.CodeActionContext(diagnostics=[phone]),
        ))  # fmt: skip
        generate = next(a for a in actions or [] if a.title.startswith("Generate revision"))
        made = await run_action(client, generate)
        assert 'op.add_column("customers", sa.Column("phone"' in Path(made["path"]).read_text()
        (behind,) = await until(client, uri, lambda ds: codes(ds) == ["drift.database-behind"])
        assert behind.message.endswith("1 revision behind head")

        await command(client, "distill.upgrade", "head")
        await until(client, uri, lambda ds: not ds)
        assert database.inspect()["customers"] == ["id", "name", "email", "phone"]
        status = await request_status(client)
        assert status.pending == 0 and status.drift == 0
        assert status.databaseReachable is True and status.lastError is None
        assert status.current == status.heads and len(status.heads) == 1
        assert SECRET not in shown(client) + repr(status)


# Changes made by hand after an upgrade: (PostgreSQL, MariaDB, the line it shows on,
# what its message names).  Each adds one drift.hand-made to those before it.
HAND_MADE = [
    ("ALTER TABLE customers ADD COLUMN nickname VARCHAR(20)", None,
     "class Customer(Base):", "customers.nickname"),
    ("CREATE INDEX ix_by_hand ON orders (status)", None, "class Order(Base):", "ix_by_hand"),
    ("ALTER TABLE customers ALTER COLUMN name TYPE VARCHAR(200)",
     "ALTER TABLE customers MODIFY name VARCHAR(200) NOT NULL",
     "class Customer(Base):", "customers.name: column type"),
    ("ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'old'", None,
     "class Order(Base):", "orders.status: column default"),
    ("ALTER TABLE orders ALTER COLUMN status DROP NOT NULL",
     "ALTER TABLE orders MODIFY status VARCHAR(20) NULL DEFAULT 'old'",
     "class Order(Base):", "orders.status: column nullable"),
    ("CREATE TABLE audit (id INTEGER PRIMARY KEY)", None, "class Base(", "audit: table"),
]  # fmt: skip


async def test_changes_made_by_hand_show_on_the_table_class(
    database: Database, tmp_path: Path
) -> None:
    root = shop_using(tmp_path, database.url)
    path = models(root)
    text = path.read_text()
    async with running_server(root) as client:
        uri = open_file(client, path)
        probe = Probe(client, root)
        await command(client, "distill.upgrade", "head")
        await probe.settle()
        assert client.diagnostics[uri] == ()

        seen: dict[str, int] = {}  # message -> line
        for postgresql, mariadb, where, names in HAND_MADE:
            database.execute(mariadb if database.kind == "mariadb" and mariadb else postgresql)
            save(client, uri)  # a save reads the database again
            await probe.settle()
            found = client.diagnostics[uri]
            assert {d.code for d in found} == {"drift.hand-made"}
            assert all(d.severity == types.DiagnosticSeverity.Warning for d in found)
            now = {d.message: d.range.start.line for d in found}
            new = {m: line for m, line in now.items() if m not in seen}
            assert {m: seen[m] for m in now if m in seen} == seen, "an earlier one changed"
            ((message, line),) = new.items()
            assert message.startswith("changed in the database by hand: ") and names in message
            assert line == line_of(text, where), message
            seen = now
        # Counted apart from model drift: no revision would capture them (issue 13, item 3).
        status = await probe.settle()
        assert (status.drift, status.handMade) == (0, len(HAND_MADE))

        on_orders = " ON orders" if database.kind == "mariadb" else ""
        database.execute(
            "ALTER TABLE customers DROP COLUMN nickname", f"DROP INDEX ix_by_hand{on_orders}"
        )
        save(client, uri)
        await probe.settle()
        left = {d.message for d in client.diagnostics[uri]}
        assert left == {m for m in seen if "nickname" not in m and "ix_by_hand" not in m}


async def test_a_database_behind_or_at_an_unknown_revision(
    database: Database, tmp_path: Path
) -> None:
    root = shop_using(tmp_path, database.url)
    path = models(root)
    text = path.read_text()
    async with running_server(root) as client:
        uri = open_file(client, path)
        probe = Probe(client, root)
        await command(client, "distill.upgrade", "head")
        await command(client, "distill.downgrade", "-1")
        status = await probe.settle()
        assert status.current == ["2b3c4d5e6f70"] and status.pending == 1
        # The database matches its own revision: behind, and nothing made by hand.
        (behind,) = client.diagnostics[uri]
        assert behind.code == "drift.database-behind"
        assert behind.message == "database is at 2b3c4d5e6f70, 1 revision behind head"
        assert "email" not in database.inspect()["customers"]

        # A revision file the database ran is gone (another branch checked out).
        await command(client, "distill.upgrade", "head")
        head = next((root / "migrations" / "versions").glob("3c4d*.py"))
        kept = head.read_text()
        head.unlink()
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=head.as_uri(), type=types.FileChangeType.Deleted)
        ]))  # fmt: skip
        await probe.settle()
        unknown = [
            d for d in client.diagnostics[uri] if d.code == "drift.database-unknown-revision"
        ]
        assert len(unknown) == 1 and unknown[0].severity == types.DiagnosticSeverity.Error
        assert "3c4d5e6f7081" in unknown[0].message
        assert unknown[0].range.start.line == line_of(text, "class Base(")

        head.write_text(kept)
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=head.as_uri(), type=types.FileChangeType.Created)
        ]))  # fmt: skip
        await probe.settle()
        assert client.diagnostics[uri] == ()


async def test_the_database_drift_is_current_while_the_models_do_not_import(
    database: Database, tmp_path: Path
) -> None:
    """Upgrading while the models have a syntax error: the database is at head now.

    Where the database stands does not depend on the models: it is shown on the
    models file before the upgrade, and gone after it (once it was the last good
    analysis's, stale; then it went to the package's ``__init__.py``).
    """
    root = shop_using(tmp_path, database.url)
    path = models(root)
    async with running_server(root) as client:
        uri = open_file(client, path)
        probe = Probe(client, root)
        await until(client, uri, has("drift.database-behind"))
        broken = path.read_text().replace("class Order(Base):", "class Order(Base)")
        edit(client, uri, broken)
        await probe.settle()
        before = codes(client.diagnostics[uri])

        await command(client, "distill.upgrade", "head")
        status = await probe.settle()
        assert status.pending == 0 and status.current == status.heads
        after = codes(client.diagnostics[uri])
        assert (before, after) == (["drift.database-behind", "models.syntax"], ["models.syntax"])


# -- a database that is not there yet --------------------------------------------------------


async def test_an_unreachable_database_is_one_quiet_note_until_it_exists(
    late_database: LateDatabase, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    root = copy_shop(tmp_path / "shop")  # its own url is SQLite: the option overrides it
    path = models(root)
    text = path.read_text()
    async with running_server(root, databaseUrl=late_database.url) as client:
        uri = open_file(client, path)
        probe = Probe(client, root)
        status = await probe.settle()
        (down,) = client.diagnostics[uri]
        assert down.code == "drift.database-unreachable"
        assert down.severity == types.DiagnosticSeverity.Warning
        assert down.range.start.line == line_of(text, "class Base(")
        assert late_database.name in down.message
        assert status.databaseReachable is False
        assert late_database.name in status.lastError
        assert status.current is None and status.pending == 0

        # It still answers everything else: hover, lenses, status.
        orders = next((root / "migrations" / "versions").glob("2b3c*_create_orders.py"))
        orders_text = orders.read_text()
        orders_uri = open_file(client, orders)
        line = line_of(orders_text, "down_revision =")
        position = types.Position(
            line=line, character=orders_text.splitlines()[line].index('"') + 2
        )
        hover = await client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri=orders_uri), position)
        )
        assert hover is not None and "create customers" in str(hover.contents)
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=orders_uri))
        )
        # The database's state is unknown: no downgrade is offered.
        assert [lens.command.title for lens in lenses or [] if lens.command] == [
            "Upgrade to here", "Show SQL"
        ]  # fmt: skip

        # Typing on while it is down: each analysis shows the same one note, no more.
        before = len(client.diagnostics.published(uri))  # type: ignore[attr-defined]
        for n in range(1, 6):
            edit(client, uri, text + "\n" * n)
            await asyncio.sleep(0.05)
        await probe.settle()
        published = client.diagnostics.published(uri)[before:]  # type: ignore[attr-defined]
        # At most one per edit sent, plus the analysis the orders file's opening
        # started (on a busy machine it can end after ``before`` was counted).
        assert 1 <= len(published) <= 6 + 1
        for diagnostics in published:
            assert codes(diagnostics) == ["drift.database-unreachable"]
        with pytest.raises(JsonRpcException) as refused:
            await command(client, "distill.upgrade", "head")
        assert late_database.name in refused.value.message

        # The database appears: an analysis after the retry's wait (session._BACKOFF)
        # connects again, whatever edit triggers it.
        late_database.create()

        async def typing_until_it_is_seen() -> Any:
            while True:
                edit(client, uri, text)
                status = await probe.settle()
                if codes(client.diagnostics[uri]) != ["drift.database-unreachable"]:
                    return status
                await asyncio.sleep(0.5)

        status = await asyncio.wait_for(typing_until_it_is_seen(), 90)
        (behind,) = client.diagnostics[uri]
        assert behind.code == "drift.database-behind"
        assert behind.message == "database is at base, 3 revisions behind head"
        assert status.databaseReachable is True and status.lastError is None
        assert status.current == [] and status.pending == 3

        result = await command(client, "distill.upgrade", "head")
        assert len(result["steps"]) == 3
        await probe.settle()
        assert client.diagnostics[uri] == ()
        assert not client.messages  # no pop-ups either
        everything = shown(client) + repr(refused.value) + repr(status)
    logged = capfd.readouterr().err
    assert logged.count("database not compared") == 1
    assert SECRET not in everything + logged


async def test_a_database_created_later_is_seen_on_save(
    late_database: LateDatabase, tmp_path: Path
) -> None:
    root = shop_using(tmp_path, late_database.url)
    path = models(root)
    async with running_server(root) as client:
        uri = open_file(client, path)
        (down,) = await until(client, uri, has("drift.database-unreachable"))
        late_database.create()
        save(client, uri)  # a save reads the database whatever the retry's wait
        (behind,) = await until(client, uri, lambda ds: codes(ds) == ["drift.database-behind"])
        assert behind.range == down.range
        assert SECRET not in shown(client)


async def test_a_refused_password_is_never_shown(tmp_path: Path) -> None:
    """MariaDB refuses a password its root does not have: the note names no secret."""
    require_server("mariadb")
    url = sa.make_url(SERVERS["mariadb"]).set(password=SECRET)
    root = copy_shop(tmp_path / "shop")
    async with running_server(
        root, databaseUrl=url.render_as_string(hide_password=False)
    ) as client:
        uri = open_file(client, models(root))
        (down,) = await until(client, uri, has("drift.database-unreachable"))
        assert "***" in down.message and "Access denied" in down.message
        status = await request_status(client)
        assert status.databaseReachable is False
        with pytest.raises(JsonRpcException) as refused:
            await command(client, "distill.current")
        everything = shown(client) + repr(status) + repr(refused.value)
    assert SECRET not in everything
