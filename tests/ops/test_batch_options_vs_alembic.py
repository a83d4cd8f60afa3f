"""batch_alter_table's rebuild options on SQLite, against what Alembic 1.20 makes of them.

``partial_reordering``, ``table_args``, ``table_kwargs`` and ``reflect_args``
shape the table a SQLite rebuild creates.  Each case runs once through
Alembic's own ``Operations`` and once through Distill's, on two SQLite files
holding the same table and rows; the tables that come out must match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations as AlembicOperations

from distill.ddl.context import OpContext
from distill.errors import OperationError
from distill.ops.api import Operations
from distill.ops.proxy import operations_in_effect
from distill.replay.recorder import replay
from tests.projects import ProjectDir

Batch = Callable[[Any], None]  # given op (either tool's), runs one batch block


def _start(conn: sa.Connection) -> None:
    conn.exec_driver_sql(
        "CREATE TABLE t (a INTEGER NOT NULL PRIMARY KEY, b VARCHAR(20), c INTEGER, d INTEGER)"
    )
    conn.exec_driver_sql("INSERT INTO t VALUES (1, 'x', 5, 7), (2, 'y', 6, 8)")


CASES: dict[str, Batch] = {
    "all columns ordered": lambda op: _batch(op, partial_reordering=[("c", "d", "a", "b")]),
    "two partial orders": lambda op: _batch(op, partial_reordering=[("d", "c"), ("b", "a")]),
    "a pair": lambda op: _batch(op, partial_reordering=[("c", "a")]),
    "order with a new column": lambda op: _batch(
        op, partial_reordering=[("e", "a")], add=sa.Column("e", sa.Integer)
    ),
    "table_args constraints": lambda op: _batch(
        op,
        table_args=(
            sa.CheckConstraint("c > 0", name="ck_c_positive"),
            sa.UniqueConstraint("b", name="uq_t_b"),
        ),
    ),
    "table_kwargs autoincrement": lambda op: _batch(
        op, table_kwargs={"sqlite_autoincrement": True}
    ),
    "reflect_args override a type": lambda op: _batch(
        op, reflect_args=(sa.Column("b", sa.Text()),)
    ),
}


def _batch(op: Any, add: sa.Column[Any] | None = None, **options: Any) -> None:
    with op.batch_alter_table("t", recreate="always", **options) as batch_op:
        if add is not None:
            batch_op.add_column(add)


def _shape(conn: sa.Connection) -> dict[str, Any]:
    insp = sa.inspect(conn)
    table_sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 't'").scalar()
    return {
        "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns("t")],
        "pk": insp.get_pk_constraint("t")["constrained_columns"],
        "checks": sorted((c["name"], c["sqltext"]) for c in insp.get_check_constraints("t")),
        "uniques": sorted(
            (u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints("t")
        ),
        "autoincrement": "AUTOINCREMENT" in str(table_sql).upper(),
        "rows": conn.exec_driver_sql("SELECT a, b, c, d FROM t ORDER BY a").fetchall(),
    }  # fmt: skip


@pytest.fixture
def two_databases(tmp_path: Path) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    engines = (sa.create_engine(f"sqlite:///{tmp_path}/a.db"),
               sa.create_engine(f"sqlite:///{tmp_path}/d.db"))  # fmt: skip
    for engine in engines:
        with engine.begin() as conn:
            _start(conn)
    yield engines
    for engine in engines:
        engine.dispose()


@pytest.mark.parametrize("case", list(CASES))
def test_a_rebuild_with_options_makes_what_alembic_makes(
    case: str, two_databases: tuple[sa.Engine, sa.Engine]
) -> None:
    by_alembic, by_distill = two_databases
    with by_alembic.begin() as conn:
        CASES[case](AlembicOperations(MigrationContext.configure(conn)))
    with by_distill.begin() as conn:
        ops = Operations(OpContext(dialect=conn.dialect, connection=conn))
        with operations_in_effect(ops):
            CASES[case](ops)
    with by_alembic.connect() as a, by_distill.connect() as d:
        assert _shape(d) == _shape(a)


def test_a_reordering_that_contradicts_itself_is_refused(
    two_databases: tuple[sa.Engine, sa.Engine],
) -> None:
    _, engine = two_databases
    with engine.begin() as conn:
        ops = Operations(OpContext(dialect=conn.dialect, connection=conn))
        with pytest.raises(OperationError, match="contradicts itself"):
            _batch(ops, partial_reordering=[("a", "b"), ("b", "a")])
        with pytest.raises(OperationError, match="column 'z'"):
            _batch(ops, partial_reordering=[("z", "a")])


def test_replay_follows_the_reordering_and_hands_table_args_to_a_database(
    tmp_path: Path,
) -> None:
    project = ProjectDir(tmp_path, f"sqlite:///{tmp_path}/app.db")
    project.versions.mkdir(parents=True)
    project.add("r1", None, """
        op.create_table("t", sa.Column("a", sa.Integer, primary_key=True),
                        sa.Column("b", sa.String(20)), sa.Column("c", sa.Integer))
    """)  # fmt: skip
    project.add("r2", "r1", """
        with op.batch_alter_table("t", recreate="always", partial_reordering=[("c", "a")]):
            pass
    """)  # fmt: skip
    graph = project.project().graph
    dialect = sa.create_engine("sqlite://").dialect
    replayed = replay(graph, dialect, "heads")
    assert replayed.exact
    (table,) = replayed.schema.tables
    assert [c.name for c in table.columns] == ["b", "c", "a"]
    engine = sa.create_engine(project.url)
    with engine.begin() as conn:
        _start_from(conn)
        ops = Operations(OpContext(dialect=conn.dialect, connection=conn))
        with operations_in_effect(ops):
            _batch(ops, partial_reordering=[("c", "a")])
        assert [c["name"] for c in sa.inspect(conn).get_columns("t")] == ["b", "c", "a"]
    engine.dispose()

    project.add("r3", "r2", """
        with op.batch_alter_table("t", recreate="always",
                                  table_args=(sa.CheckConstraint("c > 0", name="ck"),)):
            pass
    """)  # fmt: skip
    inexact = replay(project.project().graph, dialect, "heads")
    assert not inexact.exact and "table_args" in inexact.reasons[0]


def _start_from(conn: sa.Connection) -> None:
    conn.exec_driver_sql(
        "CREATE TABLE t (a INTEGER NOT NULL PRIMARY KEY, b VARCHAR(20), c INTEGER)"
    )


@pytest.mark.parametrize("child_id", ["INTEGER", ""])
def test_a_rebuild_keeps_foreign_keys_and_untyped_key_columns_as_alembic_does(
    child_id: str, tmp_path: Path
) -> None:
    """Distill reflects the rebuilt table without the tables its keys name, except
    where a key column has no type: SQLAlchemy then gives it the referent's type
    (INTEGER here), and Alembic's rebuild writes that type."""
    shapes = []
    for tool in ("alembic", "distill"):
        engine = sa.create_engine(f"sqlite:///{tmp_path}/{tool}.db")
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY, n INTEGER)")
            conn.exec_driver_sql(
                f"CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id {child_id} "
                "REFERENCES parent (id) ON DELETE CASCADE, note VARCHAR(5))"
            )
            conn.exec_driver_sql("INSERT INTO parent VALUES (1, 1)")
            conn.exec_driver_sql("INSERT INTO child VALUES (1, 1, 'x')")
            ops: Any = (
                AlembicOperations(MigrationContext.configure(conn))
                if tool == "alembic"
                else Operations(OpContext(dialect=conn.dialect, connection=conn))
            )
            in_effect = operations_in_effect(ops) if tool == "distill" else nullcontext()
            with in_effect, ops.batch_alter_table("child") as batch_op:
                batch_op.drop_column("note")
        with engine.connect() as conn:
            insp = sa.inspect(conn)
            shapes.append((
                [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns("child")],
                insp.get_foreign_keys("child"),
                conn.exec_driver_sql("SELECT * FROM child").fetchall(),
            ))  # fmt: skip
        engine.dispose()
    assert shapes[1] == shapes[0]
    assert shapes[1][0][1][1] == "INTEGER"
