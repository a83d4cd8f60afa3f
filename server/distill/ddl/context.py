"""Where operations run: a live connection, or a stream of SQL text (``--sql``).

Every statement an op produces goes through :meth:`OpContext.execute`, so the
same op code serves both modes, and ``executed`` is a faithful list of what
reached the database — the runtime shows it when a MariaDB revision fails
halfway, because MariaDB cannot roll DDL back.

With ``--sql`` there is no database to read, yet a SQLite table rebuild must
know the table.  An ``OfflineCatalog`` answers that: every statement written
is also handed to it, and it gives a connection on which the tables stand as
the SQL written so far leaves them (see ``runtime.offline_catalog``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeAlias, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, CursorResult, Dialect
from sqlalchemy.sql import visitors
from sqlalchemy.sql.base import Executable

from distill.errors import OperationError

NamingConvention: TypeAlias = Mapping[str, Any]
# A convention, or how to find it when first needed (a Distill project imports its models).
ConventionSource: TypeAlias = "NamingConvention | Callable[[], NamingConvention | None] | None"


class OfflineCatalog(Protocol):
    """Where ``--sql`` reads the tables its statements have built so far."""

    def follow(self, statement: Executable) -> None:
        """``statement`` was written: the catalog's tables change as it says."""

    def connection(self, why: str, instead: str) -> Connection:
        """A connection to read the tables from; if none, OperationError saying both."""
        ...


class OpContext:
    def __init__(
        self,
        *,
        dialect: Dialect,
        connection: Connection | None,
        write_sql: Callable[[str], None] | None = None,
        x_arguments: Sequence[str] = (),
        as_alembic: bool = False,
        naming_convention: ConventionSource = None,
        version_table: str = "alembic_version",
        version_table_schema: str | None = None,
        current_heads: Sequence[str] = (),
        catalog: OfflineCatalog | None = None,
    ) -> None:
        if connection is None and write_sql is None:
            raise ValueError("OpContext needs a connection (online) or write_sql (offline)")
        self.dialect = dialect
        self._connection = connection
        self._write_sql = write_sql
        self.executed: list[str] = []
        # ``-x key=value`` from the command line, for context.get_x_argument()
        self.x_arguments = tuple(x_arguments)
        self.in_autocommit_block = False
        # (schema, name) of the enum types op.create_enum_type made in this run.
        self.created_enum_types: set[tuple[str | None, str]] = set()
        # An Alembic project: on MySQL/MariaDB, where Distill's own answer differs
        # from Alembic's, Alembic's, so both tools build the same schema: MODIFY
        # restates only what the script states (ddl/mysql.py), and dropping a foreign
        # key keeps the index the database made for it (ops/constraint.py).
        self.as_alembic = as_alembic
        # Lines for the person running the command ("warning: ..."), said after the revision.
        self.warnings: list[str] = []
        # SQLite tables rebuilt while the foreign keys could not be checked: checked when
        # the revision ends (ops.rebuild.check_foreign_keys).
        self.foreign_key_checks_due: list[tuple[str, str | None]] = []
        self._naming_convention = naming_convention
        self.version_table = version_table
        self.version_table_schema = version_table_schema
        # The version rows as the running revision found them (Alembic updates
        # them after each revision's upgrade()); with --sql, the starting point.
        self._current_heads = tuple(sorted(current_heads))
        self._catalog = catalog
        # Called on the connection when a transaction begins again after an
        # autocommit_block(): the runner sets the revision's SET LOCAL timeouts
        # there once more, since they ended with the transaction the block committed.
        self.on_transaction_begin: Callable[[Connection], None] | None = None

    @property
    def naming_convention(self) -> NamingConvention | None:
        """The models' naming convention, which ops name constraints and indexes by.

        Found at first use: for a Distill project that imports the models, so
        a run whose revisions create nothing never does.
        """
        source = self._naming_convention
        if callable(source):
            source = self._naming_convention = source()
        return source

    @property
    def dialect_name(self) -> str:
        return str(self.dialect.name)

    @property
    def is_mariadb(self) -> bool:
        return bool(getattr(self.dialect, "is_mariadb", False))

    @property
    def is_offline(self) -> bool:
        return self._connection is None

    # -- the names Alembic's MigrationContext offers, for op.get_context() --

    @property
    def as_sql(self) -> bool:
        """Whether SQL is being written out (``--sql``) rather than run."""
        return self.is_offline

    @property
    def bind(self) -> Connection | None:
        return None if self.as_sql else self.connection

    @property
    def opts(self) -> dict[str, Any]:
        return {"as_sql": self.as_sql, "literal_binds": self.as_sql}

    @property
    def impl(self) -> OpImpl:
        """Alembic's ``MigrationContext.impl``: the dialect-level helper scripts reach for."""
        return OpImpl(self)

    def get_current_heads(self) -> tuple[str, ...]:
        return self._current_heads

    def get_current_revision(self) -> str | None:
        if len(self._current_heads) > 1:
            raise OperationError(
                f"version table '{self.version_table}' holds more than one head "
                f"({', '.join(self._current_heads)}); use get_current_heads() instead"
            )
        return self._current_heads[0] if self._current_heads else None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise OperationError(
                "op.get_bind() is not available with --sql: there is no database to talk to; "
                "write the statement with op.execute() instead"
            )
        return self._connection

    def readable(self, why: str, instead: str) -> Connection:
        """A connection to read the tables from: the database, or with --sql the catalog.

        ``why`` says what needs it ("op.create_unique_constraint(...) needs
        SQLite to rebuild table 'x'"), ``instead`` what the script can do when
        nothing can answer; both go into the error.
        """
        if self._connection is not None:
            return self._connection
        if self._catalog is None:
            raise OperationError(f"{why}, and with --sql the table cannot be read; {instead}")
        return self._catalog.connection(why, instead)

    def compile(self, statement: Executable) -> str:
        """SQL text of ``statement`` for this dialect, values inlined."""
        compiled = statement.compile(  # type: ignore[attr-defined]
            dialect=self.dialect, compile_kwargs={"literal_binds": True}
        )
        text = str(compiled).strip()
        if self.dialect.paramstyle in ("format", "pyformat"):
            # The compiler doubles % for the driver; a person reading --sql has no driver.
            text = text.replace("%%", "%")
        return text

    def execute(
        self, statement: str | Executable, params: Mapping[str, Any] | None = None
    ) -> CursorResult[Any] | None:
        if isinstance(statement, str):
            statement = sa.text(statement)
        if self._connection is None:
            assert self._write_sql is not None
            if params:
                statement = _bind(statement, params)
            text = self.compile(statement)
            self.executed.append(text)
            self._write_sql(f"{text};")
            if self._catalog is not None:
                self._catalog.follow(statement)
            return None
        result = self._connection.execute(statement, dict(params) if params else None)
        # The SQL the driver was sent, already compiled: compiling again costs as much.
        sent = getattr(getattr(result, "context", None), "statement", None)
        self.executed.append(
            sent.strip() if isinstance(sent, str) else _sql_of(statement, self.dialect)
        )
        return result

    def write_static(self, text: str) -> None:
        """``impl.static_output``: into the SQL with --sql, else to standard output.

        The script asked for this output, as it would with print(); Alembic writes
        it to the same places.  Without a connection (also a replay) it goes to
        the SQL writer, which a replay discards.
        """
        if self._connection is None:
            assert self._write_sql is not None
            self._write_sql(text)
        else:
            sys.stdout.write(f"{text}\n\n")

    @contextmanager
    def autocommit_block(self) -> Iterator[None]:
        """Run the enclosed statements outside any transaction.

        Some statements refuse to run in a transaction (``CREATE INDEX
        CONCURRENTLY``, ``ALTER TYPE ... ADD VALUE`` on old PostgreSQL), so the
        current transaction is committed first and a new one begins after.
        """
        if self.in_autocommit_block:
            yield
            return
        if self._connection is None:
            assert self._write_sql is not None
            self._write_sql("COMMIT;")
            self.in_autocommit_block = True
            try:
                yield
            finally:
                self.in_autocommit_block = False
                self._write_sql("BEGIN;" if self.dialect_name != "mysql" else "START TRANSACTION;")
            return
        conn = self._connection
        conn.commit()
        self.in_autocommit_block = True
        if self.dialect_name == "sqlite":
            # SQLite has no statement that refuses a transaction, and the
            # runtime drives its transactions itself; committing around the
            # block gives the same visible effect without touching the driver.
            try:
                yield
            finally:
                self.in_autocommit_block = False
                conn.commit()
            return
        previous = conn.get_execution_options().get("isolation_level")
        conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield
        finally:
            self.in_autocommit_block = False
            if conn.in_transaction():
                conn.commit()
            # Back to the level it had; the next statement autobegins a transaction.
            conn.execution_options(isolation_level=previous or conn.default_isolation_level)
            if self.on_transaction_begin is not None:
                self.on_transaction_begin(conn)


