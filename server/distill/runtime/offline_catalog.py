"""The tables ``--sql`` has built so far, on SQLite: an in-memory database that follows.

SQLite changes most of a table by rebuilding it, and a rebuild must know the
whole table.  Online, Distill reads it from the database; with ``--sql``
there is none, so Alembic asks for ``copy_from=``.  Distill instead runs the
revisions below the starting point on a private in-memory SQLite database and
then runs there every statement it writes, so the catalog stands exactly as
the written SQL leaves the real database — with its views and triggers, and
whatever raw ``op.execute()`` DDL did, which no symbolic replay can know.

It is built on first use only: ``--sql`` runs whose revisions need no table
read cost nothing.  The statements written before that are kept and run
then.  When a statement fails there (SQL only the real database accepts),
the catalog is unusable from then on, and the read that needed it fails
with the reason and the ``copy_from=`` way out; the SQL written is not
affected.  A failing data statement (an UPDATE of a table made outside the
migrations) leaves the structure as it was, and the catalog carries on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection
from sqlalchemy.sql.base import Executable

from distill.config import Config
from distill.ddl.statements import shown, structural_statements
from distill.errors import DistillError, OperationError
from distill.runtime.database import first_line
from distill.runtime.plan import Step
from distill.scripts.graph import RevisionGraph
from distill.scripts.plans import upgrade_steps

# runtime.migrate.run_online: (connection, config, graph, planner, notify=, resumable=)
Upgrade = Callable[..., object]


@contextmanager
def offline_catalog(
    dialect: sa.Dialect,
    config: Config,
    graph: RevisionGraph,
    start_heads: Sequence[str],
    upgrade: Upgrade,
) -> Iterator[SQLiteCatalog | None]:
    """The catalog a ``--sql`` run from ``start_heads`` reads tables from; None off SQLite.

    ``upgrade`` is the runtime's ``run_online``, given rather than imported: the
    runtime's offline run is what opens the catalog.
    """
    if dialect.name != "sqlite":
        yield None
        return
    catalog = SQLiteCatalog(config, graph, start_heads, upgrade)
    try:
        yield catalog
    finally:
        catalog.close()


class SQLiteCatalog:
    """An ``ops.context.OfflineCatalog`` for a SQLite project's ``--sql`` run."""

    def __init__(
        self, config: Config, graph: RevisionGraph, start_heads: Sequence[str], upgrade: Upgrade
    ) -> None:
        self._upgrade = upgrade
        self._config = config
        self._graph = graph
        self._start_heads = tuple(start_heads)
        self._written: list[Executable] = []  # before the catalog was built
        self._engine: sa.Engine | None = None
        self._conn: Connection | None = None
        self._broken: str | None = None

    def follow(self, statement: Executable) -> None:
        if self._broken is not None:
            return
        if self._conn is None:
            self._written.append(statement)
        else:
            self._run(statement)

    def connection(self, why: str, instead: str) -> Connection:
        if self._conn is None and self._broken is None:
            self._build()
        if self._broken is not None or self._conn is None:
            raise OperationError(
                f"{why}; with --sql Distill reads the table from the revisions run on an "
                f"in-memory SQLite database, and {self._broken}; {instead}"
            )
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._engine is not None:
            self._engine.dispose()

    def _build(self) -> None:
        # One connection for the catalog's whole life: an in-memory database
        # lives as long as its connection.  A plain engine: the runtime adopts
        # the connection as it does env.py's, and drives its transactions.
        self._engine = sa.create_engine("sqlite://", poolclass=sa.StaticPool)
        self._conn = self._engine.connect()
        try:
            self._upgrade_to_start()
        except DistillError as error:
            self._broken = f"running the revisions below the starting point there failed: {error}"
            return
        for statement in self._written:
            self._run(statement)
        self._written.clear()

    def _upgrade_to_start(self) -> None:
        assert self._conn is not None
        graph = self._graph
        for head in self._start_heads:

            def plan(heads: tuple[str, ...], head: str = head) -> list[Step]:
                steps = upgrade_steps(graph, heads, head)
                return [Step(graph.revisions[i], "upgrade") for i in steps]

            self._upgrade(self._conn, self._config, graph, plan, notify=_quiet, resumable=False)

    def _run(self, statement: Executable) -> None:
        assert self._conn is not None
        try:
            self._conn.execute(statement)
        except exc.SQLAlchemyError as error:
            if not structural_statements(statement):
                # Data (an UPDATE of a table made outside the migrations): the
                # tables' structure, all the catalog is for, is unchanged.
                return
            orig = getattr(error, "orig", None)
            reason = first_line(str(orig) if orig is not None else str(error))
            self._broken = f"the statement {shown(_text(statement))} failed there ({reason})"


def _text(statement: Executable) -> str:
    try:
        return str(statement.compile(dialect=sa.dialects.sqlite.dialect()))  # type: ignore[attr-defined]
    except exc.SQLAlchemyError:
        return type(statement).__name__


def _quiet(_: str) -> None:
    """The catalog's own upgrade is not the user's: nothing of it is said."""
