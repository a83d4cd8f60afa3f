from __future__ import annotations

import sqlalchemy as sa

from distill.ops.api import Operations
from tests.ops.support import columns, rows, users


def test_create_table_returns_table_usable_by_bulk_insert(
    ops: Operations, conn: sa.Connection
) -> None:
    t = users(ops)
    ops.bulk_insert(t, [{"id": 1, "name": "a", "email": "x"}, {"id": 2, "name": "b"}])
    conn.commit()
    assert rows(conn, "SELECT id, name, email FROM users ORDER BY id") == [
        (1, "a", "x"),
        (2, "b", None),
    ]
    cols = columns(conn, "users")
    assert list(cols) == ["id", "name", "email"]
    assert cols["name"]["nullable"] is False


def test_create_table_with_constraints_indexes_comments(
    ops: Operations, conn: sa.Connection
) -> None:
    users(ops)
    ops.create_table(
        "posts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("title", sa.String(80), index=True, comment="the title"),
        sa.Column("score", sa.Integer(), server_default="0"),
        sa.UniqueConstraint("user_id", "title", name="uq_posts_user_title"),
        sa.CheckConstraint("score >= 0", name="ck_posts_score"),
        comment="blog posts",
    )
    conn.commit()
    insp = sa.inspect(conn)
    fk = insp.get_foreign_keys("posts")[0]
    assert fk["referred_table"] == "users" and fk["constrained_columns"] == ["user_id"]
    assert fk["options"].get("ondelete") == "CASCADE"
    assert [u["name"] for u in insp.get_unique_constraints("posts")] == ["uq_posts_user_title"]
    assert "ck_posts_score" in [c["name"] for c in insp.get_check_constraints("posts")]
    assert "ix_posts_title" in [i["name"] for i in insp.get_indexes("posts")]
    if conn.dialect.name != "sqlite":  # SQLite keeps no comments
        assert insp.get_table_comment("posts")["text"] == "blog posts"
        assert columns(conn, "posts")["title"]["comment"] == "the title"


def test_drop_table(ops: Operations, conn: sa.Connection) -> None:
    users(ops)
    ops.drop_table("users")
    ops.drop_table("users", if_exists=True)
    conn.commit()
    assert not sa.inspect(conn).has_table("users")


def test_rename_table(ops: Operations, conn: sa.Connection) -> None:
    t = users(ops)
    ops.bulk_insert(t, [{"id": 1, "name": "a"}])
    ops.rename_table("users", "people")
    conn.commit()
    insp = sa.inspect(conn)
    assert not insp.has_table("users")
    assert rows(conn, "SELECT name FROM people") == [("a",)]


def test_table_comment(ops: Operations, conn: sa.Connection) -> None:
    users(ops)
    ops.create_table_comment("users", "people who log in")
    conn.commit()
    if conn.dialect.name != "sqlite":
        assert sa.inspect(conn).get_table_comment("users")["text"] == "people who log in"
    ops.drop_table_comment("users", existing_comment="people who log in")
    conn.commit()
    if conn.dialect.name != "sqlite":
        assert sa.inspect(conn).get_table_comment("users")["text"] in (None, "")


def test_execute_and_inline_literal(ops: Operations, conn: sa.Connection) -> None:
    t = users(ops)
    ops.execute("INSERT INTO users (id, name) VALUES (1, 'at 12:30 100%')")
    ops.execute(t.update().where(t.c.id == 1).values(email=ops.inline_literal("e@x")))
    conn.commit()
    assert rows(conn, "SELECT name, email FROM users") == [("at 12:30 100%", "e@x")]
    assert ops.get_bind() is conn
