"""SQLite table rebuilds (automatic and batch) and batch_alter_table everywhere."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from distill.errors import OperationError
from distill.ops.api import Operations
from tests.ops.support import columns, rows


def _family(ops: Operations) -> None:
    """parent <- child, child -> itself; rows in all."""
    p = ops.create_table(
        "parent",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(20), nullable=False, unique=True),
        sa.Column("note", sa.String(20)),
        sa.CheckConstraint("length(name) > 0", name="ck_parent_name"),
    )
    c = ops.create_table(
        "child",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "parent_id",
            sa.Integer(),
            sa.ForeignKey("parent.id", name="fk_child_parent", ondelete="CASCADE"),
        ),
        sa.Column("up_id", sa.Integer(), sa.ForeignKey("child.id", name="fk_child_up")),
        sa.Column("label", sa.String(20), index=True),
    )
    ops.bulk_insert(
        p, [{"id": 1, "name": "p1", "note": "n"}, {"id": 2, "name": "p2", "note": None}]
    )
    ops.bulk_insert(
        c,
        [
            {"id": 10, "parent_id": 1, "up_id": None, "label": "a"},
            {"id": 11, "parent_id": 2, "up_id": 10, "label": "b"},
        ],
    )


def _assert_family_intact(conn: sa.Connection) -> None:
    insp = sa.inspect(conn)
    assert rows(conn, "SELECT id, name FROM parent ORDER BY id") == [(1, "p1"), (2, "p2")]
    assert rows(conn, "SELECT id, parent_id, up_id FROM child ORDER BY id") == [
        (10, 1, None),
        (11, 2, 10),
    ]
    fks = {
        f["name"]: (f["referred_table"], f["constrained_columns"])
        for f in insp.get_foreign_keys("child")
    }
    assert fks == {
        "fk_child_parent": ("parent", ["parent_id"]),
        "fk_child_up": ("child", ["up_id"]),
    }
    assert "ix_child_label" in [i["name"] for i in insp.get_indexes("child")]


def test_rebuild_of_parent_keeps_children_and_constraints(
    ops: Operations, conn: sa.Connection
) -> None:
    _family(ops)
    ops.alter_column("parent", "note", type_=sa.String(200))
    ops.drop_column("parent", "note")
    conn.commit()
    _assert_family_intact(conn)
    insp = sa.inspect(conn)
    assert list(columns(conn, "parent")) == ["id", "name"]
    assert "ck_parent_name" in [c["name"] for c in insp.get_check_constraints("parent")]
    uniques = [u["column_names"] for u in insp.get_unique_constraints("parent")]
    uniques += [i["column_names"] for i in insp.get_indexes("parent") if i["unique"]]
    assert ["name"] in uniques
    if conn.dialect.name == "sqlite":
        assert rows(conn, "PRAGMA foreign_key_check") == []
        assert rows(conn, "SELECT name FROM sqlite_master WHERE name LIKE '_distill_tmp%'") == []


def test_rebuild_of_child_keeps_its_keys(ops: Operations, conn: sa.Connection) -> None:
    _family(ops)
    ops.alter_column("child", "label", nullable=False, existing_type=sa.String(20))
    ops.create_unique_constraint("uq_child_label", "child", ["label"])
    conn.commit()
    _assert_family_intact(conn)
    assert columns(conn, "child")["label"]["nullable"] is False


def test_rebuild_refuses_dangling_foreign_key(ops: Operations, conn: sa.Connection) -> None:
    if conn.dialect.name != "sqlite":
        pytest.skip("the foreign_key_check guards SQLite rebuilds only")
    _family(ops)
    conn.commit()
    conn.execute(sa.text("INSERT INTO child (id, parent_id) VALUES (12, 99)"))  # FKs are off
    with pytest.raises(OperationError, match="foreign key"):
        ops.alter_column("child", "label", type_=sa.String(50))
    conn.rollback()
    assert columns(conn, "child")["label"]["type"].length == 20


def test_rebuild_keeps_the_triggers_of_the_table(ops: Operations, conn: sa.Connection) -> None:
    if conn.dialect.name != "sqlite":
        pytest.skip("only SQLite rebuilds tables")
    _family(ops)
    trigger = "CREATE TRIGGER trg AFTER INSERT ON parent BEGIN SELECT 1; END"
    conn.execute(sa.text(trigger))
    ops.drop_column("parent", "note")
    found = rows(conn, "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
    assert found == [("trg", "parent", trigger)]


def test_add_column_sqlite_cannot_add_natively(ops: Operations, conn: sa.Connection) -> None:
    _family(ops)
    ops.add_column(
        "parent",
        sa.Column(
            "created", sa.DateTime(), server_default=sa.func.current_timestamp(), nullable=False
        ),
    )
    ops.add_column("parent", sa.Column("code", sa.String(5), unique=True))
    ops.add_column("parent", sa.Column("flag", sa.Integer(), nullable=False, server_default="1"))
    conn.commit()
    assert rows(conn, "SELECT COUNT(*) FROM parent WHERE created IS NOT NULL AND flag = 1") == [
        (2,)
    ]
    _assert_family_intact(conn)


def test_batch_alter_table_one_rebuild(ops: Operations, conn: sa.Connection) -> None:
    _family(ops)
    executed_before = len(ops.get_context().executed)
    with ops.batch_alter_table("parent") as batch_op:
        batch_op.add_column(sa.Column("rank", sa.Integer(), nullable=False, server_default="0"))
        batch_op.alter_column("note", new_column_name="remark", type_=sa.String(100))
        batch_op.create_check_constraint("ck_rank", sa.text("rank >= 0"))
        batch_op.create_index("ix_parent_rank", ["rank"])
        batch_op.drop_constraint("ck_parent_name", type_="check")
    conn.commit()
    statements = ops.get_context().executed[executed_before:]
    if conn.dialect.name == "sqlite":
        assert sum(s.startswith("CREATE TABLE _distill_tmp_parent") for s in statements) == 1
    cols = columns(conn, "parent")
    assert list(cols) == ["id", "name", "remark", "rank"]
    assert rows(conn, "SELECT id, remark, rank FROM parent ORDER BY id") == [
        (1, "n", 0),
        (2, None, 0),
    ]
    checks = [c["name"] for c in sa.inspect(conn).get_check_constraints("parent")]
    assert "ck_rank" in checks and "ck_parent_name" not in checks
    assert "ix_parent_rank" in [i["name"] for i in sa.inspect(conn).get_indexes("parent")]
    _assert_family_intact(conn)


def test_batch_recreate_always_and_never(ops: Operations, conn: sa.Connection) -> None:
    _family(ops)
    with ops.batch_alter_table("child", recreate="always") as batch_op:
        batch_op.drop_index("ix_child_label")
        batch_op.create_index("ix_child_label", ["label"])
    conn.commit()
    _assert_family_intact(conn)
    if conn.dialect.name == "sqlite":
        with (
            pytest.raises(OperationError, match="recreate='never'"),
            ops.batch_alter_table("child", recreate="never") as batch_op,
        ):
            batch_op.alter_column("label", type_=sa.Text())


def test_batch_insert_position_and_add_fk(ops: Operations, conn: sa.Connection) -> None:
    _family(ops)
    with ops.batch_alter_table("parent") as batch_op:
        batch_op.add_column(sa.Column("boss_id", sa.Integer()), insert_after="id")
        batch_op.create_foreign_key("fk_parent_boss", "parent", ["boss_id"], ["id"])
    conn.commit()
    if conn.dialect.name == "sqlite":  # other databases append new columns at the end
        assert list(columns(conn, "parent"))[:2] == ["id", "boss_id"]
    fks = sa.inspect(conn).get_foreign_keys("parent")
    assert [(f["name"], f["referred_table"]) for f in fks] == [("fk_parent_boss", "parent")]
    _assert_family_intact(conn)


def test_rebuild_keeps_expression_and_partial_indexes(ops: Operations, conn: sa.Connection) -> None:
    if conn.dialect.name != "sqlite":
        pytest.skip("only SQLite rebuilds tables; the others keep indexes in place")
    _family(ops)
    ops.execute("CREATE INDEX ix_lower ON child (lower(label))")
    ops.execute("CREATE INDEX ix_some ON child (label) WHERE up_id IS NOT NULL")
    ops.alter_column("child", "label", type_=sa.String(60))
    conn.commit()
    sql = dict(
        rows(conn, "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    )
    assert "lower(label)" in sql["ix_lower"] and "WHERE up_id IS NOT NULL" in sql["ix_some"]
    _assert_family_intact(conn)
