"""Picking up a revision that a kill interrupted, where DDL is not transactional.

MariaDB/MySQL commit every DDL statement by itself, so a run killed in the
middle of a revision leaves the statements before the kill applied while the
version table still says the revision is not.  Running the revision again from
its start would then fail on its first statement ("already exists").

So while such a revision runs, a :class:`StatementJournal` watches every
statement sent on its connection and keeps a record of how far it got in the
revision's history row (column ``progress``), written and committed in step
with what the database itself has committed:

- A write (INSERT, UPDATE, ...) sits in the open transaction until something
  commits it; it is recorded only together with that commit, so a kill before
  it rolls the write back and the record does not claim it.  A commit the
  revision makes itself (``op.get_bind().commit()``, an autocommit block)
  carries the record with it.
- Before each DDL statement the record is committed with the statements so far
  (committing their writes, as the DDL would have done first anyway), the hash
  of the DDL statement about to run, and a fingerprint of the schema.  After
  it, the record is committed again with the statement counted and the
  fingerprint of the schema it left.
- A kill between those two commits leaves the DDL statement's outcome unknown
  to the record; the next run compares the schema's fingerprint with the
  recorded one: changed means it ran (MariaDB's DDL is atomic), unchanged that
  it did not.  Outside that window a changed fingerprint means someone else
  changed the schema since, and the run is refused.

The next ``distill upgrade`` runs the revision's code again, skipping every
statement that already ran — each compared, by hash, with the one recorded —
and carries on after the last of them.  Statements that only read or set the
session (SELECT, SHOW, SET, ...) are run again and not counted.  If the
statements the revision produces now differ from those that ran, the file
changed since the kill, and the run is refused before anything is done.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection

from distill.errors import MigrationFailed
from distill.runtime.execute import RevisionRun

_SKIPPED = "DO 0"  # what a statement that already ran is replaced with: nothing
_SHOWN = 120  # characters of a statement worth putting in a message

# First words of statements that only read, or set the session: run again on resume.
_SESSION = {
    *("SELECT", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "WITH", "SET", "USE", "DO", "HELP"),
    *("BEGIN", "START", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "LOCK", "UNLOCK"),
}
# First words of statements that MariaDB commits by themselves (implicit commit).
_COMMITTING = {
    *("CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE", "GRANT", "REVOKE"),
    *("OPTIMIZE", "REPAIR", "ANALYZE", "INSTALL", "UNINSTALL", "FLUSH"),
}
_LEADING_NOISE = re.compile(r"^(?:\s+|\(|--[^\n]*\n?|#[^\n]*\n?|/\*.*?\*/)*", re.DOTALL)
_SERVER_STATUS_IN_TRANS = 1  # MySQL protocol flag in every OK packet

# What the schema looks like, as far as DDL can change it: (catalog table, its
# schema column, columns).  Row counts, AUTO_INCREMENT values and timestamps are
# left out because writes move them.
_CATALOG = (
    (
        "TABLES",
        "TABLE_SCHEMA",
        "TABLE_NAME TABLE_TYPE ENGINE TABLE_COLLATION CREATE_OPTIONS TABLE_COMMENT",
    ),
    (
        "COLUMNS",
        "TABLE_SCHEMA",
        "TABLE_NAME COLUMN_NAME ORDINAL_POSITION COLUMN_DEFAULT IS_NULLABLE COLUMN_TYPE "
        "COLLATION_NAME EXTRA COLUMN_COMMENT GENERATION_EXPRESSION",
    ),
    (
        "STATISTICS",
        "TABLE_SCHEMA",
        "TABLE_NAME INDEX_NAME NON_UNIQUE SEQ_IN_INDEX COLUMN_NAME SUB_PART INDEX_TYPE "
        "INDEX_COMMENT",
    ),
    # TABLE_SCHEMA, not CONSTRAINT_SCHEMA: MariaDB only narrows its scan by the former.
    ("TABLE_CONSTRAINTS", "TABLE_SCHEMA", "TABLE_NAME CONSTRAINT_NAME CONSTRAINT_TYPE"),
    ("VIEWS", "TABLE_SCHEMA", "TABLE_NAME VIEW_DEFINITION"),
    (
        "TRIGGERS",
        "EVENT_OBJECT_SCHEMA",
        "TRIGGER_NAME EVENT_OBJECT_TABLE ACTION_TIMING EVENT_MANIPULATION ACTION_STATEMENT",
    ),
    ("ROUTINES", "ROUTINE_SCHEMA", "ROUTINE_NAME ROUTINE_TYPE ROUTINE_DEFINITION"),
)
# One query, one round trip: it runs after every DDL statement.
_FINGERPRINT = " UNION ALL ".join(
    f"SELECT CONCAT_WS('|', '{table}', {schema_column}, "
    f"{', '.join(f'QUOTE({column})' for column in columns.split())}) "
    f"FROM information_schema.{table} WHERE {schema_column} IN %(schemas)s"
    for table, schema_column, columns in _CATALOG
)


class ResumeRefused(MigrationFailed):
    """The revision file changed since a kill interrupted it; nothing was done."""


@dataclass
class ProgressRecord:
    """How far an interrupted revision got, as committed by the database."""

    ran: list[str] = field(default_factory=list)  # hashes of the statements that ran
    running: str | None = None  # hash of a DDL statement sent but not yet confirmed
    schema: str = ""  # fingerprint of the schema as of the last confirmed statement

    def to_text(self) -> str:
        return json.dumps({"ran": self.ran, "running": self.running, "schema": self.schema})

    @classmethod
    def from_text(cls, text: str | None) -> ProgressRecord | None:
        """None when there is no usable record (a row written by an older Distill)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(list(data["ran"]), data["running"], str(data["schema"]))
        except (ValueError, KeyError, TypeError):
            return None


