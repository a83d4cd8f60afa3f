"""The language server: LSP messages in, Distill's analysis and commands out.

``distill lsp`` runs it on stdio.  Edits are debounced and analysed in a
thread (``Session.analyse``); the result is published as diagnostics on the
model lines and the revision files.  Commands and quick fixes call
``distill.commands`` like the CLI does (``actions``).

Initialization options (all optional):
``trusted`` (only the boolean true, or no ``trusted`` at all, trusts; anything
else imports and runs nothing), ``debounceMs`` (300),
``databaseUrl`` (overrides the project's url), ``timeout`` (seconds for the
models to import, 10), ``python`` (interpreter for the model worker),
``inlayHints`` (false: a word after each model line that is not in sync),
``clientConfirms`` (false: the server asks before a downgrade or stamp).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from distill.errors import DistillError
from distill.lsp import actions, completion, convert, migration_files
from distill.lsp.language_server import UNTRUSTED, DistillServer
from distill.lsp.options import read_options
from distill.lsp.session import Session, find_project_root
from distill.sandbox.log_mask import mask_logging

log = logging.getLogger("distill.lsp")

server = DistillServer()


# -- lifecycle ------------------------------------------------------------------------------


@server.feature(types.INITIALIZE)
def initialize(ls: DistillServer, params: types.InitializeParams) -> None:
    options = read_options(params.initialization_options)
    ls.trusted, ls.debounce, ls.settings = (
        options.trusted,
        options.debounce_seconds,
        options.settings,
    )
    ls.option_problems = options.problems
    folder = params.workspace_folders[0].uri if params.workspace_folders else params.root_uri
    path = to_fs_path(folder) if folder else None
    ls.root = Path(path) if path else None


@server.feature(types.INITIALIZED)
async def initialized(ls: DistillServer, params: types.InitializedParams) -> None:
    for problem in ls.option_problems:  # said once, whatever else happens
        ls.window_show_message(types.ShowMessageParams(
            type=types.MessageType.Warning, message=f"Distill: {problem}"))  # fmt: skip
    root = find_project_root(ls.root) if ls.root is not None else None
    if root is None:
        log.info("no Distill settings in %s: nothing to do", ls.root)
        return
    if not ls.trusted:
        ls.status_error = UNTRUSTED
        ls.publish_all(convert.untrusted(root, UNTRUSTED))
        return
    try:
        ls.session = Session(root, ls.settings)
    except DistillError as error:
        ls.status_error = str(error)
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=f"Distill: {error}")
        )
        return
    ls.schedule(0, refresh_database=True)
    await _watch_files(ls)


async def _watch_files(ls: DistillServer) -> None:
    """Ask the client to report changes made outside the editor (a new revision from
    the CLI, a pulled branch, edited settings): each one triggers an analysis."""
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    if not (watched and watched.dynamic_registration):
        return
    globs = ("**/*.py", "**/pyproject.toml", "**/distill.toml", "**/alembic.ini")
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in globs]
    )
    registration = types.Registration(
        id="distill-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=options,
    )  # fmt: skip
    await ls.client_register_capability_async(types.RegistrationParams([registration]))


@server.feature(types.SHUTDOWN)
def shutdown(ls: DistillServer, params: None) -> None:
    ls.stop()


# -- documents ------------------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: DistillServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.schedule()


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: DistillServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.schedule()


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: DistillServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.schedule()


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: DistillServer, params: types.DidSaveTextDocumentParams) -> None:
    session = ls.session
    if session is None:
        return
    path = to_fs_path(params.text_document.uri)
    if path is not None and session.config_file is not None and Path(path) == session.config_file:
        session.reload()
    ls.schedule(0, refresh_database=True)


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def watched_files(ls: DistillServer, params: types.DidChangeWatchedFilesParams) -> None:
    session = ls.session
    if session is None:
        return
    settings = session.config_file
    if settings is not None and any(to_fs_path(c.uri) == str(settings) for c in params.changes):
        session.reload()
    ls.schedule(refresh_database=True)


# -- revision files -------------------------------------------------------------------------


def _revision_files(ls: DistillServer) -> migration_files.RevisionFiles | None:
    session = ls.session
    if session is None:
        return None
    return session.revision_files(ls.buffers())


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: DistillServer, params: types.HoverParams) -> types.Hover | None:
    files, path = _revision_files(ls), to_fs_path(params.text_document.uri)
    if files is None or path is None or ls.session is None:
        return None
    position = params.position
    text = migration_files.hover(
        files, path, position.line, position.character, ls.session.view.applied
    )
    if text is None and path not in files.files:
        text = ls.session.model_hover(path, position.line, ls.buffers())
    if text is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def definition(ls: DistillServer, params: types.DefinitionParams) -> types.Location | None:
    files, path = _revision_files(ls), to_fs_path(params.text_document.uri)
    if files is None or path is None:
        return None
    position = params.position
    found = migration_files.definition(files, path, position.line, position.character)
    if found is None and ls.session is not None and path in files.files:
        # A table or column named in an op.* argument: the model that declares it.
        named = completion.named_at(files.files[path].text, position.line, position.character)
        if named is not None:
            found = ls.session.model_location(*named, ls.buffers())
    if found is None:
        return None
    target, span = found
    return types.Location(uri=from_fs_path(target) or target, range=convert.range_of(span))


@server.feature(types.TEXT_DOCUMENT_CODE_LENS)
def code_lens(ls: DistillServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    files, path = _revision_files(ls), to_fs_path(params.text_document.uri)
    if files is None or path is None or ls.session is None:
        return []
    view = ls.session.view
    return [
        types.CodeLens(
            range=convert.range_of(lens.span),
            command=types.Command(title=lens.title, command=lens.command, arguments=lens.arguments),
        )
        for lens in migration_files.lenses(files, path, view.applied, view.current or ())
    ]


@server.feature(
    types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=['"', "'", "."])
)
def complete(ls: DistillServer, params: types.CompletionParams) -> types.CompletionList | None:
    files, path = _revision_files(ls), to_fs_path(params.text_document.uri)
    if files is None or path is None or ls.session is None:
        return None
    file = files.files.get(path)
    if file is None or not file.is_revision:
        return None
    position = params.position
    found = completion.suggestions(
        file.text, position.line, position.character, ls.session.schema_at_heads()
    )
    if not found and ls.settings.op_completion:
        found = completion.operation_suggestions(file.text, position.line, position.character)
    kinds = {"table": types.CompletionItemKind.Class, "column": types.CompletionItemKind.Field,
             "method": types.CompletionItemKind.Method}  # fmt: skip
    return types.CompletionList(is_incomplete=False, items=[
        types.CompletionItem(
            label=s.label, kind=kinds[s.kind], detail=s.detail,
            documentation=types.MarkupContent(types.MarkupKind.Markdown, s.documentation)
            if s.documentation else None,
        )
        for s in found
    ])  # fmt: skip


@server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
def inlay_hint(ls: DistillServer, params: types.InlayHintParams) -> list[types.InlayHint]:
    path = to_fs_path(params.text_document.uri)
    session = ls.session
    if not ls.settings.inlay_hints or ls.analysis is None or path is None or session is None:
        return []
    text = session.text_of(path, ls.buffers())
    return convert.inlay_hints(ls.analysis.placed.get(path, []), text, params.range)


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
)
def code_action(ls: DistillServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    path = to_fs_path(uri)
    text = ls.session.text_of(path, ls.buffers()) if ls.session is not None and path else None
    return actions.code_actions(ls.analysis, params.context.diagnostics, uri, text)


# -- status for the editor's status bar and revision tree ------------------------------------


@server.feature("distill/status")
async def status(ls: DistillServer, params: Any) -> dict[str, Any]:
    await ls.caught_up()
    return actions.status(ls)


@server.feature("distill/revisions")
async def revisions(ls: DistillServer, params: Any) -> dict[str, Any]:
    return await asyncio.to_thread(actions.revisions, ls)


@server.feature("distill/proposedMessage")
def proposed_message(ls: DistillServer, params: Any) -> dict[str, Any]:
    """What New Revision proposes as its message: the name of the model changes."""
    return {"message": ls.session.proposed_message() if ls.session is not None else None}


actions.register_commands(server)


def main() -> None:
    # The editor shows stderr as the server's log; pygls logs every message it reads
    # and sends there (the databaseUrl of the initialize request among them).
    mask_logging()
    # The editor leaves the project as it is: no __pycache__ of the models or the
    # revisions, written by this process, the worker or the commands it runs.
    sys.dont_write_bytecode = True
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    server.start_io()
