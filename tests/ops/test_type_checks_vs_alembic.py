"""The CHECK constraints of Enum/Boolean(create_constraint=True) through ALTERs.

SQLAlchemy gives such a column a CHECK in CREATE TABLE.  Changing the column
to an enum with more values must drop the old CHECK and create the new one
(else rows with the new value are refused: a break no error reveals until the
first such row); adding a column of such a type must add its CHECK; dropping
the column goes with its CHECK.  Each mode (plain ``op.*``, and
``batch_alter_table``) runs the same steps through Alembic 1.20 on one
database and Distill on another; after each step the CHECKs must be the ones
Alembic leaves — except where Alembic is known to get it wrong (listed below
and in docs/alembic.md), where Distill's must be the right ones.
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


def _old() -> sa.Enum:
    return sa.Enum("a", "b", name="status", create_constraint=True, native_enum=False)


def _new() -> sa.Enum:
    return sa.Enum("a", "b", "c", name="status", create_constraint=True, native_enum=False)


def _in(op: Any, batch: bool, change: Callable[[Any, str | None], None]) -> None:
    """``change(target, table)``: on op with the table named, or on a batch without."""
    if batch:
        with op.batch_alter_table("t") as batch_op:
            change(batch_op, None)
    else:
        change(op, "t")


def _call(target: Any, table: str | None, method: str, *args: Any, **kw: Any) -> None:
    getattr(target, method)(*([table] if table else []), *args, **kw)


STEPS: dict[str, Callable[[Any, bool], None]] = {
    "create": lambda op, batch: op.create_table(
        "t", sa.Column("id", sa.Integer, primary_key=True), sa.Column("s", _old())
    ),
    "alter to more values": lambda op, batch: _in(op, batch, lambda t, name: _call(
        t, name, "alter_column", "s", type_=_new(), existing_type=_old()
    )),
    "add enum and boolean columns": lambda op, batch: _in(op, batch, lambda t, name: (
        _call(t, name, "add_column", sa.Column("f", sa.Boolean(
            create_constraint=True, name="ck_f"
        ))),
        _call(t, name, "add_column", sa.Column("g", sa.Enum(
            "x", "y", name="gg", create_constraint=True, native_enum=False
        ))),
    )),
    "drop the enum column": lambda op, batch: _in(op, batch, lambda t, name: _call(
        t, name, "drop_column", "g"
    )),
}  # fmt: skip

# The CHECKs each step must leave, by name (PostgreSQL's boolean is native: no CHECK).
EXPECTED = {
    "create": {"status"},
    "alter to more values": {"status"},
    "add enum and boolean columns": {"status", "ck_f", "gg"},
    "drop the enum column": {"status", "ck_f"},
}

# (database, batch, step): where Alembic 1.20 fails or leaves the wrong CHECKs.
ALEMBIC_BUGS = {
    # adds the new CHECK without dropping the old one: "Duplicate CHECK constraint name"
    ("mariadb", False, "alter to more values"),
    ("mariadb", True, "alter to more values"),
    # no ALTER COLUMN on SQLite outside a batch
    ("sqlite", False, "alter to more values"),
    # ADD COLUMN leaves the type's CHECK out
    ("sqlite", False, "add enum and boolean columns"),
    # the rebuilt table keeps the dropped column's CHECK: "no such column: g"
    ("sqlite", True, "drop the enum column"),
}


def _alembic(conn: sa.Connection) -> Any:
    return AlembicOperations(MigrationContext.configure(conn))


def _distill(conn: sa.Connection) -> Any:
    return Operations(OpContext(dialect=conn.dialect, connection=conn))


def _step(engine: sa.Engine, make: Callable[[sa.Connection], Any], step: str, batch: bool) -> str:
    """Run ``step``; "" when it ran, else the error's first line."""
    try:
        with engine.begin() as conn:
            ops = make(conn)
            if isinstance(ops, Operations):
                with operations_in_effect(ops):
                    STEPS[step](ops, batch)
            else:
                STEPS[step](ops, batch)
    except Exception as error:  # Alembic's failures are part of what is compared
        return str(error).splitlines()[0]
    return ""


def _checks(engine: sa.Engine) -> list[tuple[str | None, str]]:
    with engine.connect() as conn:
        found = sa.inspect(conn).get_check_constraints("t")
    return sorted((c["name"], c["sqltext"]) for c in found)


@pytest.mark.parametrize("batch", [False, True], ids=["op", "batch"])
def test_type_checks_follow_the_column_type(dialect_name: str, batch: bool, tmp_path: Path) -> None:
    with scratch_databases(dialect_name, tmp_path, 2) as urls:
        by_alembic, by_distill = (sa.create_engine(url) for url in urls)
        try:
            alembic_agrees = True
            for step in STEPS:
                assert _step(by_distill, _distill, step, batch) == "", step
                failed = _step(by_alembic, _alembic, step, batch)
                expected = EXPECTED[step] - ({"ck_f"} if dialect_name == "postgresql" else set())
                assert {name for name, _ in _checks(by_distill)} == expected, step
                if (dialect_name, batch, step) in ALEMBIC_BUGS:
                    alembic_agrees = False  # from here on the two databases differ
                    assert failed or _checks(by_alembic) != _checks(by_distill), (
                        f"{step}: Alembic no longer gets this wrong; drop it from ALEMBIC_BUGS"
                    )
                elif alembic_agrees:
                    assert failed == "", step
                    assert _checks(by_distill) == _checks(by_alembic), step
            # The point of it all: the new value is accepted, a wrong one refused.
            with by_distill.begin() as conn:
                conn.exec_driver_sql("INSERT INTO t (id, s) VALUES (1, 'c')")
            with pytest.raises(sa.exc.DBAPIError), by_distill.begin() as conn:
                conn.exec_driver_sql("INSERT INTO t (id, s) VALUES (2, 'z')")
        finally:
            by_alembic.dispose()
            by_distill.dispose()


@pytest.mark.parametrize("batch", [False, True], ids=["op", "batch"])
@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mysql"])
def test_the_replay_follows_the_type_checks(dialect: str, batch: bool, tmp_path: Path) -> None:
    from distill.replay.recorder import replay
    from tests.projects import make_project

    project = make_project(tmp_path, f"sqlite:///{tmp_path}/app.db")
    project.add("r1", None, f"""
        from tests.ops.test_type_checks_vs_alembic import STEPS
        for step in STEPS:
            STEPS[step](op, {batch!r})
    """)  # fmt: skip
    result = replay(project.project().graph, sa.create_mock_engine(f"{dialect}://", None).dialect)
    assert result.exact, result.reasons
    (table,) = result.schema.tables
    expected = EXPECTED["drop the enum column"] - ({"ck_f"} if dialect == "postgresql" else set())
    assert {c.name for c in table.checks} == expected
    assert [c.sqltext for c in table.checks if c.name == "status"] == ["s IN ('a', 'b', 'c')"]
