"""Messages a client gets wrong: every request is answered, a doubtful ``trusted`` trusts nothing.

Raw JSON-RPC over the real ``distill lsp`` process's stdio (``tests/lsp/lsp_raw``): an
LSP client library would refuse to send most of these.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.lsp.lsp_raw import RawServer

INVALID_PARAMS = -32602
COMMAND = "workspace/executeCommand"
PARSE_ERROR = -32700


def _hover(uri: str, line: Any, character: Any) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}


@pytest.mark.parametrize(
    "method, params",
    [
        pytest.param("textDocument/hover", "negative", id="negative-position"),
        pytest.param("textDocument/definition", "text-line", id="position-not-a-number"),
        pytest.param("textDocument/codeLens", {"textDocument": 7}, id="document-not-an-object"),
        pytest.param("textDocument/codeAction", {}, id="params-missing"),
        pytest.param("workspace/executeCommand", {"command": 1}, id="command-not-a-string"),
    ],
)
def test_a_request_that_does_not_parse_gets_an_error_response(
    server: RawServer, shop: Path, method: str, params: Any
) -> None:
    server.initialize(trusted=False)  # nothing imported: the answers come from the protocol
    uri = (shop / "shop" / "models.py").as_uri()
    if params == "negative":
        params = _hover(uri, -1, -5)
    elif params == "text-line":
        params = _hover(uri, "three", 0)
    answer = server.request(method, params)
    assert answer["error"]["code"] == INVALID_PARAMS, answer
    assert "result" not in answer
    # ... and the server goes on: the next request is answered as usual.
    assert "result" in server.request("distill/status", {})


def test_a_notification_that_does_not_parse_is_dropped_and_the_server_goes_on(
    server: RawServer, shop: Path
) -> None:
    server.initialize(trusted=False)
    server.send({"method": "textDocument/didOpen", "params": {"textDocument": {"uri": 5}}})
    assert "result" in server.request("distill/status", {})
    assert not [m for m in server.received if "id" in m and "error" in m]


def test_a_body_that_is_not_json_gets_a_parse_error(server: RawServer) -> None:
    server.initialize(trusted=False)
    server.send_bytes(b'{"jsonrpc": "2.0", "id": 7, "method": ')
    answer = server.response_to(None)
    assert answer["error"]["code"] == PARSE_ERROR, answer
    assert "result" in server.request("distill/status", {})


# -- initializationOptions.trusted fails closed -------------------------------------------------


def _messages(server: RawServer) -> list[str]:
    return [
        m["params"]["message"] for m in server.received if m.get("method") == "window/showMessage"
    ]


@pytest.mark.parametrize(
    "value",
    ["false", "true", 0, None, "no", [True]],
    ids=repr,
)
def test_only_the_boolean_true_trusts(server: RawServer, shop: Path, value: object) -> None:
    server.initialize(trusted=value)
    status = server.request("distill/status", {})["result"]
    assert status["trusted"] is False
    assert "not trusted" in status["lastError"]
    (said,) = _messages(server)  # once, saying why
    assert "trusted" in said and json.dumps(value) in said and "not true" in said
    assert not (shop / "shop.db").exists()


def test_options_that_are_not_an_object_trust_nothing(server: RawServer) -> None:
    server.request("initialize", {
        "processId": None, "rootUri": server.root.as_uri(), "capabilities": {},
        "initializationOptions": ["trusted", True],
    })  # fmt: skip
    server.send({"method": "initialized", "params": {}})
    status = server.request("distill/status", {})["result"]
    assert status["trusted"] is False
    (said,) = _messages(server)
    assert "initializationOptions" in said


@pytest.mark.parametrize("options", [{"trusted": True}, {}], ids=["true", "absent"])
def test_true_or_absent_trusts(server: RawServer, options: dict[str, Any]) -> None:
    server.initialize(**options)
    status = server.request("distill/status", {})["result"]
    assert status["trusted"] is True
    assert _messages(server) == []


def test_false_is_untrusted_without_a_complaint(server: RawServer) -> None:
    server.initialize(trusted=False)
    status = server.request("distill/status", {})["result"]
    assert status["trusted"] is False
    assert _messages(server) == []


def test_commands_take_their_defaults_from_an_empty_argument_list(server: RawServer) -> None:
    """VS Code sends ``"arguments": []`` for a command given none (issue 13, item 8)."""
    server.initialize(trusted=True)
    listed = server.request(
        "workspace/executeCommand", {"command": "distill.history", "arguments": []}
    )
    assert [r["id"] for r in listed["result"]["revisions"]] == [
        "3c4d5e6f7081", "2b3c4d5e6f70", "1a2b3c4d5e6f"
    ]  # fmt: skip
    upgraded = server.request(
        "workspace/executeCommand", {"command": "distill.upgrade", "arguments": []}
    )
    assert upgraded["result"]["after"] == ["3c4d5e6f7081"]
    status = server.request("distill/status", {})["result"]
    assert status["current"] == ["3c4d5e6f7081"]  # right after the upgrade, the new revision
    wrong = server.request(
        "workspace/executeCommand", {"command": "distill.history", "arguments": [5]}
    )
    assert wrong["error"]["code"] == INVALID_PARAMS
    assert wrong["error"]["message"] == "distill.history: range must be a string or null, not 5"


METHOD_NOT_FOUND = -32601


@pytest.mark.parametrize(
    "show_document",
    [
        pytest.param(None, id="no-window-capabilities"),
        pytest.param({"support": False}, id="support-false"),
        pytest.param({"support": True}, id="claimed-but-method-not-found"),
    ],
)
def test_a_client_that_cannot_open_documents_still_gets_its_revision(
    server: RawServer, shop: Path, show_document: dict[str, Any] | None
) -> None:
    """Neovim 0.7 answers window/showDocument with MethodNotFound (issue 13, item 4)."""
    capabilities = {"window": {"showDocument": show_document}} if show_document else {}
    server.initialize(capabilities=capabilities, trusted=True)
    not_found = {"error": {"code": METHOD_NOT_FOUND, "message": "Method not found"}}
    answer, asked = server.request_answering(COMMAND, {
        "command": "distill.revision",
        "arguments": [{"message": "add phone", "autogenerate": False}],
    }, {"window/showDocument": not_found})  # fmt: skip
    written = Path(answer["result"]["path"])
    assert written.is_file() and written.name.endswith("add_phone.py")
    assert len(asked) == (1 if show_document and show_document["support"] else 0)


def test_generating_from_the_editor_leaves_only_the_revision_in_the_project(shop: Path) -> None:
    """No .ruff_cache/, no __pycache__, no cache of Distill's (issue 13, item 7), also
    where Python writes bytecode (PYTHONDONTWRITEBYTECODE unset, as on most machines)."""
    from tests.lsp.lsp_client import ENV
    from tests.lsp.lsp_raw import raw_server

    def files() -> set[Path]:
        return {p.relative_to(shop) for p in shop.rglob("*") if p.suffix != ".db"}

    before = files()
    models = shop / "shop" / "models.py"
    models.write_text(models.read_text() + "\n# edited\n")
    env = {k: v for k, v in ENV.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with raw_server(shop, env=env) as server:
        server.initialize(trusted=True)
        server.request(COMMAND, {"command": "distill.upgrade", "arguments": ["head"]})
        answer = server.request(COMMAND, {
            "command": "distill.revision", "arguments": [{"message": "phone"}],
        }, timeout=60)  # fmt: skip
    written = Path(answer["result"]["path"]).relative_to(shop)
    assert files() - before == {written}


def test_new_revision_proposes_the_name_of_the_model_changes(server: RawServer, shop: Path) -> None:
    """The palette's New Revision fills its message box with it (issue 13, item 7)."""
    server.initialize(trusted=True)
    models = shop / "shop" / "models.py"
    assert server.request("distill/proposedMessage", {})["result"] == {"message": None}
    email = "    email: Mapped[str | None] = mapped_column(sa.String(255), unique=True)\n"
    phone = "    phone: Mapped[str | None] = mapped_column(sa.String(30))\n"
    server.open_document(models, models.read_text().replace(email, email + phone))
    proposed = server.until(
        lambda: server.request("distill/proposedMessage", {})["result"]["message"]
    )
    assert proposed == "add customers.phone"


