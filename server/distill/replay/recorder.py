"""Migrations -> Schema without a database: symbolic replay (DESIGN.md, step 3).

Each revision's ``upgrade()`` runs with an ``op`` that records instead of
executing: every op is applied to the schema built so far, starting from an
empty one.  Nothing reaches a database and no SQL is produced.  When a script
does something whose effect only a database knows — raw structural SQL in
``op.execute()``, ``op.get_bind()`` — the result says so (``exact`` is False,
``reasons`` name the file and statement), and the caller may fall back to
``autogen.scratch``, which runs the scripts for real on a throw-away database.
"""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from distill.ddl.context import NamingConvention, OpContext
from distill.errors import ScriptError
from distill.ops.api import Operations
from distill.ops.base import Op, TableChange
from distill.ops.batch import BatchAlterTable
from distill.ops.column import AlterColumn, restated_as_alembic
from distill.ops.constraint import DropConstraint
from distill.ops.proxy import operations_in_effect
from distill.replay.apply import apply_op
from distill.replay.cache import ReplayCache
from distill.replay.schema import InexactReplay
from distill.runtime.database import first_line
from distill.schema.from_metadata import dialect_flavour, schema_dialect_name
from distill.schema.model import Schema
from distill.scripts.graph import RevisionGraph
from distill.scripts.plans import upgrade_steps
from distill.scripts.script import Revision, line_in, load_module
from distill.user_code import exit_call


@dataclass(frozen=True)
class ReplayResult:
    schema: Schema
    exact: bool
    reasons: tuple[str, ...] = ()  # why not exact: "<file>: <what>", one per cause


def replay(
    graph: RevisionGraph,
    dialect: sa.Dialect,
    target: str = "heads",
    cache: Path | None = None,
    *,
    naming_convention: NamingConvention | None = None,
    as_alembic: bool = False,
) -> ReplayResult:
    """The schema ``upgrade`` from an empty database to ``target`` would build.

    With ``cache`` (a folder), exact results are kept there and a later replay
    starts from the longest kept prefix of its path (see ``replay_cache``).
    ``naming_convention`` is the models' one, which names what the scripts
    leave unnamed, as it does when they run.
    """
    steps = upgrade_steps(graph, (), target)
    variant = "as-alembic" if as_alembic else ""
    store = (
        ReplayCache(cache, graph, steps, dialect, naming_convention, variant)
        if cache is not None
        else None
    )
    done, schema = store.longest_prefix() if store is not None else (0, None)
    recorder = Recorder(dialect, schema, naming_convention, as_alembic)
    with _collected_after(done < len(steps)):
        for count, rev_id in enumerate(steps[done:], start=done + 1):
            recorder.run(graph.revisions[rev_id])
            if store is not None and not recorder.reasons and count == store.settled:
                store.store(count, recorder.schema)
    reasons = tuple(recorder.reasons)
    return ReplayResult(recorder.schema, not reasons, reasons)


@contextmanager
def _collected_after(replaying: bool) -> Iterator[None]:
    """The scripts' SQLAlchemy objects are garbage in reference cycles.  The CLI turns
    the cycle collector off for speed, so they are freed after the replay: for 1,000
    tables they are 45 MiB, which would stay until the process ends.  What was there
    before (the project's imports, its models) is frozen meanwhile, so the collection
    walks the replay's objects only: walking everything was 60 ms of a first ``check``
    on optuna."""
    if not replaying or gc.isenabled():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.collect()
        gc.unfreeze()


class _ReplayContext(OpContext):
    """An op context with no database: asking for one makes the replay inexact."""

    def __init__(
        self,
        dialect: sa.Dialect,
        on_inexact: Callable[[str], None],
        naming_convention: NamingConvention | None,
    ) -> None:
        # Offline mode with a writer that drops everything: ops only get built.
        super().__init__(
            dialect=dialect,
            connection=None,
            write_sql=lambda _: None,
            naming_convention=naming_convention,
        )
        self._on_inexact = on_inexact

    @property
    def as_sql(self) -> bool:
        # The replay models what an online upgrade does; a script that asks
        # takes its online branch (and a get_bind() there makes it inexact).
        return False

    @property
    def connection(self) -> Any:
        reason = "op.get_bind() needs a live database"
        # Recorded before raising: a script may swallow the exception.
        self._on_inexact(reason)
        raise InexactReplay(reason)


