"""The object ``op.batch_alter_table`` yields, against Alembic 1.20's.

In Alembic it is a full ``Operations``: ``batch_op.f()``, ``execute()``,
``get_bind()``, ``get_context()``, ``inline_literal()`` work on it as on ``op``.
And its changes keep the meaning they have in Alembic's rebuild: an index
dropped after its column was dropped is still found; a primary key created on
a table that has one replaces it.  Each case runs through Alembic's
``Operations`` on one database and Distill's on another of the same kind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations as AlembicOperations

from distill.ddl.context import OpContext
from distill.ops.api import Operations
from distill.ops.proxy import operations_in_effect
from tests.alembic_projects import scratch_databases

START = (
    "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a INTEGER NOT NULL, b INTEGER)",
    "CREATE INDEX ix_t_a ON t (a)",
    "INSERT INTO t (id, a, b) VALUES (1, 10, 100), (2, 20, 200)",
)


def _with_alembic(body: Callable[[Any], None]) -> Callable[[sa.Connection], None]:
    return lambda conn: body(AlembicOperations(MigrationContext.configure(conn)))


def _with_distill(body: Callable[[Any], None]) -> Callable[[sa.Connection], None]:
    def run(conn: sa.Connection) -> None:
        ops = Operations(OpContext(dialect=conn.dialect, connection=conn))
        with operations_in_effect(ops):
            body(ops)

    return run


def _run(url: str, run: Callable[[sa.Connection], None]) -> dict[str, Any]:
    """Start the table, run ``run`` in one transaction; the table as it is after."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in START:
                conn.exec_driver_sql(statement)
        with engine.begin() as conn:
            run(conn)
        with engine.connect() as conn:
            insp = sa.inspect(conn)
            indexes = [(i["name"], tuple(i["column_names"])) for i in insp.get_indexes("t")]
            return {
                "columns": [c["name"] for c in insp.get_columns("t")],
                "pk": insp.get_pk_constraint("t")["constrained_columns"],
                "indexes": sorted(indexes),
                "rows": conn.exec_driver_sql("SELECT * FROM t ORDER BY id").fetchall(),
            }
    finally:
        engine.dispose()


def _operations_methods(op: Any) -> None:
    with op.batch_alter_table("t") as batch_op:
        batch_op.add_column(sa.Column("c", sa.Integer))
        batch_op.create_index(batch_op.f("ix_c_final"), ["c"])
        # These act at once, on the table as it is before the batch's changes.
        batch_op.execute("UPDATE t SET b = b + 1")
        count = batch_op.get_bind().execute(sa.text("SELECT count(*) FROM t")).scalar()
        assert count == 2
        assert batch_op.get_context().dialect.name == op.get_context().dialect.name
        t = sa.table("t", sa.column("a"), sa.column("id"))
        batch_op.execute(t.update().where(t.c.id == 1).values(a=batch_op.inline_literal(11)))


def test_the_batch_object_has_the_methods_of_op(dialect_name: str, tmp_path: Path) -> None:
    with scratch_databases(dialect_name, tmp_path, 2) as (alembic_url, distill_url):
        by_alembic = _run(alembic_url, _with_alembic(_operations_methods))
        by_distill = _run(distill_url, _with_distill(_operations_methods))
    assert by_distill == by_alembic
    assert ("ix_c_final", ("c",)) in by_distill["indexes"]


def _drop_column_then_its_index(op: Any) -> None:
    with op.batch_alter_table("t") as batch_op:
        batch_op.drop_column("a")
        batch_op.drop_index("ix_t_a")


def test_an_index_dropped_after_its_column_is_still_found(
    dialect_name: str, tmp_path: Path
) -> None:
    with scratch_databases(dialect_name, tmp_path, 2) as (alembic_url, distill_url):
        by_distill = _run(distill_url, _with_distill(_drop_column_then_its_index))
        if dialect_name == "sqlite":  # Alembic's rebuild: the index is dropped by name
            assert by_distill == _run(alembic_url, _with_alembic(_drop_column_then_its_index))
        else:
            # Alembic runs the ALTERs in order, and DROP COLUMN took the index
            # along: DROP INDEX fails.  Distill drops the index first, which is
            # what the batch means (and what Alembic does on SQLite).
            with pytest.raises(sa.exc.DBAPIError, match="ix_t_a"):
                _run(alembic_url, _with_alembic(_drop_column_then_its_index))
    assert by_distill["columns"] == ["id", "b"]
    assert by_distill["indexes"] == []


def _replace_primary_key(op: Any) -> None:
    with op.batch_alter_table("t") as batch_op:
        batch_op.create_primary_key("pk_t_id_a", ["id", "a"])


def test_a_primary_key_created_in_a_rebuild_replaces_the_old_one(tmp_path: Path) -> None:
    with scratch_databases("sqlite", tmp_path, 2) as (alembic_url, distill_url):
        by_alembic = _run(alembic_url, _with_alembic(_replace_primary_key))
        by_distill = _run(distill_url, _with_distill(_replace_primary_key))
    assert by_distill == by_alembic
    assert by_distill["pk"] == ["id", "a"]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mysql"])
