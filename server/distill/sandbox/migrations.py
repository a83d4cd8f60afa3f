"""The migrations' part of a build: the revision scripts, replayed in the worker's child.

Replay runs each script's ``upgrade()`` with a recording ``op`` (DESIGN.md, step 3):
user code, like the models, so it runs here and never in the language server.
The child reads the project's settings itself (as the server did: same root,
same environment); only the server's url override comes with the request.
It runs after the models' import, in the same process: a script that imports
the project's modules gets them as the editor has them, unsaved text included.

An inexact replay falls back to a scratch database here as well, with the
project's real url: handing "inexact" back to the server would have the server
run the scripts on that database itself.  The url's password stays in this
process: notes and error messages are masked before they leave.

The build's timeout covers the replay too.  At the deadline, less a margin, the
replay is interrupted wherever it is, so the error names the script and line
that hung; a script stuck in C code does not notice, and the host kills the
child at the deadline (the error then names the migrations only).
"""

from __future__ import annotations

import os
import re
import traceback
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import Dialect

from distill.autogen.compare import Change, compare
from distill.autogen.generate import migration_schema, options_for, target_dialect
from distill.commands.project import open_project
from distill.config import Config
from distill.errors import ConfigError, DistillError
from distill.lint.preflight import Check
from distill.masking import mask_text, password_of
from distill.sandbox.protocol import (
    BuildRequest,
    LintItem,
    MigrationsResult,
    ModelError,
    digest,
    dump,
)
from distill.schema.model import Schema
from distill.scripts.graph import RevisionGraph
from distill.scripts.script import scan_revisions
from distill.user_code import OutOfTime, time_limit


def run_migrations(
    request: BuildRequest, deadline: float, models: Schema | None = None
) -> MigrationsResult:
    """Each of the request's targets replayed; ``deadline`` is the build's (monotonic).

    With ``request.compare`` and the ``models`` built, the heads are compared with them.
    """
    if not request.targets:
        return MigrationsResult()
    notes: list[str] = []
    scripts: dict[str, str] = {}  # normalised path -> revision file, to place errors
    secret: str | None = None
    schemas: dict[str, Schema] = {}
    changes: tuple[Change, ...] | None = None
    found: tuple[LintItem, ...] | None = None
    checks: tuple[Check, ...] | None = None
    error: ModelError | None = None
    try:
        with time_limit(deadline - min(DEADLINE_MARGIN, request.timeout / 10)):
            config = project_config(request)
            secret = password_of(config.url)
            graph = RevisionGraph(scan_revisions(config.version_locations))
            scripts = {_normal(str(r.path)): str(r.path) for r in graph.revisions.values()}
            dialect = target_dialect(config)
            for target in request.targets:
                schemas[target] = migration_schema(graph, config, dialect, notes.append, target)
            if request.compare and models is not None and "heads" in schemas:
                changes = tuple(compare(schemas["heads"], models, options_for(config)))
            if request.lint is not None:
                try:
                    start = _lint_start(graph, config, dialect, request, schemas, notes)
                    found, checks = _lint(graph, config, dialect, start, request)
                except DistillError as problem:  # bad [lint] settings: the drift still shows
                    notes.append(f"note: the revisions were not linted: {problem}")
    except OutOfTime as stopped:
        file, line = _location(stopped, scripts)
        at = f" in {file}:{line}" if file else ""
        why = f"replaying the migrations timed out after {request.timeout:g} s{at}"
        error = ModelError("timeout", why, file, line)
    except BaseException as failure:  # SystemExit and KeyboardInterrupt from a script too
        error = _failure(failure, scripts)
    if error is not None:
        return MigrationsResult(error=_masked(error, secret))
    digests = {target: digest_of(schema) for target, schema in schemas.items()}
    unsent = {t: s for t, s in schemas.items() if request.known.get(t) != digests[t]}
    masked = tuple(mask_text(note, secret) for note in notes)
    return MigrationsResult(
        unsent, masked, digests=digests, changes=changes, lint=found, preflight=checks
    )


def _lint_start(
    graph: RevisionGraph,
    config: Config,
    dialect: Dialect,
    request: BuildRequest,
    replayed: Mapping[str, Schema],
    notes: list[str],
) -> Schema | None:
    """The applied revisions' schema, from this build's replay or the replay cache; None
    when the database is at base or at several revisions (the lint replays what is applied)."""
    start = request.lint_start
    if start is None:
        return None
    return replayed.get(start) or migration_schema(graph, config, dialect, notes.append, start)


