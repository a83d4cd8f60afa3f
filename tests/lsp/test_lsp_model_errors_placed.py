"""Models that do not load are reported where the problem is (issue 13, item 5).

A syntax error is underlined in the buffer being typed (not the saved file), on
a range an editor draws, in LSP's UTF-16 columns; the "database is behind"
warning keeps its line while the models do not parse; a model import that
runs endlessly is reported on the line it was interrupted at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from distill.sandbox.child import _syntax_columns
from tests.lsp.lsp_raw import RawServer


def _columns(source: str) -> tuple[int | None, int | None]:
    with pytest.raises(SyntaxError) as caught:
        compile(source, "/abs/models.py", "exec")
    return _syntax_columns(caught.value)


@pytest.mark.parametrize(
    ("source", "underlined"),
    [
        ("x = (1))\n", ")"),  # Python marks one character
        ("name = '😀' )\n", ")"),  # after an astral character: two UTF-16 units
        ("class A:\npass\n", "pass"),  # the token at the offset
        ("x = foo(1,\n", "("),  # never closed
        ("x = 1 +\n", "+"),  # at the end of the line: its last character
    ],
)
def test_the_range_is_what_python_marks_in_utf16_and_never_empty(
    source: str, underlined: str
) -> None:
    start, end = _columns(source)
    assert start is not None and end is not None and end > start
    line = next(line for line in source.splitlines() if underlined in line)
    units = line.encode("utf-16-le")
    assert units[(start - 1) * 2 : (end - 1) * 2].decode("utf-16-le") == underlined


def _diagnostics(server: RawServer, uri: str) -> list[dict[str, Any]]:
    server.request("distill/status", {})  # reads what the server sent meanwhile
    sent = [
        m["params"]["diagnostics"]
        for m in server.received
        if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
    ]
    return sent[-1] if sent else []


def _change(server: RawServer, uri: str, version: int, text: str) -> None:
    server.send({"method": "textDocument/didChange", "params": {
        "textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}],
    }})  # fmt: skip


def _by_code(diagnostics: list[dict[str, Any]], code: str) -> dict[str, Any] | None:
    return next((d for d in diagnostics if d["code"] == code), None)


def test_a_syntax_error_in_the_buffer_is_underlined_there(shop: Path, server: RawServer) -> None:
    models = shop / "shop" / "models.py"
    saved = models.read_text()
    server.initialize(trusted=True)
    uri = server.open_document(models, saved)
    behind = server.until(lambda: _by_code(_diagnostics(server, uri), "drift.database-behind"))
    assert behind is not None
    lines = saved.splitlines()
    row = next(i for i, line in enumerate(lines) if "sa.String(100)" in line)
    # Typed, not saved: the saved file still parses.
    lines[row] = lines[row].replace("sa.String(100))", "sa.String(100)) + '😀' )")
    _change(server, uri, 2, "\n".join(lines) + "\n")
    error = server.until(lambda: _by_code(_diagnostics(server, uri), "models.syntax"))
    assert error is not None and error["message"].startswith("syntax error: SyntaxError: ")
    start, end = error["range"]["start"], error["range"]["end"]
    assert start["line"] == end["line"] == row
    # The unmatched ")" after the astral character, counted in UTF-16 units.
    before = lines[row][: lines[row].rindex(")")]
    assert start["character"] == len(before.encode("utf-16-le")) // 2 == len(before) + 1
    assert end["character"] == start["character"] + 1
    kept = _by_code(_diagnostics(server, uri), "drift.database-behind")
    assert kept is not None and kept["range"] == behind["range"]  # still on the Base line
    assert models.read_text() == saved


def test_a_model_import_that_hangs_is_reported_on_its_line(shop: Path, server: RawServer) -> None:
    models = shop / "shop" / "models.py"
    lines = models.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("class Order"))
    lines[row:row] = ["import time", "while True:", "    time.sleep(0.05)"]
    models.write_text("\n".join(lines) + "\n")
    server.initialize(trusted=True, timeout=2)
    uri = server.open_document(models, models.read_text())
    error = server.until(lambda: _by_code(_diagnostics(server, uri), "models.timeout"))
    assert error is not None
    assert error["range"]["start"]["line"] in (row + 1, row + 2)  # the loop, not line 1
    assert f"timed out after 2 s in {models}:" in error["message"]
