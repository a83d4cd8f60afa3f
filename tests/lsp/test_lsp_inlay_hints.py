"""Inlay hints: a word after each model line that is not in sync (issue 13, item 12).

Off unless ``inlayHints`` is true; they come from the last analysis (no import,
no database read on the request).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.lsp.lsp_raw import RawServer

PHONE = "    phone: Mapped[str | None] = mapped_column(sa.String(30))\n"
EMAIL = "    email: Mapped[str | None] = mapped_column(sa.String(255), unique=True)\n"


def _open_with_phone(server: RawServer, shop: Path) -> tuple[str, str]:
    path = shop / "shop" / "models.py"
    text = path.read_text().replace(EMAIL, EMAIL + PHONE)
    server.send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": path.as_uri(), "languageId": "python", "version": 1, "text": text}}})  # fmt: skip
    return path.as_uri(), text


def _hints(server: RawServer, uri: str, text: str) -> list[dict[str, Any]]:
    lines = len(text.splitlines())
    answer = server.request("textDocument/inlayHint", {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": lines, "character": 0}},
    })  # fmt: skip
    return list(answer.get("result") or [])


def _line(text: str, start: str) -> int:
    return next(i for i, line in enumerate(text.splitlines()) if line.lstrip().startswith(start))


def test_a_word_after_each_line_not_in_sync(server: RawServer, shop: Path) -> None:
    server.initialize(trusted=True, inlayHints=True)
    uri, text = _open_with_phone(server, shop)
    deadline = time.monotonic() + 60
    hints: list[dict[str, Any]] = []
    while time.monotonic() < deadline and len(hints) < 2:
        hints = _hints(server, uri, text)
        time.sleep(0.3)
    phone, base = _line(text, "phone:"), _line(text, "class Base(")
    found = {h["position"]["line"]: h["label"] for h in hints}
    assert found == {base: "pending in the database", phone: "not migrated"}
    at_phone = next(h for h in hints if h["position"]["line"] == phone)
    assert at_phone["position"]["character"] == len(text.splitlines()[phone])


def test_off_unless_asked_for(server: RawServer, shop: Path) -> None:
    server.initialize(trusted=True)
    uri, text = _open_with_phone(server, shop)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = server.request("distill/status", {}).get("result") or {}
        if status.get("drift"):
            break
        time.sleep(0.3)
    assert _hints(server, uri, text) == []
