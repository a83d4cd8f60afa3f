"""Quick fixes, ``workspace/executeCommand`` commands and the custom status requests.

Every command calls ``distill.commands`` as the CLI does, in a thread, with
``$/progress`` when the client supports it, and returns a JSON-able result.
A user error (a ``DistillError``) comes back as an LSP error carrying its
one-line message; the server itself goes on.  After anything that changes the
database or the revision files, the drift is analysed again.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import typing
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from types import UnionType as types_union
from typing import TYPE_CHECKING, Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.uris import from_fs_path

from distill import commands
from distill.authoring import NewRevision
from distill.commands import editor
from distill.errors import DistillError
from distill.lsp.cli_runs import Finished, run_cli
from distill.lsp.drift import DATABASE, MODELS
from distill.lsp.language_server import DistillServer

if TYPE_CHECKING:
    from distill.lsp.session import Analysis

log = logging.getLogger("distill.lsp")
T = TypeVar("T")
USER_ERROR = -32001  # an error the user can fix; its message says how


# -- quick fixes ------------------------------------------------------------------------------


_FIX_TITLES = {
    "concurrent-index": "Build the index CONCURRENTLY, in an autocommit block",
    "autocommit-block": "Run it in an autocommit block",
    "not-valid": "Add it NOT VALID, then VALIDATE it in its own transaction",
    "lock-timeout": "Set a lock timeout before it",
    "split-not-null": "Add it nullable, backfill, then SET NOT NULL behind a validated CHECK",
}


def code_actions(
    analysis: Analysis | None,
    diagnostics: Sequence[types.Diagnostic],
    uri: str = "",
    text: str | None = None,
) -> list[types.CodeAction]:
    found: dict[str, types.CodeAction] = {}
    count = analysis.drift_count if analysis is not None else 0
    for diagnostic in diagnostics:
        if diagnostic.source != "distill" or not isinstance(diagnostic.data, dict):
            continue
        data = diagnostic.data
        rewrite = _lint_rewrite(diagnostic, uri, text)
        if rewrite is not None:
            found.setdefault(rewrite.title, rewrite)
        for title, command, arguments in _fixes(data, count):
            found.setdefault(title, types.CodeAction(
                title=title, kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                command=types.Command(title=title, command=command, arguments=arguments),
            ))  # fmt: skip
    return list(found.values())


def _lint_rewrite(
    diagnostic: types.Diagnostic, uri: str, text: str | None
) -> types.CodeAction | None:
    """The lint's rewrite of the call, as an edit of the whole file (what ``distill lint
    --fix`` writes; the CLI also checks the schema stays the same)."""
    data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
    fix, line = data.get("fix"), data.get("line")
    if not (isinstance(fix, str) and isinstance(line, int) and text is not None and uri):
        return None
    new = editor.lint_fix(text, line, fix)
    if new == text:
        return None
    end = types.Position(line=len(text.splitlines()) + 1, character=0)
    edit = types.TextEdit(range=types.Range(start=types.Position(0, 0), end=end), new_text=new)
    title = _FIX_TITLES.get(fix, "Rewrite it safely")
    return types.CodeAction(
        title=title, kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic],
        edit=types.WorkspaceEdit(changes={uri: [edit]}),
    )  # fmt: skip


def _fixes(data: dict[str, Any], count: int) -> list[tuple[str, str, list[Any]]]:
    code, pair = data.get("code"), data.get("pair")
    fixes: list[tuple[str, str, list[Any]]] = []
    if code == "drift.possible-rename":
        fixes.append((f"Generate as a rename of {data['old']}", "distill.revision",
                      [{"message": f"rename {data['old']} to {data['new']}", "autogenerate": True,
                        "renames": [data["rename"]]}]))  # fmt: skip
    if pair == MODELS and count:  # "0 model changes" would write an empty revision
        changes = f"{count} model change{'s' if count != 1 else ''}"
        fixes.append((f"Generate revision for {changes}", "distill.revision",
                      [{"autogenerate": True}]))  # fmt: skip
        if data.get("table") and code in ("drift.table-not-migrated", "drift.table-not-in-models"):
            fixes.append((f"Ignore table {data['table']}", "distill.ignoreTable", [data["table"]]))
    if pair == DATABASE and code == "drift.database-behind":
        fixes.append(("Upgrade database to head", "distill.upgrade", ["head"]))
        if data.get("current"):  # at base there is nothing to revert
            fixes.append(("Downgrade one revision", "distill.downgrade", ["-1"]))
    if code == "drift.hand-made":
        if data.get("keepable"):  # the models made the same change, the database is at head
            fixes.append(("Generate a revision that keeps the database's change",
                          "distill.keepDatabaseChange", []))  # fmt: skip
        fixes.append(("Show what differs", "distill.check", []))
    if code == "migration.multiple-heads":
        fixes.append(("Merge heads", "distill.merge", [{"message": "merge heads"}]))
    return fixes


# -- commands ------------------------------------------------------------------------------


CommandHandler = Callable[..., Any]


def _command(server: DistillServer, name: str) -> Callable[[CommandHandler], CommandHandler]:
    """``@server.command(name)`` with the handler's defaults honoured.

    VS Code sends ``"arguments": []`` for a command given none, and pygls 2 then
    wants every parameter, defaults included ("Expected 1 arguments, got 0"):
    the arguments are bound here instead, each checked against its annotation.
    """

    def register(handler: CommandHandler) -> CommandHandler:
        signature = inspect.signature(handler)
        hints = typing.get_type_hints(handler)

        async def bound(ls: DistillServer, *arguments: Any) -> Any:
            try:
                call = signature.bind(ls, *arguments)
            except TypeError as error:
                raise JsonRpcInvalidParams(f"{name}: {error}") from None
            for key, value in list(call.arguments.items())[1:]:
                if not _is_a(value, hints.get(key, Any)):
                    raise JsonRpcInvalidParams(
                        f"{name}: {key.rstrip('_')} must be {_kind(hints[key])}, "
                        f"not {json.dumps(value)}"
                    )
            return await handler(*call.args, **call.kwargs)

        server.command(name)(bound)
        return handler

    return register


def _alternatives(hint: Any) -> tuple[Any, ...]:
    """``str | None`` -> (str, NoneType), ``dict[str, Any]`` -> (dict,)."""
    union = typing.get_origin(hint) in (types_union, typing.Union)
    return tuple(typing.get_origin(k) or k for k in (typing.get_args(hint) if union else (hint,)))


def _is_a(value: Any, hint: Any) -> bool:
    return hint is Any or any(isinstance(value, kind) for kind in _alternatives(hint))


def _kind(hint: Any) -> str:
    names = {str: "a string", bool: "true or false", dict: "an object", type(None): "null"}
    return " or ".join(names.get(kind, str(kind)) for kind in _alternatives(hint))


def register_commands(server: DistillServer) -> None:
    @_command(server, "distill.upgrade")
    async def upgrade(ls: DistillServer, target: str = "head") -> dict[str, Any]:
        return await _migrate(ls, "upgrade", target)

    @_command(server, "distill.downgrade")
    async def downgrade(ls: DistillServer, target: str = "-1") -> dict[str, Any]:
        return await _migrate(ls, "downgrade", target)

    @_command(server, "distill.stamp")
    async def stamp(ls: DistillServer, target: str, purge: bool = False) -> dict[str, Any]:
        only = "This only rewrites the version table: no migration runs, no table changes."
        if not await _confirmed(ls, f"Stamp the database as {target}?", [only], "Stamp"):
            current = await _run(ls, None, lambda p: commands.read_heads(p))
            return {"current": list(current), "cancelled": True}
        ran = await _run_steps(
            ls, f"Stamping {target}", ["stamp", target, *(["--purge"] if purge else [])]
        )
        return {"current": ran["after"], **ran}

    @_command(server, "distill.revision")
    async def revision(ls: DistillServer, options: dict[str, Any] | None = None) -> dict[str, Any]:
        return await _new_revision(ls, options or {})

    @_command(server, "distill.keepDatabaseChange")
    async def keep_database_change(ls: DistillServer, message: str = "") -> dict[str, Any]:
        """A change made by hand that the models made too: written as a revision and
        stamped as applied, so the database is left exactly as it is."""
        session = _session(ls)
        result = await asyncio.to_thread(session.worker().build, ls.buffers(), targets=["heads"])
        if result.error is not None or result.schema is None:
            why = result.error.message if result.error else "?"
            raise JsonRpcException(f"the models could not be loaded: {why}", code=USER_ERROR)
        models, heads = result.schema, result.migrations.schemas.get("heads")
        if result.migrations.error is not None or heads is None:
            why = result.migrations.error.message if result.migrations.error else "?"
            raise JsonRpcException(f"the migrations could not be replayed: {why}", code=USER_ERROR)
        path = await _run(ls, "Generating a revision", lambda p: commands.keep_database_change(
            p, NewRevision(message), models=models, migrations=heads))  # fmt: skip
        revision = commands.Project(session.config).graph.heads
        ran = await _run_steps(ls, "Marking it applied", ["stamp", *revision])
        await _show(ls, path)
        return {"path": str(path), "uri": from_fs_path(str(path)), "stamped": ran["after"]}

    @_command(server, "distill.merge")
    async def merge(ls: DistillServer, options: dict[str, Any] | None = None) -> dict[str, Any]:
        message = str((options or {}).get("message") or "merge heads")
        path = await _run(ls, "Merging heads", lambda p: commands.merge(
            p, ["heads"], NewRevision(message)))  # fmt: skip
        ls.schedule(0)
        await _show(ls, path)
        return {"path": str(path), "uri": from_fs_path(str(path))}

    @_command(server, "distill.current")
    async def current(ls: DistillServer) -> dict[str, Any]:
        found = await _run(ls, None, lambda p: commands.current(p))
        return {"current": [{"id": c.id, "isHead": c.is_head,
                             "message": c.revision.message if c.revision else None}
                            for c in found]}  # fmt: skip

    @_command(server, "distill.heads")
    async def heads(ls: DistillServer) -> dict[str, Any]:
        found = await _run(ls, None, lambda p: commands.heads(p))
        return {"heads": [_revision_json(r) for r in found]}

    @_command(server, "distill.history")
    async def history(ls: DistillServer, range_: str | None = None) -> dict[str, Any]:
        lines, problem = await _run(ls, None, lambda p: commands.history(
            p, range_, indicate_current=True))  # fmt: skip
        return {"revisions": [{**_revision_json(line.revision), "isHead": line.is_head,
                               "isCurrent": line.is_current} for line in lines],
                "databaseProblem": problem}  # fmt: skip

    @_command(server, "distill.showSql")
    async def show_sql(ls: DistillServer, range_: str) -> dict[str, Any]:
        verb = "downgrade" if _is_downgrade(ls, range_) else "upgrade"
        done = await _cli(ls, None, [verb, range_, "--sql"])
        return {"sql": done.stdout}

    @_command(server, "distill.check")
    async def check(ls: DistillServer) -> dict[str, Any]:
        # Exit 1 means differences were found: the JSON says which.
        done = await _cli(ls, "Checking drift", ["check", "--format", "json"], ok_codes=(0, 1))
        report = json.loads(done.stdout)
        lines = [f"{d['pair']}: {d['message']}" for d in report["differences"]]
        return {"ok": report["ok"], "database": report["database"], "lines": lines}

    @_command(server, "distill.ignoreTable")
    async def ignore_table(ls: DistillServer, table: str) -> dict[str, Any]:
        session = _session(ls)
        path = await asyncio.to_thread(_add_excluded_table, session.config_file, table)
        session.reload()
        ls.schedule(0)
        return {"path": str(path)}


async def _migrate(ls: DistillServer, verb: str, target: str) -> dict[str, Any]:
    """Upgrade or downgrade, run by the CLI; a downgrade is confirmed first, listing what
    its plan reverts.  The result lists the steps that ran, as the CLI reported them."""

    def reverting(project: commands.Project) -> tuple[tuple[str, ...], list[str]]:
        before = commands.read_heads(project)
        graph = project.graph
        steps = editor.steps(graph, before, verb, target)
        return before, [_reverted_line(graph.revisions[step]) for step in steps]

    if verb == "downgrade":
        before, reverted = await _run(ls, None, reverting)
        asked = f"Downgrade the database to {target}?"
        if reverted and not await _confirmed(ls, asked, reverted, "Downgrade"):
            return {"before": list(before), "after": list(before), "steps": [], "cancelled": True}
    title = f"{'Upgrading' if verb == 'upgrade' else 'Downgrading'} to {target}"
    return await _run_steps(ls, title, [verb, target])


async def _run_steps(ls: DistillServer, title: str, arguments: list[str]) -> dict[str, Any]:
    """``distill upgrade|downgrade|stamp ... --format json``: its steps shown as progress as
    they run; the answer is what ran (``before``, ``after``, ``steps``).  A run that fails
    part-way says which steps had finished, in the error's data."""
    session = _session(ls)
    token = await _begin(ls, title)
    finished: list[str] = []
    result: dict[str, Any] = {}

    def on_line(line: str) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            return  # not ours (a revision that prints)
        if not isinstance(event, dict):
            return
        if event.get("event") == "result":
            result.update(event)
        elif event.get("event") == "step":
            step = f"{event['direction']} {event['revision']}"
            if event.get("state") == "finished":
                finished.append(step)
            elif token is not None:
                percentage = int(100 * (event["index"] - 1) / event["total"])
                report = types.WorkDoneProgressReport(message=step, percentage=percentage)
                ls.work_done_progress.report(token, report)

    try:
        await run_cli(
            session.root, [*arguments, "--format", "json"], python=session.settings.python,
            url=session.settings.database_url, on_line=on_line,
        )  # fmt: skip
    except DistillError as error:
        raise JsonRpcException(str(error), code=USER_ERROR, data={"steps": finished}) from None
    finally:
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd())
        ls.schedule(0, refresh_database=True)
    steps = [f"{s['direction']} {s['revision']}" for s in result.get("steps", [])]
    return {"before": result.get("before", []), "after": result.get("after", []), "steps": steps}