def test_an_option_of_the_wrong_type_is_one_warning_and_its_default(server: RawServer) -> None:
    """Typed options (issue 14, step 5): the server starts, says once what it used instead."""
    server.initialize(trusted=True, timeout="ten", inlayHints="yes", databaseUrl=5)
    status = server.request("distill/status", {})["result"]
    assert status["trusted"] is True and status["lastError"] is None
    assert sorted(_messages(server)) == [
        "Distill: initializationOptions.databaseUrl is 5, not a string: null is used",
        'Distill: initializationOptions.inlayHints is "yes", not true or false: false is used',
        'Distill: initializationOptions.timeout is "ten", not a number of seconds: 10.0 is used',
    ]


def test_options_are_read_into_their_types() -> None:
    from distill.lsp.options import read_options
    from distill.lsp.session import Settings

    read = read_options({"debounceMs": 50, "timeout": 3, "databaseUrl": "", "opCompletion": False})
    assert (read.trusted, read.debounce_seconds, read.problems) == (True, 0.05, ())
    assert read.settings == Settings(database_url=None, timeout=3.0, op_completion=False)
    assert read_options(None) == read_options({})
    assert read_options({"debounceMs": -5}).debounce_seconds == 0
    assert read_options({"debounceMs": True}).problems  # a bool is not a number here