@dataclass(frozen=True)
class RecordedOp:
    """One op a revision's ``upgrade()`` asked for, as the replay met it."""

    revision: Revision
    op: Op
    line: int | None  # 1-based line of the revision file that called it
    before: Schema  # the schema just before it
    in_autocommit_block: bool  # inside ``op.get_context().autocommit_block()``


class Recorder:
    """Runs revisions' ``upgrade()`` with a recording ``op``, folding each op into
    ``schema``; ``observe`` (the lint) sees every op with where it was called."""

    def __init__(
        self,
        dialect: sa.Dialect,
        schema: Schema | None = None,
        naming_convention: NamingConvention | None = None,
        as_alembic: bool = False,
        observe: Callable[[RecordedOp], None] | None = None,
        sources: Mapping[str, str] | None = None,
    ) -> None:
        self.dialect = dialect
        # path -> a revision file's text as the editor has it (the lint as you type)
        self.sources = sources or {}
        self.naming_convention = naming_convention
        # An Alembic project on MySQL/MariaDB: ops run as Alembic runs them there.
        self.as_alembic = as_alembic and dialect.name == "mysql"
        self.schema = schema or Schema(
            dialect=schema_dialect_name(dialect), flavour=dialect_flavour(dialect)
        )
        self.reasons: list[str] = []
        self.observe = observe
        self._file = ""
        self._revision: Revision | None = None
        self._context: _ReplayContext | None = None

    def run(self, revision: Revision) -> None:
        path = revision.path
        self._file, self._revision = str(path), revision
        module = load_module(path, source=self.sources.get(str(path)))
        upgrade = getattr(module, "upgrade", None)
        if not callable(upgrade):
            raise ScriptError(f"{path}: has no upgrade() function; add one")
        context = self._context = _ReplayContext(
            self.dialect, self._inexact, self.naming_convention
        )
        ops = Operations(context, invoke=self._apply)
        try:
            with operations_in_effect(ops):
                upgrade()
        except InexactReplay:
            pass  # recorded where it was raised; the rest of upgrade() is unknown
        except (Exception, SystemExit) as error:  # sys.exit() would end distill as a success
            raise _script_error(error, path) from None

    def _apply(self, op: Op) -> None:
        if self.as_alembic:
            op = _as_alembic_runs_it(op)
        if self.observe is not None and self._revision is not None:
            in_block = self._context is not None and self._context.in_autocommit_block
            self.observe(RecordedOp(self._revision, op, self._line(), self.schema, in_block))
        try:
            self.schema = apply_op(op, self.schema, self.dialect)
        except InexactReplay as inexact:
            self._inexact(inexact.reason)
            if inexact.schema is not None:
                self.schema = inexact.schema

    def _line(self) -> int | None:
        """The line of the revision file the op was called from (the innermost frame)."""
        frame: types.FrameType | None = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename == self._file:
                return frame.f_lineno
            frame = frame.f_back
        return None

    def _inexact(self, reason: str) -> None:
        self.reasons.append(f"{self._file}: {reason}")


def _as_alembic_runs_it(op: Op) -> Op:
    """``op`` as Alembic runs it on MySQL/MariaDB (see ``OpContext.as_alembic``)."""
    if isinstance(op, BatchAlterTable):  # no rebuild on MySQL: each change is an ALTER
        return replace(op, ops=[_change_as_alembic_runs_it(item) for item in op.ops])
    return _change_as_alembic_runs_it(op) if isinstance(op, TableChange) else op


def _change_as_alembic_runs_it(change: TableChange) -> TableChange:
    if isinstance(change, AlterColumn):
        return restated_as_alembic(change)
    if isinstance(change, DropConstraint):
        return replace(change, key_index_stays=True)
    return change


def _script_error(error: BaseException, path: Path) -> ScriptError:
    line = line_in(error, path)
    where = f"{path}:{line}" if line else str(path)
    if isinstance(error, SystemExit):
        what = exit_call(error)
    else:
        what = f"raised {type(error).__name__}: {first_line(str(error))}"
    return ScriptError(
        f"{where}: upgrade() {what} "
        "(while replaying the migrations without a database); fix the script"
    )