def _reverted_line(revision: Any) -> str:
    drops = _drops(revision.path)
    line = f"↓ {revision.id[:7]} {revision.message or ''}".rstrip()
    return f"{line} — drops {', '.join(drops)}" if drops else line


async def _confirmed(ls: DistillServer, question: str, lines: list[str], button: str) -> bool:
    """Ask before a destructive command, through window/showMessageRequest, unless the
    client asks itself (the VS Code extension's ``clientConfirms``)."""
    if ls.settings.client_confirms:
        return True
    message = "\n".join([f"Distill: {question}", *lines])
    answer = await ls.window_show_message_request_async(types.ShowMessageRequestParams(
        type=types.MessageType.Warning, message=message,
        actions=[types.MessageActionItem(title=button), types.MessageActionItem(title="Cancel")],
    ))  # fmt: skip
    return answer is not None and answer.title == button


async def _cli(
    ls: DistillServer, title: str | None, arguments: list[str], ok_codes: tuple[int, ...] = (0,)
) -> Finished:
    session = _session(ls)
    token = await _begin(ls, title) if title else None
    try:
        return await run_cli(
            session.root, arguments, python=session.settings.python,
            url=session.settings.database_url, ok_codes=ok_codes,
        )  # fmt: skip
    except DistillError as error:
        raise JsonRpcException(str(error), code=USER_ERROR) from None
    finally:
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd())


