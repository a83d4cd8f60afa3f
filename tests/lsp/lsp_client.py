"""A pytest-lsp client for Distill's language server, started on a copy of the example shop."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, make_test_lsp_client

SERVER = [sys.executable, "-m", "distill", "lsp", "--log-level", "INFO"]
# The servers tests start see no DISTILL_URL of the user's; they share the run's cache folder.
ENV = {
    k: v for k, v in os.environ.items() if not k.startswith("DISTILL_") or k == "DISTILL_CACHE_DIR"
}


async def start(client: LanguageClient, root: Path, **options: Any) -> types.InitializeResult:
    client.applied_edits = []  # type: ignore[attr-defined]

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(
        _: LanguageClient, params: types.ApplyWorkspaceEditParams
    ) -> types.ApplyWorkspaceEditResult:
        client.applied_edits.append(params)  # type: ignore[attr-defined]
        return types.ApplyWorkspaceEditResult(applied=True)

    capabilities = types.ClientCapabilities(
        window=types.WindowClientCapabilities(
            work_done_progress=True,
            show_document=types.ShowDocumentClientCapabilities(support=True),
        ),
        workspace=types.WorkspaceClientCapabilities(apply_edit=True),
    )
    return await client.initialize_session(types.InitializeParams(
        capabilities=capabilities, root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        # As the VS Code extension does: it confirms downgrades and stamps itself.
        initialization_options={"debounceMs": 20, "timeout": 3, "clientConfirms": True, **options},
    ))  # fmt: skip


def open_file(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(
            uri=uri, language_id="python", version=1,
            text=path.read_text() if text is None else text),
    ))  # fmt: skip
    return uri


_versions: dict[str, int] = {}


def edit(client: LanguageClient, uri: str, text: str) -> None:
    """Replace the whole (unsaved) buffer."""
    _versions[uri] = _versions.get(uri, 1) + 1
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=_versions[uri]),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
    ))  # fmt: skip


def codes(client: LanguageClient, uri: str) -> list[str]:
    return [str(d.code) for d in client.diagnostics.get(uri, [])]


async def until(
    client: LanguageClient,
    uri: str,
    wanted: Callable[[list[types.Diagnostic]], bool],
    timeout: float = 30.0,
) -> list[types.Diagnostic]:
    """Wait until the diagnostics published for ``uri`` satisfy ``wanted``."""

    async def poll() -> list[types.Diagnostic]:
        while True:
            found = list(client.diagnostics.get(uri, []))
            if uri in client.diagnostics and wanted(found):
                return found
            await asyncio.sleep(0.02)

    try:
        return await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        shown = [(d.code, d.range.start.line, d.message) for d in client.diagnostics.get(uri, [])]
        raise AssertionError(f"diagnostics never matched; last for {uri}: {shown}") from None


async def command(client: LanguageClient, name: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=name, arguments=list(arguments))
    )


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines()) if needle in line)


def action_command(action: types.CodeAction | types.Command) -> tuple[str, list[Any]]:
    """The command a quick fix runs.

    lsprotocol's client-side converter reads a CodeAction that carries a
    command as a plain Command whose ``command`` is the repr of the inner one
    (a known quirk of structuring ``Command | CodeAction``); both are accepted.
    """
    if isinstance(action, types.CodeAction):
        assert action.command is not None
        return action.command.command, list(action.command.arguments or [])
    inner = ast.literal_eval(action.command)
    return inner["command"], list(inner.get("arguments") or [])


async def run_action(client: LanguageClient, action: types.CodeAction | types.Command) -> Any:
    name, arguments = action_command(action)
    return await command(client, name, *arguments)


# -- servers started by hand (several per test, or one shared by many examples) ----------


def server_command(log_level: str = "WARNING") -> list[str]:
    """``distill lsp``; WARNING keeps pygls from logging every message to stderr."""
    return [sys.executable, "-m", "distill", "lsp", "--log-level", log_level]


class PublishLog(dict[str, Any]):
    """``client.diagnostics`` that also keeps every publishDiagnostics, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.history: list[tuple[str, list[types.Diagnostic]]] = []

    def __setitem__(self, uri: str, diagnostics: Any) -> None:
        self.history.append((uri, list(diagnostics)))
        super().__setitem__(uri, diagnostics)

    def published(self, uri: str) -> list[list[types.Diagnostic]]:
        return [found for where, found in self.history if where == uri]


@contextlib.asynccontextmanager
async def running_server(root: Path, **options: Any) -> AsyncIterator[LanguageClient]:
    """A ``distill lsp`` process on ``root``, initialized with ``options``, shut down after.

    Its publishDiagnostics are kept in order (``client.diagnostics.history``).
    """
    client = make_test_lsp_client()
    client.diagnostics = PublishLog()
    await client.start_io(*server_command(), env=ENV)
    try:
        await asyncio.wait_for(start(client, root, **options), 60)
        yield client
    finally:
        await stop_server(client)


async def stop_server(client: LanguageClient) -> None:
    process = client._server
    try:
        await asyncio.wait_for(client.shutdown_session(), 30)
    except Exception:  # hung or dead: end the process this test started
        if process is not None and process.returncode is None:
            process.kill()
    await asyncio.wait_for(client.stop(), 30)


async def request_status(client: LanguageClient, timeout: float = 30.0) -> Any:
    """The ``distill/status`` answer (a namedtuple: ``.databaseReachable``, ``.lastError``...)."""
    return await asyncio.wait_for(client.protocol.send_request_async("distill/status", {}), timeout)


def save(client: LanguageClient, uri: str) -> None:
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )


class Probe:
    """Knowing when the server has analysed everything sent so far.

    Diagnostics carry no document version, so "settled" is made observable: an
    unsaved buffer of a file in the version folder (on disk a plain helper module,
    which the engine skips) declares ``revision = settle_N`` without quotes, and
    the server reports that header error naming ``settle_N``.  Each analysis reads
    all buffers at once, so once ``settle_N`` is published after a new N was sent,
    an analysis that saw every earlier edit has finished, and its publishes of the
    other files came with it.  The status request that follows is answered after
    them all (one connection, in order).
    """

    NAME = "zz_settle_probe.py"

    def __init__(self, client: LanguageClient, root: Path, folder: str = "migrations/versions"):
        self.client = client
        self.path = root / folder / self.NAME
        if not self.path.exists():
            self.path.write_text(
                "# a helper module, not a revision: see tests/lsp/lsp_client.Probe\n"
            )
        self.count = 0
        self.uri = open_file(client, self.path, self._text())

    def _text(self) -> str:
        return f'"""settle probe"""\n\nrevision = settle_{self.count}\n'

    async def settle(self, timeout: float = 60.0) -> Any:
        """Wait for an analysis of everything sent so far; the status after it."""
        self.count += 1
        edit(self.client, self.uri, self._text())
        name = re.compile(rf"\bsettle_{self.count}\b")
        await until(
            self.client, self.uri, lambda ds: any(name.search(d.message) for d in ds), timeout
        )
        return await request_status(self.client, timeout)
