"""render() gives source that rebuilds an equal op; reverse() undoes an op for real."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from distill.ddl.context import OpContext
from distill.errors import OperationError
from distill.ops.api import Operations
from distill.ops.base import Op


def _recorder() -> tuple[Operations, list[Op]]:
    recorded: list[Op] = []
    ctx = OpContext(dialect=sa.dialects.sqlite.dialect(), connection=None, write_sql=lambda s: None)  # type: ignore[attr-defined]
    return Operations(ctx, invoke=recorded.append), recorded


def _script(op: Operations) -> None:
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("body", sa.Text(), server_default=sa.text("'empty'"), comment="text"),
        sa.Column("data", postgresql.JSONB()),
        sa.Column("tags", postgresql.ARRAY(sa.String(10))),
        sa.UniqueConstraint("user_id", "body", name="uq_x"),
        sa.CheckConstraint("id > 0", name="ck_id"),
        sa.Index("ix_posts_body", "body", unique=True),
        schema="app",
        comment="posts",
    )
    op.drop_table("posts", schema="app", if_exists=True)
    op.rename_table("a", "b")
    op.add_column("users", sa.Column("age", sa.Numeric(10, 2), nullable=False, server_default="0"))
    op.drop_column("users", "age", if_exists=True)
    op.alter_column(
        "users",
        "name",
        nullable=True,
        type_=sa.String(80),
        existing_type=sa.String(50),
        server_default="x",
        existing_server_default=None,
        new_column_name="full",
        comment="c",
        existing_comment=None,
        existing_nullable=False,
    )
    op.alter_column("users", "n", type_=sa.Integer(), postgresql_using="n::integer")
    op.create_index(
        "ix_a",
        "users",
        ["name", sa.text("lower(email)")],
        unique=True,
        postgresql_where=sa.text("age > 3"),
        postgresql_concurrently=True,
    )
    op.drop_index("ix_a", "users", if_exists=True)
    op.create_unique_constraint("uq_a", "users", ["name", "email"])
    op.create_foreign_key(
        "fk_a",
        "posts",
        "users",
        ["user_id"],
        ["id"],
        ondelete="SET NULL",
        deferrable=True,
        initially="DEFERRED",
        referent_schema="s",
    )
    op.create_check_constraint("ck_a", "users", "age > 0")
    op.create_primary_key("pk_a", "users", ["id"])
    op.drop_constraint("fk_a", "posts", type_="foreignkey")
    op.create_table_comment("users", "people", existing_comment="old")
    op.drop_table_comment("users", existing_comment="people")
    op.execute("UPDATE users SET name = 'x'")
    op.bulk_insert(
        sa.table("users", sa.column("id", sa.Integer()), sa.column("name", sa.String())),
        [{"id": 1, "name": "a"}],
        multiinsert=False,
    )
    with op.batch_alter_table("users", recreate="always") as batch_op:
        batch_op.add_column(sa.Column("z", sa.Integer()), insert_after="id")
        batch_op.alter_column("z", nullable=False, existing_type=sa.Integer())
        batch_op.drop_constraint("ck_a", type_="check")
        batch_op.create_foreign_key("fk_b", "teams", ["team_id"], ["id"])
        batch_op.drop_index("ix_a")


def test_render_round_trip() -> None:
    op, recorded = _recorder()
    _script(op)
    assert len(recorded) == 19
    for item in recorded:
        imports: set[str] = set()
        source = item.render(imports)
        assert all("sqlalchemy" in line for line in imports)
        again, replayed = _recorder()
        scope: dict[str, Any] = {"op": again, "sa": sa, "postgresql": postgresql}
        exec(compile(source, "<rendered>", "exec"), scope)
        assert replayed == [item], source
        assert replayed[0].render(set()) == source


def test_render_text() -> None:
    op, recorded = _recorder()
    op.add_column("users", sa.Column("email", sa.String(length=255), nullable=True))
    op.add_column("users", sa.Column("doc", postgresql.JSONB()))
    imports: set[str] = set()
    assert recorded[0].render(imports) == (
        'op.add_column("users", sa.Column("email", sa.String(length=255), nullable=True))'
    )
    assert "postgresql.JSONB(astext_type=sa.Text())" in recorded[1].render(imports)
    assert imports == {"from sqlalchemy.dialects import postgresql"}


def _schema(conn: sa.Connection) -> dict[str, Any]:
    insp = sa.inspect(conn)
    out: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        out[table] = (
            [
                (c["name"], str(c["type"]), c["nullable"], str(c["default"]).strip("'"))
                for c in insp.get_columns(table)
            ],
            # MySQL/MariaDB keep the index a foreign key made after the key is dropped.
            sorted(
                (i["name"], tuple(i["column_names"]))
                for i in insp.get_indexes(table)
                if not (conn.dialect.name == "mysql" and str(i["name"]).startswith("fk_"))
            ),
            sorted(
                (f["name"], tuple(f["constrained_columns"])) for f in insp.get_foreign_keys(table)
            ),
            sorted(u["name"] for u in insp.get_unique_constraints(table)),
            sorted(str(c["name"]) for c in insp.get_check_constraints(table)),
            insp.get_pk_constraint(table)["constrained_columns"],
        )
    return out


REVERSIBLE = {
    "add_column": lambda op: op.add_column(
        "users", sa.Column("age", sa.Integer(), server_default="3")
    ),
    "alter_column": lambda op: op.alter_column(
        "users",
        "name",
        nullable=True,
        type_=sa.String(80),
        existing_type=sa.String(50),
        existing_nullable=False,
        new_column_name="full",
        server_default="x",
        existing_server_default=None,
    ),
    "rename_table": lambda op: op.rename_table("users", "people"),
    "create_index": lambda op: op.create_index("ix_u", "users", ["name"], unique=True),
    "create_unique_constraint": lambda op: op.create_unique_constraint("uq_u", "users", ["email"]),
    "create_check_constraint": lambda op: op.create_check_constraint("ck_u", "users", "other > 0"),
    "create_foreign_key": lambda op: op.create_foreign_key(
        "fk_u", "users", "users", ["other"], ["id"]
    ),
    "create_table": lambda op: op.create_table(
        "t2",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("u", sa.Integer(), sa.ForeignKey("users.id")),
    ),
    "batch": lambda op: _batch(op),
}


def _batch(op: Operations) -> None:
    with op.batch_alter_table("users") as b:
        b.add_column(sa.Column("x", sa.Integer()))
        b.create_unique_constraint("uq_b", ["x"])


@pytest.mark.parametrize("name", sorted(REVERSIBLE))
def test_reverse_undoes(name: str, ops: Operations, conn: sa.Connection) -> None:
    ops.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("email", sa.String(100)),
        sa.Column("other", sa.Integer()),
    )
    conn.commit()
    before = _schema(conn)
    recorder, recorded = _recorder()
    REVERSIBLE[name](recorder)
    for item in recorded:
        item.execute(ops.get_context())
    conn.commit()
    assert _schema(conn) != before
    for item in reversed(recorded):
        item.reverse().execute(ops.get_context())
    conn.commit()
    assert _schema(conn) == before


def test_reverse_without_information_says_what_to_pass() -> None:
    op, recorded = _recorder()
    op.drop_column("users", "email")
    op.alter_column("users", "name", type_=sa.Text())
    op.execute("DELETE FROM users")
    with pytest.raises(
        OperationError,
        match=r"op.drop_column\('users', 'email'\) cannot be reversed without the column",
    ):
        recorded[0].reverse()
    with pytest.raises(OperationError, match="existing_type"):
        recorded[1].reverse()
    with pytest.raises(OperationError, match="cannot be reversed"):
        recorded[2].reverse()


def test_reversible_says_which_kinds_of_op_have_an_inverse() -> None:
    """The class flag, not an exception, tells a kind that can never be undone; every op
    the reverse test undoes is of a reversible kind."""
    op, recorded = _recorder()
    op.execute("DELETE FROM users")
    op.bulk_insert(sa.table("users", sa.column("id")), [{"id": 1}])
    op.drop_column("users", "email")
    assert [type(item).reversible for item in recorded] == [False, False, True]
    for name in REVERSIBLE:
        op, made = _recorder()
        REVERSIBLE[name](op)
        assert all(type(item).reversible for item in made), name


def test_a_dropped_tables_unique_constraints_come_back_once() -> None:
    """With SQLAlchemy 2.1, copying a unique constraint attached the copy to the table
    being copied: autogenerate's downgrade of a drop_table stopped with "Set changed size
    during iteration" (mlflow's models)."""
    from distill.ops.table import DropTable

    table = sa.Table(
        "t", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("a", sa.Integer), sa.Column("b", sa.Integer),
        sa.UniqueConstraint("a", name="uq_a"), sa.UniqueConstraint("b", name="uq_b"),
    )  # fmt: skip
    before = len(table.constraints)
    created = DropTable("t", table=table).reverse()
    assert len(table.constraints) == before
    text = created.render(set())
    assert text.count("sa.UniqueConstraint(") == 2 and "uq_a" in text and "uq_b" in text
