from __future__ import annotations

import pytest
import sqlalchemy as sa

from distill.errors import OperationError
from distill.ops.api import Operations
from tests.ops.support import rows, users


def _parent_child(ops: Operations) -> None:
    t = users(ops)
    ops.bulk_insert(t, [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
    posts = ops.create_table(
        "posts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer()),
        sa.Column("score", sa.Integer()),
    )
    ops.bulk_insert(
        posts, [{"id": 10, "user_id": 1, "score": 3}, {"id": 11, "user_id": 2, "score": 5}]
    )


def test_unique_constraint_create_and_drop(ops: Operations, conn: sa.Connection) -> None:
    _parent_child(ops)
    ops.create_unique_constraint("uq_users_name", "users", ["name"])
    conn.commit()
    assert [u["name"] for u in sa.inspect(conn).get_unique_constraints("users")] == [
        "uq_users_name"
    ]
    ops.drop_constraint("uq_users_name", "users", type_="unique")
    conn.commit()
    assert sa.inspect(conn).get_unique_constraints("users") == []
    assert rows(conn, "SELECT id FROM users ORDER BY id") == [(1,), (2,)]


def test_foreign_key_create_and_drop(ops: Operations, conn: sa.Connection) -> None:
    _parent_child(ops)
    ops.create_foreign_key(
        "fk_posts_user",
        "posts",
        "users",
        ["user_id"],
        ["id"],
        ondelete="CASCADE",
        onupdate="CASCADE",
    )
    conn.commit()
    fk = sa.inspect(conn).get_foreign_keys("posts")[0]
    assert (fk["name"], fk["referred_table"], fk["referred_columns"]) == (
        "fk_posts_user",
        "users",
        ["id"],
    )
    assert fk["options"]["ondelete"] == "CASCADE"
    # No type_: looked up by reflection where the database needs to know (MySQL).
    ops.drop_constraint("fk_posts_user", "posts")
    conn.commit()
    assert sa.inspect(conn).get_foreign_keys("posts") == []
    assert rows(conn, "SELECT id, user_id FROM posts ORDER BY id") == [(10, 1), (11, 2)]


def test_foreign_key_deferrable(ops: Operations, conn: sa.Connection) -> None:
    if conn.dialect.name == "mysql":
        pytest.skip("MariaDB has no deferrable constraints")
    _parent_child(ops)
    ops.create_foreign_key(
        "fk_posts_user",
        "posts",
        "users",
        ["user_id"],
        ["id"],
        deferrable=True,
        initially="DEFERRED",
    )
    conn.commit()
    fk = sa.inspect(conn).get_foreign_keys("posts")[0]
    if conn.dialect.name == "postgresql":
        assert fk["options"]["deferrable"] is True and fk["options"]["initially"] == "DEFERRED"
    sql = (
        rows(conn, "SELECT sql FROM sqlite_master WHERE name = 'posts'")[0][0]
        if conn.dialect.name == "sqlite"
        else "DEFERRABLE INITIALLY DEFERRED"
    )
    assert "DEFERRABLE INITIALLY DEFERRED" in sql


def test_check_constraint_create_and_drop(ops: Operations, conn: sa.Connection) -> None:
    _parent_child(ops)
    ops.create_check_constraint("ck_posts_score", "posts", sa.column("score") >= 0)
    conn.commit()
    assert "ck_posts_score" in [c["name"] for c in sa.inspect(conn).get_check_constraints("posts")]
    with pytest.raises(sa.exc.DBAPIError):
        conn.execute(sa.text("INSERT INTO posts (id, score) VALUES (99, -1)"))
    conn.rollback()
    ops.drop_constraint("ck_posts_score", "posts", type_="check")
    conn.commit()
    assert "ck_posts_score" not in [
        c["name"] for c in sa.inspect(conn).get_check_constraints("posts")
    ]
    assert rows(conn, "SELECT COUNT(*) FROM posts") == [(2,)]


def test_primary_key_create_and_drop(ops: Operations, conn: sa.Connection) -> None:
    t = ops.create_table(
        "tags", sa.Column("code", sa.String(10), nullable=False), sa.Column("label", sa.String(20))
    )
    ops.bulk_insert(t, [{"code": "a", "label": "A"}])
    ops.create_primary_key("pk_tags", "tags", ["code"])
    conn.commit()
    assert sa.inspect(conn).get_pk_constraint("tags")["constrained_columns"] == ["code"]
    ops.drop_constraint("pk_tags", "tags", type_="primary")
    conn.commit()
    assert sa.inspect(conn).get_pk_constraint("tags")["constrained_columns"] == []
    assert rows(conn, "SELECT code, label FROM tags") == [("a", "A")]


def test_index_unique_expression_and_if_exists(ops: Operations, conn: sa.Connection) -> None:
    users(ops)
    ops.create_index("ix_users_name_email", "users", ["name", "email"], unique=True)
    ops.create_index(
        "ix_users_name_email", "users", ["name", "email"], unique=True, if_not_exists=True
    )
    expression = conn.dialect.name != "mysql"  # MariaDB has no expression indexes
    if expression:
        ops.create_index("ix_users_lower", "users", [sa.text("lower(name)")])
    else:
        ops.create_index("ix_users_lower", "users", ["name"], mysql_length=5)
    conn.commit()
    idx = {i["name"]: i for i in sa.inspect(conn).get_indexes("users")}
    assert idx["ix_users_name_email"]["unique"] and idx["ix_users_name_email"]["column_names"] == [
        "name",
        "email",
    ]
    ops.drop_index("ix_users_name_email", "users")
    ops.drop_index("ix_users_lower")  # no table: MySQL/MariaDB look it up
    ops.drop_index("ix_users_lower", "users", if_exists=True)
    conn.commit()
    assert sa.inspect(conn).get_indexes("users") == []


def test_postgresql_partial_index(ops: Operations, conn: sa.Connection) -> None:
    if conn.dialect.name != "postgresql":
        pytest.skip("postgresql_where/postgresql_using are PostgreSQL options")
    users(ops)
    ops.create_index(
        "ix_active",
        "users",
        ["name"],
        postgresql_where=sa.text("email IS NOT NULL"),
        postgresql_using="btree",
    )
    conn.commit()
    sql = rows(conn, "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_active'")[0][0]
    assert "WHERE (email IS NOT NULL)" in sql
    # A covering index names columns of the table beyond the index's own (mlflow's history).
    ops.create_index("ix_cover", "users", ["name"], postgresql_include=["email"])
    conn.commit()
    sql = rows(conn, "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_cover'")[0][0]
    assert "INCLUDE (email)" in sql


def test_concurrent_index_needs_autocommit_block(ops: Operations, conn: sa.Connection) -> None:
    if conn.dialect.name != "postgresql":
        pytest.skip("CREATE INDEX CONCURRENTLY is PostgreSQL only")
    users(ops)
    conn.commit()
    with pytest.raises(OperationError, match="autocommit_block"):
        ops.create_index("ix_c", "users", ["name"], postgresql_concurrently=True)
    with ops.autocommit_block():
        assert conn.get_execution_options()["isolation_level"] == "AUTOCOMMIT"
        ops.create_index("ix_c", "users", ["name"], postgresql_concurrently=True)
    assert conn.get_execution_options()["isolation_level"] != "AUTOCOMMIT"
    ops.add_column("users", sa.Column("age", sa.Integer()))
    conn.rollback()  # the statement after the block ran in a new transaction
    assert [i["name"] for i in sa.inspect(conn).get_indexes("users")] == ["ix_c"]
    assert "age" not in [c["name"] for c in sa.inspect(conn).get_columns("users")]


def test_drop_constraint_unknown_name(ops: Operations, conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        pytest.skip("PostgreSQL drops any constraint by name; its own error is already clear")
    users(ops)
    with pytest.raises(OperationError, match="no constraint named 'nope'"):
        ops.drop_constraint("nope", "users")
    ops.drop_constraint("nope", "users", type_="unique", if_exists=True)