def test_replay_follows_the_batch_order_and_the_replaced_key(dialect: str, tmp_path: Path) -> None:
    from distill.replay.recorder import replay
    from tests.projects import make_project

    project = make_project(tmp_path, f"sqlite:///{tmp_path}/app.db")
    project.add("r1", None, """
        op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("a", sa.Integer, index=True),
                        sa.Column("b", sa.Integer, nullable=False))
        with op.batch_alter_table("t") as batch_op:
            batch_op.drop_column("a")
            batch_op.drop_index("ix_t_a")
    """)  # fmt: skip
    if dialect == "sqlite":
        project.add("r2", "r1", """
            with op.batch_alter_table("t") as batch_op:
                batch_op.create_primary_key("pk_t_id_b", ["id", "b"])
        """)  # fmt: skip
    engine_dialect = sa.create_mock_engine(f"{dialect}://", executor=None).dialect
    result = replay(project.project().graph, engine_dialect)
    assert result.exact, result.reasons
    (table,) = result.schema.tables
    assert table.indexes == ()
    assert [c.name for c in table.columns] == ["id", "b"]
    if dialect == "sqlite":
        assert table.primary_key is not None and table.primary_key.columns == ("id", "b")


NAMING = {
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}
UNNAMED = (
    "CREATE TABLE p (id INTEGER PRIMARY KEY)",
    "CREATE TABLE u (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p(id), "
    "q_id INTEGER REFERENCES p(id), x INTEGER UNIQUE, y INTEGER, CHECK (y > 0), UNIQUE (y))",
    "CREATE INDEX named_ix ON u (x)",
    "INSERT INTO p VALUES (1)",
    "INSERT INTO u VALUES (1, 1, 1, 5, 6)",
)


def _drop_unnamed(op: Any) -> None:
    # Alembic's documented recipe for dropping an unnamed constraint on SQLite.
    with op.batch_alter_table("u", naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint("fk_u_p_id_p", type_="foreignkey")
        batch_op.drop_constraint("uq_u_x", type_="unique")


def test_a_batch_naming_convention_names_the_reflected_unnamed_constraints(
    tmp_path: Path,
) -> None:
    shapes = []
    for run in (_with_alembic(_drop_unnamed), _with_distill(_drop_unnamed)):
        engine = sa.create_engine(f"sqlite:///{tmp_path}/{len(shapes)}.db")
        try:
            with engine.begin() as conn:
                for statement in UNNAMED:
                    conn.exec_driver_sql(statement)
            with engine.begin() as conn:
                run(conn)
            with engine.connect() as conn:
                insp = sa.inspect(conn)
                shapes.append({
                    "pk": insp.get_pk_constraint("u"),
                    "fks": insp.get_foreign_keys("u"),
                    "uniques": insp.get_unique_constraints("u"),
                    "checks": insp.get_check_constraints("u"),
                    "indexes": insp.get_indexes("u"),
                    "rows": conn.exec_driver_sql("SELECT * FROM u").fetchall(),
                })  # fmt: skip
        finally:
            engine.dispose()
    by_alembic, by_distill = shapes
    assert by_distill == by_alembic
    # the remaining unnamed ones carry the convention's names now
    assert [fk["name"] for fk in by_distill["fks"]] == ["fk_u_q_id_p"]
    assert [u["name"] for u in by_distill["uniques"]] == ["uq_u_y"]


def test_the_replay_names_by_the_batch_convention_as_the_rebuild_does(tmp_path: Path) -> None:
    from distill.replay.recorder import replay
    from distill.schema.reflect import reflect_schema
    from tests.projects import make_project

    project = make_project(tmp_path, f"sqlite:///{tmp_path}/app.db")
    project.add("r1", None, """
        op.create_table("p", sa.Column("id", sa.Integer, primary_key=True))
        op.create_table(
            "u", sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("p_id", sa.Integer, sa.ForeignKey("p.id")),
            sa.Column("q_id", sa.Integer, sa.ForeignKey("p.id")),
            sa.Column("x", sa.Integer, unique=True), sa.Column("y", sa.Integer, unique=True),
        )
    """)  # fmt: skip
    project.add("r2", "r1", f"""
        with op.batch_alter_table("u", naming_convention={NAMING!r}) as batch_op:
            batch_op.drop_constraint("fk_u_p_id_p", type_="foreignkey")
            batch_op.drop_constraint("uq_u_x", type_="unique")
    """)  # fmt: skip
    result = replay(project.project().graph, sa.create_engine("sqlite://").dialect)
    assert result.exact, result.reasons
    done = project.cli("upgrade", "head")
    assert done.returncode == 0, done.stderr
    engine = sa.create_engine(project.url)
    try:
        with engine.connect() as conn:
            reflected = reflect_schema(conn)
    finally:
        engine.dispose()
    (replayed_u,) = [t for t in result.schema.tables if t.name == "u"]
    (reflected_u,) = [t for t in reflected.tables if t.name == "u"]
    assert [fk.name for fk in replayed_u.foreign_keys] == ["fk_u_q_id_p"]
    assert replayed_u.foreign_keys == reflected_u.foreign_keys
    assert replayed_u.uniques == reflected_u.uniques
