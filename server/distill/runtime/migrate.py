"""Running a plan of revisions against a database, or printing it as SQL.

Online, the run holds the migration lock from start to end and computes its
plan only once the lock is held.  Each revision runs in a transaction of its
own together with its version-table and history-table writes, so where DDL is
transactional (PostgreSQL, SQLite) a failing revision leaves the database at
the previous revision, untouched.  MariaDB commits every DDL statement on its
own; there the error says which statements of the failed revision ran.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect, Engine

from distill.config import Config
from distill.ddl.context import OfflineCatalog, OpContext
from distill.errors import DistillError, LockWaitFailed
from distill.runtime.database import adopted, connect
from distill.runtime.execute import RevisionRun, run_revision
from distill.runtime.lock import migration_lock
from distill.runtime.offline_catalog import offline_catalog
from distill.runtime.plan import Notify, OnProgress, Planner, Progress, RunResult, Step
from distill.runtime.quickread import sqlite_file_missing
from distill.runtime.resume import ProgressRecord, ResumeRefused, StatementJournal
from distill.runtime.version import (
    STATUS_DONE,
    STATUS_FAILED,
    STATUS_RUNNING,
    Unfinished,
    VersionTables,
    utcnow,
)
from distill.runtime.waits import set_timeouts
from distill.scripts.graph import RevisionGraph
from distill.scripts.script import file_sha256
from distill.scripts.user_metadata import naming_convention_of

TRANSACTIONAL_DDL = {"sqlite", "postgresql"}


def tables_for(config: Config) -> VersionTables:
    return VersionTables(config.version_table, config.history_table, config.version_table_schema)


def next_heads(graph: RevisionGraph, heads: frozenset[str], step: Step) -> frozenset[str]:
    if step.direction == "upgrade":
        return graph.heads_after_upgrade(heads, step.revision.id)
    return graph.heads_after_downgrade(heads, step.revision.id)


# Where a run gets its connection: Distill's engine, or the connection the
# project's env.py opened and handed to context.configure() (compat/env_run.py).
Database = Engine | Connection


@contextmanager
def locked_session(
    database: Database, config: Config, notify: Notify
) -> Iterator[tuple[Connection, VersionTables, tuple[str, ...]]]:
    """A write connection holding the migration lock, with the heads read under it."""
    tables = tables_for(config)
    opened = (
        adopted(database) if isinstance(database, Connection) else connect(database, write=True)
    )
    with opened as conn:
        if conn.dialect.name == "sqlite":
            # Must be set outside any transaction; table rebuilds need it off
            # and check foreign keys themselves (PRAGMA foreign_key_check).
            # Through a cursor: an async driver's adapted connection has no execute().
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.close()
        with migration_lock(conn, config.qualified_version_table, config.lock_timeout, notify):
            created = _create_bookkeeping(conn, tables)
            before = tables.heads(conn)
            conn.commit()
            try:
                yield conn, tables, before
            except BaseException:
                _drop_if_unused(conn, created)
                raise
            conn.commit()


def run_online(
    database: Database,
    config: Config,
    graph: RevisionGraph,
    planner: Planner,
    *,
    notify: Notify,
    progress: OnProgress | None = None,
    resumable: bool = True,
) -> RunResult:
    """Run the planned steps; ``resumable=False`` skips the journal that lets a
    killed MariaDB run resume (for scratch databases, thrown away after).

    A database with nothing to do is answered without the migration lock: ten
    replicas starting at once at head do not queue behind each other.  With work
    to do, the plan is made again under the lock, from the heads read there."""
    if not isinstance(database, Connection):
        read = heads_without_lock(database, config)
        if read is not None and not planner(read):
            return RunResult(before=read, after=read, steps=[])
    with locked_session(database, config, notify) as (conn, tables, before):
        steps = planner(before)
        interrupted = _interrupted_runs(conn, tables, steps, notify)
        heads = frozenset(before)
        started = time.monotonic()
        units = _RevisionUnits(conn, commits_each_revision(config, conn.dialect.name))
        for index, step in enumerate(steps, start=1):
            if progress:
                progress(Progress(index, len(steps), step, False, time.monotonic() - started))
            rollback_to = heads if units.each_revision_atomic else frozenset(before)
            resume = interrupted.pop((step.revision.id, step.direction), None)
            for attempt in range(1, config.retries + 2):
                try:
                    with units.one_revision():
                        heads = _apply_step(
                            conn, tables, graph, step, heads, rollback_to, config, resume,
                            notify, resumable,
                        )  # fmt: skip
                    break
                except LockWaitFailed:
                    # Only a revision that rolled back alone can run again where it stopped.
                    if attempt > config.retries or not units.each_revision_atomic:
                        raise
                    _record_attempt(conn, tables, step)
                    delay = min(30.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.0)
                    notify(
                        f"{step.label}: a table's lock was not free within ddl_lock_timeout "
                        f"(attempt {attempt} of {config.retries + 1}); trying again in "
                        f"{delay:.1f} s"
                    )
                    time.sleep(delay)
            if progress:
                progress(Progress(index, len(steps), step, True, time.monotonic() - started))
        return RunResult(before=before, after=tuple(sorted(heads)), steps=steps)


def _record_attempt(conn: Connection, tables: VersionTables, step: Step) -> None:
    """A history row for an attempt that waited too long for a lock (its work rolled back)."""
    now = utcnow()
    for statement, params in tables.record(
        step.revision.id, step.direction, started_at=now, finished_at=now,
        checksum=file_sha256(step.revision.path), status=STATUS_FAILED, statements_run=0,
    ):  # fmt: skip
        conn.execute(statement, params)
    conn.commit()


def heads_without_lock(engine: Engine, config: Config) -> tuple[str, ...] | None:
    """The version rows, read without the lock; None when there is no version table
    yet (the locked path creates it) or the database cannot be read (it says why)."""
    if engine.dialect.name == "sqlite" and sqlite_file_missing(
        engine.url.render_as_string(hide_password=False)
    ):
        return None  # connecting would create the file
    tables = tables_for(config)
    try:
        with connect(engine) as conn:
            return tables.heads(conn) if tables.exists(conn) else None
    except DistillError:
        return None


def commits_each_revision(config: Config, dialect: str) -> bool:
    """Whether each revision commits on its own.

    Alembic runs SQLite without transactional DDL, so there a failure keeps the
    revisions before it whatever ``transaction_per_migration`` says; an Alembic
    project keeps that end state (and the failing revision itself is still
    rolled back, which Alembic leaves half-applied).
    """
    return config.transaction_per_migration or (config.flavour == "alembic" and dialect == "sqlite")


class _RevisionUnits:
    """Makes each revision all-or-nothing, and decides when to commit.

    Where DDL is transactional and ``transaction_per_migration`` is on, each
    revision is atomic.  PostgreSQL commits after every revision so locks on
    the altered tables are held no longer than one revision.  SQLite locks the
    whole file whatever is done, and every COMMIT costs an fsync, so there a
    SAVEPOINT makes each revision atomic and the work is committed at most
    once a second and at the end: a failure still leaves the database at the
    previous revision, and a killed run loses at most a second of work, all of
    it cleanly rolled back.  Without transactional DDL (MariaDB) each
    statement is committed by the server anyway.
    """

    _SAVEPOINT = "distill_revision"
    _COMMIT_EVERY = 1.0  # seconds

    def __init__(self, conn: Connection, per_revision: bool) -> None:
        dialect = conn.dialect.name
        self.conn = conn
        self.savepoints = per_revision and dialect == "sqlite"
        self.commit_each = not self.savepoints and (
            per_revision or dialect not in TRANSACTIONAL_DDL
        )
        self.last_commit = time.monotonic()

    @property
    def each_revision_atomic(self) -> bool:
        """False when a failure rolls back the whole run, not just one revision."""
        return self.savepoints or self.commit_each

    @contextmanager
    def one_revision(self) -> Iterator[None]:
        conn = self.conn
        if self.savepoints:
            conn.exec_driver_sql(f"SAVEPOINT {self._SAVEPOINT}")
        try:
            yield
        except BaseException:
            if self.savepoints and conn.in_transaction():
                self._end_savepoint("ROLLBACK TO")
                self._end_savepoint("RELEASE")
                conn.commit()  # the revisions before this one stay applied
            else:
                conn.rollback()
            raise
        if self.savepoints:
            self._end_savepoint("RELEASE")
            if time.monotonic() - self.last_commit >= self._COMMIT_EVERY:
                conn.commit()
                self.last_commit = time.monotonic()
        elif self.commit_each:
            conn.commit()

    def _end_savepoint(self, verb: str) -> None:
        # An autocommit_block inside the revision commits, which ends the
        # savepoint early; then there is nothing left to end.
        try:
            self.conn.exec_driver_sql(f"{verb} SAVEPOINT {self._SAVEPOINT}")
        except exc.OperationalError as error:
            if "no such savepoint" not in str(error):
                raise


def run_stamp(
    database: Database,
    config: Config,
    new_heads: Callable[[tuple[str, ...]], frozenset[str]],
    *,
    notify: Notify,
) -> RunResult:
    """Set the version rows without running any revision; recorded in the history."""
    with locked_session(database, config, notify) as (conn, tables, before):
        _interrupted_runs(conn, tables, [], notify)
        after = new_heads(before)
        for statement, params in tables.set_heads(before, after):
            conn.execute(statement, params)
        now = utcnow()
        changes = [(rev, "unstamp") for rev in sorted(set(before) - after)]
        changes += [(rev, "stamp") for rev in sorted(after - set(before))]
        for rev, direction in changes:
            for statement, params in tables.record(
                rev, direction, started_at=now, finished_at=now, checksum=None
            ):
                conn.execute(statement, params)
        return RunResult(before=before, after=tuple(sorted(after)))


def _create_bookkeeping(conn: Connection, tables: VersionTables) -> list[sa.Table]:
    """Create the missing version/history tables; returns the ones created."""
    created = []
    for statement in tables.create_statements(conn):
        conn.execute(statement)
        created.append(statement.element)
    if conn.dialect.name not in TRANSACTIONAL_DDL:
        tables.add_progress_column(conn)  # a history table from before resuming existed
    conn.commit()
    return created


def _drop_if_unused(conn: Connection, created: Sequence[sa.Table]) -> None:
    """A command that failed before recording anything leaves no tables of its own
    behind: a fresh database stays as it was (a MariaDB failure record keeps them)."""
    if not created:
        return
    try:
        if conn.in_transaction():
            conn.rollback()
        if any(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() for t in created):
            return
        for table in reversed(created):
            conn.execute(sa.schema.DropTable(table))
        conn.commit()
    except exc.DBAPIError:
        pass  # the original error is the one worth showing


def _interrupted_runs(
    conn: Connection, tables: VersionTables, steps: Sequence[Step], notify: Notify
) -> dict[tuple[str, str], Unfinished]:
    """Runs killed mid-revision (MariaDB) that this run resumes, by revision and direction.

    An interrupted revision that the plan does not run again, or whose record
    is unusable, is reported and marked failed: a person has to look at it.
    """
    if conn.dialect.name in TRANSACTIONAL_DDL:
        return {}  # a killed run there was rolled back; no row says 'running'
    planned = {(step.revision.id, step.direction) for step in steps}
    resumable: dict[tuple[str, str], Unfinished] = {}
    for run in tables.unfinished(conn):
        key = (run.revision, run.direction)
        if key in planned and key not in resumable and ProgressRecord.from_text(run.progress):
            resumable[key] = run
            continue
        notify(
            f"warning: an earlier {run.direction} of {run.revision} was interrupted before it "
            "finished; MariaDB cannot roll back DDL, so some of its statements may have run"
        )
        assert tables.history is not None  # unfinished() found rows in it
        conn.execute(
            tables.history.update()
            .where(tables.history.c.id == run.entry_id)
            .values(status=STATUS_FAILED)
        )
    conn.commit()
    return resumable


def _apply_step(
    conn: Connection,
    tables: VersionTables,
    graph: RevisionGraph,
    step: Step,
    heads: frozenset[str],
    rollback_to: frozenset[str],
    config: Config,
    resume: Unfinished | None = None,
    notify: Notify | None = None,
    resumable: bool = True,
) -> frozenset[str]:
    transactional = conn.dialect.name in TRANSACTIONAL_DDL
    started_at = utcnow()
    checksum = file_sha256(step.revision.path)
    run = RevisionRun(step.revision, step.direction, heads_text(rollback_to), transactional)
    entry_id: int | None = None
    journal: StatementJournal | None = None
    if not transactional and tables.history is not None:
        if resumable:
            entry_id, journal = _start_journal(conn, tables, config, run, checksum, resume)
        else:
            entry_id = _insert_running_row(conn, tables, run, checksum)
            conn.commit()
    ctx = _op_context(config, conn.dialect, tuple(heads), connection=conn)
    set_timeouts(conn, config)
    ctx.on_transaction_begin = lambda again: set_timeouts(again, config)
    try:
        with journal.watching() if journal else nullcontext():
            run_revision(ctx, run)
        for warning in ctx.warnings:
            if notify:
                notify(f"{warning} ({step.revision.path.name})")
        if journal:
            journal.check_complete()
            if journal.resuming and notify:
                notify(
                    f"resumed the {journal.what} after the {len(journal.skip)} statement(s) "
                    "that had run before it was interrupted"
                )
    except DistillError as error:
        if journal and journal.refusal:
            raise journal.refusal from None  # the row stays 'running', to resume once fixed
        if isinstance(error, ResumeRefused):
            raise
        if entry_id is not None:
            conn.rollback()
            conn.execute(*tables.finish(entry_id, STATUS_FAILED, started_at, len(ctx.executed)))
            conn.commit()
        raise
    after = next_heads(graph, heads, step)
    for statement, params in tables.set_heads(heads, after):
        conn.execute(statement, params)
    if entry_id is None:
        for statement, params in tables.record(
            step.revision.id,
            step.direction,
            started_at=started_at,
            finished_at=utcnow(),
            checksum=checksum,
            statements_run=len(ctx.executed),
        ):
            conn.execute(statement, params)
    else:
        conn.execute(*tables.finish(entry_id, STATUS_DONE, started_at, len(ctx.executed), checksum))
    return after


def _start_journal(
    conn: Connection,
    tables: VersionTables,
    config: Config,
    run: RevisionRun,
    checksum: str,
    resume: Unfinished | None,
) -> tuple[int, StatementJournal]:
    """The history row of a revision on MariaDB, and the journal recording its statements.

    The row is made durable before the first DDL statement so that a killed
    run is visible, and resumable, later.
    """
    schemas: tuple[str, ...] = (str(conn.exec_driver_sql("SELECT DATABASE()").scalar() or ""),)
    if config.version_table_schema and config.version_table_schema not in schemas:
        schemas += (config.version_table_schema,)
    recorded = ProgressRecord.from_text(resume.progress) if resume else None
    if resume is not None and recorded is not None:
        journal = StatementJournal.resume(
            conn, tables.progress_update(resume.entry_id), schemas, run, recorded
        )
        return resume.entry_id, journal
    entry_id = _insert_running_row(conn, tables, run, checksum)
    journal = StatementJournal.begin(conn, tables.progress_update(entry_id), schemas, run)
    return entry_id, journal


def _insert_running_row(
    conn: Connection, tables: VersionTables, run: RevisionRun, checksum: str
) -> int:
    [(statement, params)] = tables.record(
        run.revision.id,
        run.direction,
        started_at=utcnow(),
        finished_at=None,
        checksum=checksum,
        status=STATUS_RUNNING,
    )
    inserted = conn.execute(statement, params)
    return int(inserted.inserted_primary_key[0])  # type: ignore[index]


def _op_context(
    config: Config,
    dialect: Dialect,
    current_heads: Sequence[str],
    *,
    connection: Connection | None = None,
    write_sql: Callable[[str], None] | None = None,
    catalog: OfflineCatalog | None = None,
) -> OpContext:
    """The context a revision runs in, with what the project's settings say of it,
    online (``connection``) or with --sql (``write_sql``)."""
    return OpContext(
        dialect=dialect,
        connection=connection,
        write_sql=write_sql,
        catalog=catalog,
        x_arguments=config.x_arguments,
        as_alembic=config.flavour == "alembic",
        naming_convention=naming_convention_of(config),
        version_table=config.version_table,
        version_table_schema=config.version_table_schema,
        current_heads=current_heads,
    )


def heads_text(heads: frozenset[str] | Sequence[str]) -> str:
    return ", ".join(sorted(heads)) if heads else "base (empty)"


def run_offline(
    dialect: Dialect,
    config: Config,
    graph: RevisionGraph,
    steps: Sequence[Step],
    start_heads: Sequence[str],
    write: Callable[[str], None],
) -> None:
    """Print the SQL of ``steps`` as a DBA would run it, bookkeeping included."""
    with offline_catalog(dialect, config, graph, start_heads, run_online) as catalog:
        tables = tables_for(config)
        # As Alembic: with --sql the scripts see the starting point throughout.
        ctx = _op_context(config, dialect, start_heads, write_sql=write, catalog=catalog)
        if not start_heads and steps and steps[0].direction == "upgrade":
            for create in tables.create_statements(dialect):
                ctx.execute(create)
        heads = frozenset(start_heads)
        per_revision = config.transaction_per_migration
        transactional = dialect.name in TRANSACTIONAL_DDL
        if transactional and not per_revision:
            write("BEGIN;")
        for step in steps:
            after = next_heads(graph, heads, step)
            write(
                f"\n-- Running {step.direction} {heads_text(heads)} -> {heads_text(after)}"
                f" ({step.revision.path.name})\n"
            )
            if transactional and per_revision:
                write("BEGIN;")
            run = RevisionRun(step.revision, step.direction, heads_text(heads), transactional)
            run_revision(ctx, run)
            for statement, params in tables.set_heads(heads, after):
                ctx.execute(statement, params)
            for statement, params in tables.record_offline(
                step.revision.id, step.direction, file_sha256(step.revision.path)
            ):
                ctx.execute(statement, params)
            if transactional and per_revision:
                write("COMMIT;")
            heads = after
        if transactional and not per_revision:
            write("COMMIT;")


def stamp_offline(
    dialect: Dialect,
    config: Config,
    before: Sequence[str],
    after: frozenset[str],
    write: Callable[[str], None],
) -> None:
    tables = tables_for(config)
    ctx = OpContext(dialect=dialect, connection=None, write_sql=write)
    if not before:
        for create in tables.create_statements(dialect):
            ctx.execute(create)
    for statement, params in tables.set_heads(before, after):
        ctx.execute(statement, params)
    for rev in sorted(after - set(before)):
        for statement, params in tables.record_offline(rev, "stamp", checksum=None):
            ctx.execute(statement, params)
