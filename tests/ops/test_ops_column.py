from __future__ import annotations

import pytest
import sqlalchemy as sa

from distill.ops.api import Operations
from tests.ops.support import columns, rows, users


def _seed(ops: Operations) -> sa.Table:
    t = users(ops)
    ops.bulk_insert(t, [{"id": 1, "name": "a", "email": "a@x"}, {"id": 2, "name": "b"}])
    return t


def test_add_column_nullable(ops: Operations, conn: sa.Connection) -> None:
    _seed(ops)
    ops.add_column("users", sa.Column("age", sa.Integer()))
    conn.commit()
    assert columns(conn, "users")["age"]["nullable"] is True
    assert rows(conn, "SELECT id, age FROM users ORDER BY id") == [(1, None), (2, None)]


def test_add_column_not_null_with_default_keeps_rows(ops: Operations, conn: sa.Connection) -> None:
    _seed(ops)
    ops.add_column(
        "users", sa.Column("status", sa.String(10), nullable=False, server_default="new")
    )
    conn.commit()
    col = columns(conn, "users")["status"]
    assert col["nullable"] is False and "new" in str(col["default"])
    assert rows(conn, "SELECT status FROM users") == [("new",), ("new",)]


def test_add_column_with_fk_unique_index_comment(ops: Operations, conn: sa.Connection) -> None:
    _seed(ops)
    ops.create_table("teams", sa.Column("id", sa.Integer(), primary_key=True))
    ops.add_column(
        "users",
        sa.Column(
            "team_id",
            sa.Integer(),
            sa.ForeignKey("teams.id", name="fk_users_team"),
            index=True,
            comment="the team",
        ),
    )
    ops.add_column("users", sa.Column("code", sa.String(20), unique=True))
    conn.commit()
    insp = sa.inspect(conn)
    fks = insp.get_foreign_keys("users")
    assert [(f["referred_table"], f["constrained_columns"]) for f in fks] == [
        ("teams", ["team_id"])
    ]
    assert "ix_users_team_id" in [i["name"] for i in insp.get_indexes("users")]
    uniques = [u["column_names"] for u in insp.get_unique_constraints("users")]
    uniques += [i["column_names"] for i in insp.get_indexes("users") if i["unique"]]
    assert ["code"] in uniques
    assert rows(conn, "SELECT id, name FROM users ORDER BY id") == [(1, "a"), (2, "b")]
    if conn.dialect.name != "sqlite":
        assert columns(conn, "users")["team_id"]["comment"] == "the team"


def test_add_column_if_not_exists(ops: Operations, conn: sa.Connection) -> None:
    users(ops)
    ops.add_column("users", sa.Column("email", sa.String(100)), if_not_exists=True)
    ops.add_column("users", sa.Column("age", sa.Integer()), if_not_exists=True)
    conn.commit()
    assert list(columns(conn, "users")) == ["id", "name", "email", "age"]


def test_drop_column_keeps_data_and_other_indexes(ops: Operations, conn: sa.Connection) -> None:
    _seed(ops)
    ops.create_index("ix_users_email", "users", ["email"])
    ops.create_index("ix_users_name", "users", ["name"])
    ops.drop_column("users", "email")
    ops.drop_column("users", "email", if_exists=True)
    conn.commit()
    assert list(columns(conn, "users")) == ["id", "name"]
    assert [i["name"] for i in sa.inspect(conn).get_indexes("users")] == ["ix_users_name"]
    assert rows(conn, "SELECT id, name FROM users ORDER BY id") == [(1, "a"), (2, "b")]


def test_alter_column_nullable_and_type(ops: Operations, conn: sa.Connection) -> None:
    _seed(ops)
    conn.execute(sa.text("UPDATE users SET email = 'none' WHERE email IS NULL"))
    ops.alter_column(
        "users", "email", nullable=False, existing_type=sa.String(100), server_default="none"
    )
    ops.alter_column("users", "name", type_=sa.String(200), existing_nullable=False)
    conn.commit()
    cols = columns(conn, "users")
    assert cols["email"]["nullable"] is False
    assert cols["name"]["type"].length == 200 and cols["name"]["nullable"] is False
    assert rows(conn, "SELECT id, name FROM users ORDER BY id") == [(1, "a"), (2, "b")]


def test_alter_column_server_default_set_and_drop(ops: Operations, conn: sa.Connection) -> None:
    users(ops)
    ops.alter_column("users", "email", server_default="nobody")
    conn.commit()
    assert "nobody" in str(columns(conn, "users")["email"]["default"])
    ops.alter_column("users", "email", server_default=None)
    conn.commit()
    assert columns(conn, "users")["email"]["default"] in (None, "NULL")


def test_alter_column_rename(ops: Operations, conn: sa.Connection) -> None:
    _seed(ops)
    ops.create_index("ix_users_email", "users", ["email"])
    ops.alter_column("users", "email", new_column_name="mail")
    conn.commit()
    assert list(columns(conn, "users")) == ["id", "name", "mail"]
    idx = sa.inspect(conn).get_indexes("users")
    assert [(i["name"], i["column_names"]) for i in idx] == [("ix_users_email", ["mail"])]
    assert rows(conn, "SELECT mail FROM users ORDER BY id") == [("a@x",), (None,)]


def test_alter_column_rename_and_retype(ops: Operations, conn: sa.Connection) -> None:
    _seed(ops)
    ops.alter_column("users", "name", new_column_name="full_name", type_=sa.String(120))
    conn.commit()
    col = columns(conn, "users")["full_name"]
    assert col["type"].length == 120 and col["nullable"] is False
    assert rows(conn, "SELECT full_name FROM users ORDER BY id") == [("a",), ("b",)]


def test_alter_column_comment(ops: Operations, conn: sa.Connection) -> None:
    if conn.dialect.name == "sqlite":
        pytest.skip("SQLite keeps no column comments (the op is a no-op there)")
    users(ops)
    ops.alter_column("users", "email", comment="where to write")
    conn.commit()
    assert columns(conn, "users")["email"]["comment"] == "where to write"
    ops.alter_column("users", "email", comment=None)
    conn.commit()
    assert columns(conn, "users")["email"]["comment"] in (None, "")


def test_alter_column_keeps_what_it_does_not_change(ops: Operations, conn: sa.Connection) -> None:
    # On MySQL/MariaDB MODIFY restates the column: default and comment are read live.
    ops.create_table(
        "t",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("v", sa.String(10), server_default="x", comment="keep me", nullable=False),
    )
    ops.alter_column("t", "v", type_=sa.String(30))
    conn.commit()
    col = columns(conn, "t")["v"]
    assert col["type"].length == 30 and col["nullable"] is False and "x" in str(col["default"])
    if conn.dialect.name != "sqlite":
        assert col["comment"] == "keep me"


def test_alter_column_postgresql_using(ops: Operations, conn: sa.Connection) -> None:
    if conn.dialect.name != "postgresql":
        pytest.skip("USING is PostgreSQL syntax; other databases convert implicitly")
    ops.create_table(
        "t", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("n", sa.String(10))
    )
    conn.execute(sa.text("INSERT INTO t VALUES (1, '42')"))
    ops.alter_column("t", "n", type_=sa.Integer(), postgresql_using="n::integer")
    conn.commit()
    assert rows(conn, "SELECT n FROM t") == [(42,)]