def statement_kind(sql: str) -> str:
    """'session' (reads or sets the session), 'committing' (DDL) or 'write'."""
    rest = _LEADING_NOISE.sub("", sql, count=1)
    word = rest.split(None, 1)[0].upper() if rest.strip() else ""
    if word in _SESSION:
        return "session"
    return "committing" if word in _COMMITTING else "write"


def statement_hash(sql: str, parameters: Any) -> str:
    text = f"{' '.join(sql.split())}\0{parameters!r}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class StatementJournal:
    """Records, and on a resumed run skips, the statements of one revision.

    ``skip`` are the hashes of the statements that already ran.
    """

    def __init__(
        self,
        conn: Connection,
        progress_update: sa.Update,
        schemas: tuple[str, ...],
        run: RevisionRun,
        skip: list[str],
        progress: ProgressRecord,
    ) -> None:
        self.conn = conn
        self.schemas = schemas
        self.run = run
        self.what = f"{run.direction} of revision {run.revision.id} ({run.revision.path})"
        self.skip = skip
        self.progress = progress
        self.recorded = len(progress.ran)  # statements the committed record counts
        self.refusal: ResumeRefused | None = None
        compiled = progress_update.compile(dialect=conn.dialect)
        self._update_sql = str(compiled)
        self._update_params = compiled.construct_params
        self.count = 0  # statements of the revision seen so far, skipped ones included
        # (kind, hash) of the statement being sent; None while a skipped one is
        self._sending: tuple[str, str] | None = None

    # -- starting ---------------------------------------------------------

    @classmethod
    def begin(
        cls,
        conn: Connection,
        progress_update: sa.Update,
        schemas: tuple[str, ...],
        run: RevisionRun,
    ) -> StatementJournal:
        """A journal for a revision that starts from its first statement."""
        journal = cls(conn, progress_update, schemas, run, [], ProgressRecord())
        journal.progress.schema = journal._fingerprint()
        journal._record()
        return journal

    @classmethod
    def resume(
        cls,
        conn: Connection,
        progress_update: sa.Update,
        schemas: tuple[str, ...],
        run: RevisionRun,
        recorded: ProgressRecord,
    ) -> StatementJournal:
        """A journal that skips what an interrupted run of the revision did."""
        journal = cls(conn, progress_update, schemas, run, list(recorded.ran), recorded)
        what = journal.what
        now = journal._fingerprint()
        if now != recorded.schema:
            if recorded.running is None:
                raise ResumeRefused(
                    f"{what} was interrupted after {len(recorded.ran)} of its statements had "
                    "run, and the schema has changed since then, not by this revision; "
                    "Distill cannot tell what is left to do: finish the revision by hand and "
                    f"run 'distill stamp {run.revision.id}', or undo what it did; "
                    "nothing was changed"
                )
            # The DDL statement in flight at the kill completed: skip it as well.
            journal.skip.append(recorded.running)
            journal.progress = ProgressRecord(journal.skip.copy(), None, now)
        else:
            journal.progress = ProgressRecord(list(recorded.ran), None, now)
        journal.recorded = len(journal.progress.ran)
        return journal

    @property
    def resuming(self) -> bool:
        return bool(self.skip)

    # -- watching the revision run ------------------------------------------

    @contextmanager
    def watching(self) -> Iterator[None]:
        listeners: list[tuple[str, Any, dict[str, Any]]] = [
            ("before_cursor_execute", self._before, {"retval": True}),
            ("after_cursor_execute", self._after, {}),
            ("commit", self._before_commit, {}),
        ]
        for name, function, options in listeners:
            event.listen(self.conn, name, function, **options)
        try:
            yield
        finally:
            for name, function, _ in listeners:
                event.remove(self.conn, name, function)

    def check_complete(self) -> None:
        """After the revision's code returned: it must have reached the resume point."""
        if self.count < len(self.skip):
            raise ResumeRefused(
                f"{self.what} was interrupted after {len(self.skip)} of its statements had "
                f"run, but it now produces only {self.count}: the file changed since; "
                f"{self._advice()}"
            )

    def _before(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> tuple[str, Any]:
        kind = statement_kind(statement)
        if kind == "session":
            self._sending = (kind, "")
            return statement, parameters
        digest = statement_hash(statement, parameters)
        index = self.count
        self.count += 1
        if index < len(self.skip):
            if digest != self.skip[index]:
                self.refusal = ResumeRefused(
                    f"{self.what} was interrupted after {len(self.skip)} of its statements "
                    f"had run, and its statement {index + 1} now differs from the one that "
                    f"ran (now: {_shown(statement)}): the file changed since; {self._advice()}"
                )
                raise self.refusal
            self._sending = None
            return _SKIPPED, ([{}] if executemany else {})
        self._sending = (kind, digest)
        if kind == "committing":
            self.progress.running = digest
            self._record()
        return statement, parameters

    def _after(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if self._sending is None:
            return  # a skipped statement
        kind, digest = self._sending
        self._sending = None
        if kind != "session":
            self.progress.ran.append(digest)
        if kind == "committing":
            # Recorded at once with the schema it left, so the record says "ran"
            # and a schema changed by someone else after it is seen as such.
            self.progress.running = None
            self.progress.schema = self._fingerprint()
            self._record()
        elif self._committed(kind) and self.recorded < len(self.progress.ran):
            self._record()  # a COMMIT, or autocommit: these writes are durable now

    def _before_commit(self, conn: Connection) -> None:
        """The revision commits (op.get_bind().commit(), autocommit_block): record with it."""
        if self.recorded < len(self.progress.ran):
            self._record(commit=False)  # the commit under way makes it durable with the writes

    def _committed(self, kind: str) -> bool:
        """Whether the database has just committed (DDL, COMMIT, autocommit)."""
        status = getattr(self._dbapi(), "server_status", None)
        if isinstance(status, int):
            return not status & _SERVER_STATUS_IN_TRANS
        return kind == "committing"

    # -- the record ---------------------------------------------------------

    def _record(self, *, commit: bool = True) -> None:
        """Write the progress to the history row and commit it (and the writes before)."""
        dbapi = self._dbapi()
        cursor = dbapi.cursor()
        try:
            params = self._update_params({"progress": self.progress.to_text()})
            cursor.execute(self._update_sql, params)
        finally:
            cursor.close()
        if commit:
            dbapi.commit()
        self.recorded = len(self.progress.ran)

    def _fingerprint(self) -> str:
        digest = hashlib.sha256()
        cursor = self._dbapi().cursor()
        try:
            cursor.execute(_FINGERPRINT, {"schemas": self.schemas})
            for (row,) in sorted(cursor.fetchall()):
                digest.update(f"{row}\n".encode("utf-8", "surrogatepass"))
        finally:
            cursor.close()
        return digest.hexdigest()

    def _dbapi(self) -> Any:
        return self.conn.connection.dbapi_connection

    def _advice(self) -> str:
        revision = self.run.revision.id
        return (
            "put the file back as it was and run the command again, or finish the revision "
            f"by hand and run 'distill stamp {revision}'; nothing was changed"
        )


def _shown(statement: str) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
