"""A change made by hand that the models made too becomes a revision, stamped as applied
(issue 13, item 3): the database is left exactly as it is, and the drift is gone."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.lsp.lsp_raw import RawServer

KEEP = "Generate a revision that keeps the database's change"
EMAIL = "    email: Mapped[str | None] = mapped_column(sa.String(255), unique=True)\n"


def _prepare(shop: Path, phone_in_models: str) -> Path:
    done = subprocess.run([sys.executable, "-m", "distill", "-q", "upgrade", "head"], cwd=shop,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(shop / "shop.db") as conn:  # by hand, as someone did in production
        conn.execute("ALTER TABLE customers ADD COLUMN phone VARCHAR(30)")
    conn.close()
    models = shop / "shop" / "models.py"
    phone = f"    phone: Mapped[str | None] = mapped_column({phone_in_models})\n"
    models.write_text(models.read_text().replace(EMAIL, EMAIL + phone))
    return models


def _hand_made(server: RawServer, uri: str) -> list[dict[str, Any]]:
    server.request("distill/status", {})
    sent = [m["params"]["diagnostics"] for m in server.received
            if m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == uri]  # fmt: skip
    return [d for d in (sent[-1] if sent else []) if d["code"] == "drift.hand-made"]


def _fixes(server: RawServer, uri: str, diagnostic: dict[str, Any]) -> list[str]:
    answer = server.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": diagnostic["range"],
        "context": {"diagnostics": [diagnostic]},
    })  # fmt: skip
    return [action["title"] for action in answer["result"] or []]


def _version(shop: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(shop / "shop.db") as conn:
        rows = conn.execute("SELECT version_num FROM distill_version").fetchall()
    conn.close()
    return rows


def test_the_change_is_kept_as_a_stamped_revision(shop: Path, server: RawServer) -> None:
    models = _prepare(shop, "sa.String(30)")
    server.initialize(trusted=True, clientConfirms=True)
    uri = server.open_document(models, models.read_text())
    [diagnostic] = server.until(lambda: _hand_made(server, uri))
    assert diagnostic["data"]["keepable"] is True
    assert _fixes(server, uri, diagnostic) == [KEEP, "Show what differs"]
    answer = server.request("workspace/executeCommand",
                            {"command": "distill.keepDatabaseChange", "arguments": []},
                            timeout=60)  # fmt: skip
    result = answer["result"]
    written = Path(result["path"])
    assert "op.add_column('customers', sa.Column('phone', sa.String(length=30)" in \
        written.read_text().replace('"', "'")  # fmt: skip
    assert written.name.endswith("add_customers_phone.py")  # named after its change
    [stamped] = result["stamped"]
    assert _version(shop) == [(stamped,)]
    check = subprocess.run([sys.executable, "-m", "distill", "check"], cwd=shop,
                           capture_output=True, text=True)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr  # no drift of any kind left
    assert server.until(lambda: not _hand_made(server, uri) or None, timeout=30) is not None


def test_models_that_made_it_differently_are_refused(shop: Path, server: RawServer) -> None:
    """The same column in the models, another type: the revision would not describe the
    database, so nothing is written and the version table is left alone."""
    models = _prepare(shop, "sa.String(40)")
    server.initialize(trusted=True, clientConfirms=True)
    uri = server.open_document(models, models.read_text())
    server.until(lambda: _hand_made(server, uri))
    before = sorted((shop / "migrations" / "versions").glob("*.py"))
    version = _version(shop)
    answer = server.request("workspace/executeCommand",
                            {"command": "distill.keepDatabaseChange", "arguments": []},
                            timeout=60)  # fmt: skip
    message = answer["error"]["message"]
    assert message.startswith("the models and the database differ (")
    assert "customers.phone" in message and "generate a revision and upgrade" in message
    assert sorted((shop / "migrations" / "versions").glob("*.py")) == before
    assert _version(shop) == version


@pytest.mark.parametrize("keepable", [True, None])
def test_the_fix_is_offered_only_when_keepable(keepable: bool | None) -> None:
    from tests.lsp.test_lsp_quick_fixes import _analysis, _titles

    data = {"code": "drift.hand-made", "pair": "database-revision", "table": "customers",
            "keepable": keepable}  # fmt: skip
    expected = [KEEP, "Show what differs"] if keepable else ["Show what differs"]
    assert _titles(_analysis(0), data) == expected
