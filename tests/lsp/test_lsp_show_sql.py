"""The editor's Show SQL on SQLite, with no database: every revision of the example's history.

Each revision file's "Show SQL" lens runs ``distill.showSql`` with the range of
exactly that revision; on SQLite the rebuilds are written from the in-memory
catalog (``runtime/offline_catalog.py``).  Where SQL truly cannot be written,
the answer is the one-line error, at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.lsp.lsp_raw import RawServer

VERSIONS = "migrations/versions"


def _show_sql_lens(server: RawServer, path: Path) -> dict[str, Any]:
    uri = server.open_document(path, path.read_text())

    def show_sql() -> dict[str, Any] | None:
        lenses = server.request("textDocument/codeLens", {"textDocument": {"uri": uri}})["result"]
        found = [lens["command"] for lens in lenses or [] if lens["command"]["title"] == "Show SQL"]
        return found[0] if found else None

    found = server.until(show_sql)
    assert found, f"no Show SQL lens on {path.name}"
    return found


def test_show_sql_of_each_revision_without_a_database(shop: Path, server: RawServer) -> None:
    server.initialize(trusted=True, clientConfirms=True)
    shown: dict[str, str] = {}
    for path in sorted((shop / VERSIONS).glob("*.py")):
        command = _show_sql_lens(server, path)
        answer = server.request(
            "workspace/executeCommand",
            {"command": command["command"], "arguments": command["arguments"]},
        )
        assert "error" not in answer, answer
        shown[path.name[:12]] = answer["result"]["sql"]
    assert "CREATE TABLE customers (" in shown["1a2b3c4d5e6f"]
    assert "CREATE TABLE orders (" in shown["2b3c4d5e6f70"]
    third = shown["3c4d5e6f7081"]
    assert "CREATE TABLE customers" not in third  # only this revision, not those below
    assert "ALTER TABLE customers ADD COLUMN email VARCHAR(255);" in third
    assert "CONSTRAINT uq_customers_email UNIQUE (email)" in third
    assert "ALTER TABLE _distill_tmp_customers RENAME TO customers;" in third
    assert not (shop / "shop.db").exists() or _no_tables(shop / "shop.db")


def _no_tables(path: Path) -> bool:
    import sqlite3

    with sqlite3.connect(path) as conn:
        found = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    conn.close()
    return bool(found == 0)


def test_sql_that_cannot_be_written_is_the_one_line_error_at_once(
    shop: Path, server: RawServer
) -> None:
    (shop / VERSIONS / "4d5e6f708192_legacy.py").write_text(
        '"""legacy\n\nRevision ID: 4d5e6f708192\n"""\n'
        "from distill import op\n\n"
        'revision = "4d5e6f708192"\ndown_revision = "3c4d5e6f7081"\n'
        "branch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade():\n"
        '    op.create_unique_constraint("uq_legacy_n", "legacy_totals", ["n"])\n\n\n'
        "def downgrade():\n    pass\n"
    )
    server.initialize(trusted=True, clientConfirms=True)
    answer = server.request(
        "workspace/executeCommand",
        {"command": "distill.showSql", "arguments": ["3c4d5e6f7081:4d5e6f708192"]},
    )
    message = answer["error"]["message"]
    assert "\n" not in message.strip()
    assert "upgrade of revision 4d5e6f708192" in message
    assert "table 'legacy_totals' does not exist" in message
    assert "copy_from=sa.Table(...)" in message