async def _new_revision(ls: DistillServer, options: dict[str, Any]) -> dict[str, Any]:
    session = _session(ls)
    autogenerate = bool(options.get("autogenerate", True))
    renames = [str(r) for r in options.get("renames", [])]
    message = str(options.get("message") or "")
    models = migrations = None
    notes: list[str] = []
    if autogenerate:
        # The models are built and the revisions replayed in the worker process, never
        # in this one: both run the user's code.
        result = await asyncio.to_thread(session.worker().build, ls.buffers(), targets=["heads"])
        if result.error is not None or result.schema is None:
            raise JsonRpcException(
                f"the models could not be loaded: {result.error.message if result.error else '?'}",
                code=USER_ERROR,
            )
        if result.migrations.error is not None:
            raise JsonRpcException(
                f"the migrations could not be replayed: {result.migrations.error.message}",
                code=USER_ERROR,
            )
        models, migrations = result.schema, result.migrations.schemas["heads"]
        notes += result.migrations.notes
    # Left empty, an autogenerated revision is named after its changes.
    message = message or ("" if autogenerate else "new revision")
    path = await _run(ls, "Generating a revision", lambda p: commands.revision(
        p, NewRevision(message), autogenerate=autogenerate,
        renames=renames, notify=notes.append, models=models,
        migrations=migrations))  # fmt: skip
    if path is None:
        raise JsonRpcException(
            "no revision written: env.py's process_revision_directives asked for none",
            code=USER_ERROR,
        )
    ls.schedule(0)  # the drift the new revision captured goes, whether it opens or not
    await _show(ls, path)
    return {"path": str(path), "uri": from_fs_path(str(path)), "notes": notes}


