"""What the language server asks of the engine besides the commands themselves.

The server runs no project code and imports nothing of the engine but data
types: what it needs to plan, name and read revisions, to describe the op API
and to read the database comes from here, so this module lists, in one place,
everything the editor takes from the engine.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import exc as sa_exc

from distill.commands.project import Project
from distill.config import Config
from distill.errors import DistillError
from distill.schema.catalog_facts import CatalogFacts
from distill.scripts.graph import RevisionGraph
from distill.scripts.header import Header, header_assignments, parse_header
from distill.scripts.plans import downgrade_steps, upgrade_steps
from distill.scripts.resolve import resolve, revisions_in_range
from distill.scripts.script import Revision, revision_from_header

if TYPE_CHECKING:
    from distill.autogen.compare import Change
    from distill.lint.preflight import Check
    from distill.schema.model import Schema

# -- revisions ---------------------------------------------------------------------------


def steps(graph: RevisionGraph, current: Sequence[str], verb: str, target: str) -> list[str]:
    """The revision ids ``distill <verb> <target>`` runs from ``current``, in order."""
    plan = upgrade_steps if verb == "upgrade" else downgrade_steps
    return plan(graph, current, target)


def goes_down(graph: RevisionGraph, range_: str) -> bool:
    """Whether ``FROM:TO`` runs downwards (TO below FROM); False when it cannot be told."""
    start, _, end = range_.rpartition(":")
    if not start:
        return False
    try:
        (a,), (b,) = resolve(graph, start), resolve(graph, end)
    except (DistillError, ValueError):
        return False
    return a in graph.descendants(b)


def newest_first(graph: RevisionGraph, current: Sequence[str] = ()) -> list[Revision]:
    """Every revision, newest first, as ``distill history`` lists them."""
    return revisions_in_range(graph, None, current)


def read_header(text: str, path: Path) -> Header | None:
    """The header of a revision file's text as the engine reads it: None for a file that
    is no revision, ScriptError for one whose header is broken."""
    return parse_header(text, path)


def header_statements(tree: ast.Module) -> Iterator[tuple[str, ast.expr, ast.stmt]]:
    """The top-level assignments ``read_header`` reads: (key, value, statement)."""
    return header_assignments(tree)


def revision_of(header: Header, path: Path) -> Revision:
    return revision_from_header(header, path)


def revision_name(changes: Sequence[Change]) -> str:
    """The message a revision of ``changes`` gets ("add customers.phone")."""
    from distill.autogen.revision_name import revision_name as name_of

    return name_of(changes)


def lint_fix(text: str, line: int, fix: str) -> str:
    """``text`` with the lint's rewrite ``fix`` applied to the call on ``line`` (1-based);
    the same text when it cannot be rewritten."""
    from distill.lint.fixes import fixed

    try:
        return fixed(text, [(line, fix)])
    except SyntaxError:
        return text


# -- the op API ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    name: str
    method: Callable[..., Any]
    on_a_batch: bool  # what ``batch_op`` offers (its table changes, and what any op may call)


# What any migration may call, on ``batch_op`` as on ``op``.
_ANYWHERE = frozenset({"execute", "get_bind", "get_context", "inline_literal", "f"})


def operations(owner: str) -> list[Operation]:
    """The public methods of ``op`` (``owner="op"``) or of ``batch_op``."""
    import inspect

    from distill.ops.api import BatchOperations, Operations

    cls = BatchOperations if owner == "batch_op" else Operations
    return [
        Operation(name, member, name in vars(BatchOperations) or name in _ANYWHERE)
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_")
    ]


# -- the project and its database ------------------------------------------------------------


def worker_settings(config: Config) -> tuple[str, tuple[str | None, ...]]:
    """What the sandbox builds for: ``dialect+driver``, and the database schemas compared."""
    from distill.autogen.generate import compared_schemas, target_dialect

    dialect = target_dialect(config)
    return f"{dialect.name}+{dialect.driver}", compared_schemas(config)


@dataclass(frozen=True)
class DatabaseSnapshot:
    schema: Schema  # reflected
    applied: dict[str, str | None]  # revision -> sha256 of its file when it last ran up
    catalog: CatalogFacts  # the tables' row estimates, the unvalidated CHECKs
    version: tuple[int, ...] | None = None  # the server's, as the lint targets it


def snapshot(project: Project, current: tuple[str, ...]) -> DatabaseSnapshot:
    """The database's schema, which revisions ran from which file, what its catalog says
    (row estimates, unvalidated CHECKs) and the server's version."""
    from distill.autogen.generate import reflect_database
    from distill.commands.lint import server_version

    schema = reflect_database(project.config, lambda: project.engine)
    from distill.commands.project import catalog_facts

    return DatabaseSnapshot(
        schema,
        _applied(project, current),
        catalog_facts(project),
        server_version(project.engine.dialect),
    )


def preflight_counts(
    project: Project, checks: Sequence[Check], statement_timeout: float
) -> dict[Check, tuple[str, ...]]:
    """Each pre-flight check's problems on the database (read-only, each query stopped
    after ``statement_timeout`` seconds); DistillError when it cannot be read."""
    from distill.lint.preflight import count_checks
    from distill.runtime.database import connect, first_line

    try:
        with connect(project.engine) as conn:
            return count_checks(conn, checks, statement_timeout)
    except sa_exc.DBAPIError as error:  # a query stopped by the timeout, or refused
        raise DistillError(f"pre-flight: {first_line(str(error.orig))}") from None
    finally:
        project.dispose()


def _applied(project: Project, current: tuple[str, ...]) -> dict[str, str | None]:
    from distill.commands import database_state, last_applied
    from distill.runtime.quickread import sqlite_file_missing

    if not current:
        return {}  # and no history to read: connecting would create a SQLite file
    try:
        applied = project.graph.applied(current)
    except DistillError:
        applied = frozenset(current)
    if sqlite_file_missing(project.config.require_url()):
        return dict.fromkeys(applied)
    state = database_state(project)
    entries = [] if isinstance(state, str) else state[1]
    ran: Mapping[str, Any] = {rev: e.checksum for rev, e in last_applied(entries).items()}
    return {rev: ran.get(rev) for rev in applied}