class OpImpl:
    """What scripts use of Alembic's ``DefaultImpl`` (``op.get_context().impl``)."""

    def __init__(self, context: OpContext) -> None:
        self._context = context

    @property
    def dialect(self) -> Dialect:
        return self._context.dialect

    @property
    def bind(self) -> Connection | None:
        return self._context.bind

    @property
    def connection(self) -> Connection:
        return self._context.connection

    @property
    def as_sql(self) -> bool:
        return self._context.as_sql

    def execute(
        self, statement: str | Executable, params: Mapping[str, Any] | None = None
    ) -> CursorResult[Any] | None:
        return self._context.execute(statement, params)

    def static_output(self, text: str) -> None:
        self._context.write_static(text)


def _bind(statement: Executable, params: Mapping[str, Any]) -> Executable:
    """``statement`` with its named parameters replaced by their values, for --sql."""
    if isinstance(statement, sa.TextClause):
        return statement.bindparams(**params)

    # .params() refuses INSERT/UPDATE/DELETE; swapping each bind for a literal works on all.
    def literal(element: Any, **_: Any) -> Any:
        if isinstance(element, sa.BindParameter) and element.key in params:
            return sa.literal(params[element.key], element.type)
        return None

    traversable = cast(visitors.ExternallyTraversible, statement)
    no_options: dict[str, Any] = {}
    return cast(Executable, visitors.replacement_traverse(traversable, no_options, literal))


def _sql_of(statement: Executable, dialect: Dialect) -> str:
    try:
        return str(statement.compile(dialect=dialect)).strip()  # type: ignore[attr-defined]
    except Exception:  # an exotic construct that only compiles at execution time
        return str(statement)