async def _run(ls: DistillServer, title: str | None, work: Callable[[commands.Project], T]) -> T:
    """``work`` in a thread on a fresh Project, with progress, user errors as LSP errors."""
    session = _session(ls)
    project = session.project()
    token = await _begin(ls, title) if title else None
    try:
        return await asyncio.to_thread(work, project)
    except DistillError as error:
        raise JsonRpcException(str(error), code=USER_ERROR) from None
    finally:
        project.dispose()
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd())


async def _begin(ls: DistillServer, title: str) -> str | None:
    capabilities = ls.client_capabilities
    if not (capabilities.window and capabilities.window.work_done_progress):
        return None
    token = str(uuid.uuid4())
    await ls.work_done_progress.create_async(token)
    ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=f"Distill: {title}"))
    return token


async def _show(ls: DistillServer, path: Path) -> None:
    """Open ``path`` in the editor, where the client says it can (``showDocument.support``,
    not the capability's mere presence); a client that fails the request still gets
    the file written and the result with its path."""
    window = ls.client_capabilities.window
    if not (window and window.show_document and window.show_document.support):
        return
    uri = from_fs_path(str(path)) or str(path)
    try:
        await ls.window_show_document_async(types.ShowDocumentParams(uri=uri, take_focus=True))
    except Exception as error:  # MethodNotFound from a client that claimed it, and the like
        log.warning("the editor could not open %s: %s", path, error)


