"""Changes into ops, executed for real: upgrade reaches the target, downgrade returns."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
import sqlalchemy as sa

from distill.autogen.compare import compare
from distill.autogen.plan import downgrade_ops, upgrade_ops
from distill.ddl.context import OpContext
from distill.ops.base import Op
from distill.runtime.database import create_engine
from distill.schema.model import (
    Column,
    ColumnType,
    ForeignKey,
    Index,
    PrimaryKey,
    Schema,
    Table,
    UniqueConstraint,
)

INT = ColumnType("integer", "INTEGER", "sa.Integer()")
VC20 = ColumnType("string", "VARCHAR(20)", "sa.String(length=20)", length=20)
VC40 = ColumnType("string", "VARCHAR(40)", "sa.String(length=40)", length=40)


def table(name: str, *columns: Column, **kw: object) -> Table:
    return Table(
        name, (Column("id", INT, nullable=False), *columns), primary_key=PrimaryKey(("id",)), **kw
    )  # type: ignore[arg-type]


BEFORE = (
    table("users", Column("name", VC20)),
    table("orders", Column("user_id", INT),
          foreign_keys=(ForeignKey(("user_id",), "users", ("id",), name="fk_orders_user"),),
          indexes=(Index("ix_orders_user", ("user_id",)),)),
    table("legacy", Column("x", INT), Column("y", INT),
          indexes=(Index("ix_legacy_x", ("x",)), Index("ix_legacy_xy", ("x", "y"), unique=True))),
)  # fmt: skip
AFTER = (
    table("users", Column("name", VC40, nullable=False), Column("email", VC40),
          uniques=(UniqueConstraint(("email",), name="uq_users_email"),)),
    table("orders", Column("user_id", INT), Column("note", VC20, server_default="'none'"),
          foreign_keys=(ForeignKey(("user_id",), "users", ("id",), name="fk_orders_user",
                                   ondelete="CASCADE"),)),
    # two new tables that refer to each other: one FK must wait until both exist
    table("teams", Column("captain_id", INT),
          foreign_keys=(ForeignKey(("captain_id",), "players", ("id",), name="fk_captain"),)),
    table("players", Column("team_id", INT),
          foreign_keys=(ForeignKey(("team_id",), "teams", ("id",), name="fk_team"),)),
)  # fmt: skip


@pytest.fixture
def conn(db_url: str) -> Iterator[sa.Connection]:
    engine = create_engine(db_url)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def run(conn: sa.Connection, ops: Sequence[Op]) -> None:
    ctx = OpContext(dialect=conn.dialect, connection=conn)
    for op in ops:
        op.execute(ctx)
        op.render(set())  # every planned op can be written into a script
    conn.commit()


def shape(conn: sa.Connection) -> dict[str, object]:
    inspector = sa.inspect(conn)
    found: dict[str, object] = {}
    for name in sorted(inspector.get_table_names()):
        columns = inspector.get_columns(name)
        found[name] = {
            "columns": [(c["name"], c["nullable"]) for c in columns],
            "lengths": [getattr(c["type"], "length", None) for c in columns],
            "fks": sorted(
                (
                    fk["name"] or "",
                    tuple(fk["constrained_columns"]),
                    (fk.get("options") or {}).get("ondelete"),
                )
                for fk in inspector.get_foreign_keys(name)
            ),
            "uniques": sorted(u["name"] or "" for u in inspector.get_unique_constraints(name)),
            "indexes": sorted(
                (i["name"] or "", tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(name)
            ),
        }
    return found


def test_upgrade_reaches_target_and_downgrade_returns(conn: sa.Connection) -> None:
    dialect = conn.dialect.name
    empty, before, after = Schema(dialect), Schema(dialect, BEFORE), Schema(dialect, AFTER)
    create = upgrade_ops(compare(empty, before))
    run(conn, create)
    at_before = shape(conn)
    assert set(at_before) == {"legacy", "orders", "users"}

    change = upgrade_ops(compare(before, after))
    kinds = [type(op).__name__ for op in change]
    # foreign keys dropped first, tables created before their FKs are added, drops last
    assert kinds[0] == "DropConstraint" and kinds[-1] == "CreateForeignKey"
    assert kinds.index("CreateTable") < kinds.index("DropTable")
    run(conn, change)
    at_after = shape(conn)
    assert set(at_after) == {"orders", "players", "teams", "users"}
    users = at_after["users"]
    assert isinstance(users, dict)
    assert users["columns"] == [("id", False), ("name", False), ("email", True)]
    assert users["lengths"][1] == 40
    assert users["uniques"] == ["uq_users_email"]
    orders = at_after["orders"]
    assert isinstance(orders, dict)
    assert [fk[0] for fk in orders["fks"]] == ["fk_orders_user"]  # type: ignore[attr-defined]
    teams, players = at_after["teams"], at_after["players"]
    assert isinstance(teams, dict) and isinstance(players, dict)
    assert teams["fks"] and players["fks"]

    run(conn, downgrade_ops(change))
    assert shape(conn) == at_before
    run(conn, downgrade_ops(create))
    assert shape(conn) == {}