def _lint(
    graph: RevisionGraph,
    config: Config,
    dialect: Dialect,
    start: Schema | None,
    request: BuildRequest,
) -> tuple[tuple[LintItem, ...], tuple[Check, ...] | None]:
    """The lint of the revisions not applied (``request.lint``), as ``distill lint`` finds
    it (for the server version in the settings, else the one the server read), of their
    texts as the editor has them (``request.overlays``, unsaved ones included), with the
    row estimates the server read; and, when asked, the pre-flight counts they need, from
    the same replay of those revisions."""
    from distill.commands.lint import lint_run
    from distill.lint.engine import lint_recorded, recorded_run
    from distill.lint.preflight import checks_of

    assert request.lint is not None
    run = lint_run(config, dialect, request.server_version, request.catalog)
    recorded = recorded_run(
        graph, request.lint, dialect, start, run.naming_convention, request.overlays
    )
    items = tuple(
        LintItem(f.code, f.severity, str(f.path), f.line, f.message, f.fix)
        for f in lint_recorded(recorded, run, request.overlays)
    )
    return items, tuple(checks_of(recorded, dialect)) if request.preflight else None


_CONFIGS: dict[tuple[str, str | None], Config] = {}


def project_config(request: BuildRequest) -> Config:
    """The project's settings, read once per child process; an Alembic project's env.py
    is read against an in-memory stand-in database, so no keystroke connects to the real one."""
    key = (request.root, request.url)
    if key not in _CONFIGS:
        project = open_project(Path(request.root), url=request.url, env_mode="editor")
        _CONFIGS[key] = project.config
    return _CONFIGS[key]


# Digests of schemas the host holds in memory (see replay_cache.hold_latest): a
# child handed one of them by the replay cache need not pickle it to know it.
_KNOWN_DIGESTS: dict[int, tuple[Schema, str]] = {}


def remember_digest(schema: Schema) -> None:
    _KNOWN_DIGESTS.clear()
    _KNOWN_DIGESTS[id(schema)] = (schema, digest(dump(schema)))


def digest_of(schema: Schema) -> str:
    known = _KNOWN_DIGESTS.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    return digest(dump(schema))


def _masked(error: ModelError, secret: str | None) -> ModelError:
    return ModelError(error.kind, mask_text(error.message, secret), error.file, error.line)


# -- what went wrong, and where --------------------------------------------------------------


def _failure(error: BaseException, scripts: Mapping[str, str]) -> ModelError:
    file, line = _location(error, scripts)
    if isinstance(error, ConfigError):
        return ModelError("config", _first_line(error))
    if isinstance(error, DistillError):  # its message names the file and what to do
        return ModelError("migration", _first_line(error), file, line)
    if isinstance(error, SystemExit):
        code = "" if error.code is None else repr(error.code)
        what = f"called sys.exit({code})"
    else:
        text = _first_line(error)
        what = type(error).__name__ + (f": {text}" if text else "")
    at = f"{file}:{line}: " if file else ""
    return ModelError("migration", f"{at}{what} (while replaying the migrations)", file, line)


def _location(error: BaseException, scripts: Mapping[str, str]) -> tuple[str | None, int | None]:
    """The revision file (and line) an error comes from.

    The replay re-raises a script's exception as a one-line ScriptError ``from
    None``; the original, with its traceback, is still its context.
    """
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, SyntaxError) and seen.filename:
            found = scripts.get(_normal(seen.filename))
            if found is not None:
                return found, seen.lineno
        inside = [
            f for f in traceback.extract_tb(seen.__traceback__) if _normal(f.filename) in scripts
        ]
        if inside:
            return scripts[_normal(inside[-1].filename)], inside[-1].lineno
        seen = seen.__context__
    text = str(error)  # messages name the file as "<path>:<line>"
    for script in scripts.values():
        at = text.find(script)
        if at >= 0:
            number = re.match(r":(\d+)", text[at + len(script) :])
            return script, int(number.group(1)) if number else None
    return None, None


def _normal(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _first_line(error: BaseException) -> str:
    try:
        text = str(error).strip()
    except Exception:  # a user exception's __str__ may raise too
        return "(unprintable)"
    return text.splitlines()[0] if text else ""


# -- the deadline ------------------------------------------------------------------------------

# Before the host's deadline by this much (at most a tenth of the timeout): time
# to report where it stopped, and for a scratch database to be dropped.
DEADLINE_MARGIN = 0.5