def _session(ls: DistillServer) -> Any:
    if ls.session is None:
        raise JsonRpcException(ls.status_error or "no Distill project here", code=USER_ERROR)
    return ls.session


def _is_downgrade(ls: DistillServer, range_: str) -> bool:
    return editor.goes_down(_session(ls).project().graph, range_)


def _revision_json(revision: Any) -> dict[str, Any]:
    return {
        "id": revision.id,
        "message": revision.message,
        "parents": list(revision.down_revisions),
        "dependsOn": list(revision.depends_on),
        "branchLabels": list(revision.branch_labels),
        "createDate": revision.create_date,
        "uri": from_fs_path(revision.file),
    }


def _drops(path: Path) -> tuple[str, ...]:
    from distill.lsp.downgrade_drops import downgrade_drops

    try:
        return downgrade_drops(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return ()


def _add_excluded_table(config_file: Path | None, table: str) -> Path:
    from distill.lsp.settings_edit import add_excluded_table

    if config_file is None:
        raise JsonRpcException("no settings file to add the table to", code=USER_ERROR)
    try:
        add_excluded_table(config_file, table)
    except DistillError as error:
        raise JsonRpcException(str(error), code=USER_ERROR) from None
    return config_file


# -- custom requests ---------------------------------------------------------------------------


def status(ls: DistillServer) -> dict[str, Any]:
    analysis, session = ls.analysis, ls.session
    return {
        "project": str(session.root) if session is not None else None,
        "trusted": ls.trusted,
        "current": list(analysis.current) if analysis and analysis.current is not None else None,
        "heads": list(analysis.heads) if analysis else [],
        "pending": analysis.pending if analysis else 0,
        "drift": analysis.drift_count if analysis else 0,
        "handMade": analysis.hand_made_count if analysis else 0,
        "databaseReachable": bool(analysis and analysis.database_error is None),
        "lastError": ls.status_error
        or (analysis.database_error if analysis else None)
        or (analysis.model_error.message if analysis and analysis.model_error else None),
    }


def revisions(ls: DistillServer) -> dict[str, Any]:
    session = _session(ls)
    project = session.project()
    try:
        graph = project.graph
    except DistillError as error:
        return {"revisions": [], "error": str(error)}
    try:
        read: tuple[str, ...] | None = commands.read_heads(project)
    except DistillError:
        read = None  # unreachable: the graph is still worth showing
    finally:
        project.dispose()
    current = read or ()
    applied = graph.applied(current) if read is not None else frozenset()
    return {
        "revisions": [
            {**_revision_json(r), "isHead": r.id in graph.heads,
             "applied": (r.id in applied) if read is not None else None,
             # What its downgrade() drops, for the confirmation (applied ones only).
             "drops": list(_drops(r.path)) if r.id in applied else None,
             "isCurrent": r.id in current, "isMerge": len(r.down_revisions) > 1,
             "isBranchPoint": len(graph.children(r.id)) > 1}
            for r in editor.newest_first(graph, current)
        ],
        "current": list(current),
        "heads": list(graph.heads),
    }  # fmt: skip
