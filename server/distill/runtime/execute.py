"""Running one revision's ``upgrade()`` or ``downgrade()`` and explaining failures.

A failure becomes a ``MigrationFailed`` whose one line says which revision and
file, which statement, what the database answered, and in what state the
database was left — the three things a person needs to decide what to do next.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exc

from distill.ddl.context import OpContext
from distill.errors import DistillError, LockWaitFailed, MigrationFailed, ScriptError
from distill.masking import mask_text
from distill.ops.api import Operations
from distill.ops.proxy import operations_in_effect
from distill.ops.rebuild import check_foreign_keys
from distill.runtime.database import first_line
from distill.runtime.waits import blockers, is_lock_wait
from distill.scripts.script import Revision, line_in, load_module
from distill.user_code import at, exit_call, user_frame

_SQL_SHOWN = 300  # characters of a failing statement worth putting in one line


@dataclass(frozen=True)
class RevisionRun:
    revision: Revision
    direction: str  # "upgrade" | "downgrade"
    # Version rows a rollback returns to: before this revision, or before the
    # whole run when all revisions share one transaction.
    state_before: str
    transactional: bool


def run_revision(ctx: OpContext, run: RevisionRun) -> None:
    module = load_module(run.revision.path)
    function = getattr(module, run.direction, None)
    if not callable(function):
        raise ScriptError(f"{run.revision.path}: has no {run.direction}() function; add one")
    try:
        with operations_in_effect(Operations(ctx)):
            function()
            for name, schema in dict.fromkeys(ctx.foreign_key_checks_due):
                check_foreign_keys(ctx, name, schema)
            ctx.foreign_key_checks_due.clear()
    except exc.DBAPIError as error:
        if is_lock_wait(error):
            who = blockers(ctx.connection.engine, str(error.statement or ""))
            held = f"; the lock is held by {who}" if who else ""
            raise LockWaitFailed(_describe_database_error(ctx, run, error) + held) from None
        raise MigrationFailed(_describe_database_error(ctx, run, error)) from None
    except DistillError as error:
        raise MigrationFailed(f"{_what(run)}: {error}; {_state_after(ctx, run)}") from None
    except SystemExit as exiting:  # would end distill with that code, as if all went well
        raise MigrationFailed(
            f"{_what(run)} {exit_call(exiting)}{at(_place(exiting, run))}; {_state_after(ctx, run)}"
        ) from None
    except Exception as error:
        if ctx.is_offline and isinstance(error, BrokenPipeError):
            # The reader of the --sql output went away (``| head``): not the
            # revision's fault; the command line stops quietly.
            raise
        line = line_in(error, run.revision.path)
        where = f" at {run.revision.path}:{line}" if line else ""
        raise MigrationFailed(
            f"{_what(run)} raised {type(error).__name__}: {first_line(str(error))}"
            f"{where}; {_state_after(ctx, run)}"
        ) from None


def _place(error: BaseException, run: RevisionRun) -> tuple[str, int] | None:
    """Where the revision file went wrong; deeper code it called, when the file is not seen."""
    line = line_in(error, run.revision.path)
    return (str(run.revision.path), line) if line else user_frame(error)


def _what(run: RevisionRun) -> str:
    return f"{run.direction} of revision {run.revision.id} ({run.revision.path})"


def _describe_database_error(ctx: OpContext, run: RevisionRun, error: exc.DBAPIError) -> str:
    reason = first_line(str(error.orig) if error.orig is not None else str(error))
    statement = " ".join(str(error.statement or "").split())
    if len(statement) > _SQL_SHOWN:
        statement = statement[: _SQL_SHOWN - 3] + "..."
    password = ctx.connection.engine.url.password if not ctx.is_offline else None
    text = f"{_what(run)} failed: {reason}; statement: {statement}; {_state_after(ctx, run)}"
    if _adopting(run, reason):
        text += (
            "; the database already has tables of the first revision: if it was built "
            "without migrations (create_all), adopt it with 'distill baseline'"
        )
    return mask_text(text, password)


def _adopting(run: RevisionRun, reason: str) -> bool:
    """A first upgrade from base that meets existing tables: a create_all database."""
    return (
        run.direction == "upgrade"
        and not run.revision.down_revisions
        and run.state_before.startswith("base")
        and "already exists" in reason.lower()
    )


def _state_after(ctx: OpContext, run: RevisionRun) -> str:
    if ctx.is_offline:
        return "nothing was run; the SQL written before this error is incomplete"
    if run.transactional:
        return f"nothing of it was applied, the database is still at {run.state_before}"
    ran = ctx.executed
    if not ran:
        return (
            f"none of its statements ran, the database is still at {run.state_before}; "
            "if an earlier run of it stopped partway (killed, or failed), what that run did "
            "stays applied, as MariaDB/MySQL cannot roll back DDL: undo it by hand, or finish "
            f"the revision by hand and run 'distill stamp {run.revision.id}'"
        )
    listed = " | ".join(" ".join(s.split())[:120] for s in ran)
    return (
        f"MariaDB/MySQL cannot roll back DDL: {len(ran)} statement(s) of it already ran and "
        f"stay applied ({listed}); the version table still says {run.state_before}: undo those "
        "by hand, or finish them by hand and run 'distill stamp'"
    )
