"""PostgreSQL enum type ops: run on a real database, rendered, reversed, replayed.

On SQLite and MariaDB there are no named enum types, so every op is a no-op there.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from distill.autogen.compare import compare
from distill.errors import OperationError
from distill.ops.api import Operations
from distill.ops.base import Op
from distill.ops.enum import AddEnumValue, CreateEnumType, DropEnumType, RecreateEnumType
from distill.replay.apply import apply_op
from distill.schema.model import Schema
from distill.schema.reflect import reflect_schema
from tests.ops import support
from tests.ops.support import rows


def _enums(conn: sa.Connection) -> dict[str, list[str]]:
    return {e["name"]: list(e["labels"]) for e in sa.inspect(conn).get_enums()}  # type: ignore[attr-defined]


def _recording(conn: sa.Connection, ops: Operations) -> tuple[Operations, list[Op]]:
    """Operations that both run each op and keep it, to replay afterwards."""
    done: list[Op] = []

    def invoke(item: Op) -> object:
        done.append(item)
        return item.execute(ops.context)

    return Operations(ops.context, invoke), done


def _replayed(done: list[Op], dialect: str) -> Schema:
    schema = Schema(dialect)
    for item in done:
        schema = apply_op(item, schema)
    return schema


def test_enum_ops_on_postgresql(ops: Operations, conn: sa.Connection) -> None:
    if conn.dialect.name != "postgresql":
        pytest.skip("named enum types exist only on PostgreSQL")
    rec, done = _recording(conn, ops)
    rec.create_enum_type("status", ["new", "done"])
    rec.create_table(
        "things",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("status", sa.Enum("new", "done", name="status"), server_default="new"),
    )
    rec.add_enum_value("status", "archived")
    rec.add_enum_value("status", "started", before="done")
    rec.add_enum_value("status", "new")  # IF NOT EXISTS: already there, nothing happens
    conn.commit()  # a new value can only be used once its transaction has committed
    conn.exec_driver_sql("INSERT INTO things (id, status) VALUES (1, 'started')")
    assert _enums(conn) == {"status": ["new", "started", "done", "archived"]}

    exclude = lambda name: False  # noqa: E731
    assert compare(_replayed(done, "postgresql"), reflect_schema(conn, exclude=exclude)) == []

    rec.recreate_enum_type(
        "status", ["new", "started", "done"], columns=[("things", "status")],
        existing_values=["new", "started", "done", "archived"],
    )  # fmt: skip
    assert _enums(conn) == {"status": ["new", "started", "done"]}
    assert rows(conn, "SELECT status::text FROM things") == [("started",)]
    # The default survives the conversion, now cast to the new type.
    conn.exec_driver_sql("INSERT INTO things (id) VALUES (2)")
    assert rows(conn, "SELECT status::text FROM things WHERE id = 2") == [("new",)]
    assert compare(_replayed(done, "postgresql"), reflect_schema(conn, exclude=exclude)) == []

    rec.drop_table("things")
    rec.drop_enum_type("status", values=["new", "started", "done"])
    assert _enums(conn) == {}
    assert _replayed(done, "postgresql").enums == ()


def test_create_table_does_not_create_the_type_twice_offline() -> None:
    ops, out = support.offline("postgresql")
    ops.create_enum_type("status", ["a", "b"])
    ops.create_table("t", sa.Column("s", sa.Enum("a", "b", name="status")))
    text = "\n".join(out)
    assert text.count("CREATE TYPE") == 1
    assert "CREATE TYPE status AS ENUM ('a', 'b')" in text


def test_offline_sql() -> None:
    ops, out = support.offline("postgresql")
    ops.create_enum_type("mood", ["it's ok", "sad"], schema="app")
    ops.add_enum_value("mood", "happy", schema="app", after="sad")
    ops.add_enum_value("mood", "meh", if_not_exists=False, before="sad")
    ops.drop_enum_type("mood", schema="app")
    text = "\n".join(out)
    assert "CREATE TYPE app.mood AS ENUM ('it''s ok', 'sad')" in text
    assert "ALTER TYPE app.mood ADD VALUE IF NOT EXISTS 'happy' AFTER 'sad'" in text
    assert "ALTER TYPE mood ADD VALUE 'meh' BEFORE 'sad'" in text
    assert "DROP TYPE app.mood" in text


def test_noop_without_named_enum_types(ops: Operations, conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        pytest.skip("PostgreSQL has named enum types")
    ops.create_enum_type("status", ["a", "b"])
    ops.add_enum_value("status", "c")
    ops.recreate_enum_type("status", ["a"], columns=[("t", "s")], existing_values=["a", "c"])
    ops.drop_enum_type("status")
    assert ops.context.executed == []
    for item in (CreateEnumType("s", ["a"]), AddEnumValue("s", "b"), DropEnumType("s")):
        assert apply_op(item, Schema(conn.dialect.name)) == Schema(conn.dialect.name)


def test_render_and_reverse() -> None:
    imports: set[str] = set()
    create = CreateEnumType("status", ["new", "done"], schema="app")
    assert create.render(imports) == 'op.create_enum_type("status", ["new", "done"], schema="app")'
    drop = create.reverse()
    assert drop.render(imports) == (
        'op.drop_enum_type("status", schema="app", values=["new", "done"])'
    )
    assert drop.reverse() == create
    add = AddEnumValue("status", "x", before="done", if_not_exists=False)
    assert add.render(imports) == (
        'op.add_enum_value("status", "x", before="done", if_not_exists=False)'
    )
    with pytest.raises(OperationError, match="cannot remove a value"):
        add.reverse()
    with pytest.raises(OperationError, match="values="):
        DropEnumType("status").reverse()
    recreate = RecreateEnumType("status", ["a"], [("t", "s")], existing_values=["a", "b"])
    assert recreate.render(imports) == (
        'op.recreate_enum_type("status", ["a"], columns=[["t", "s"]], existing_values=["a", "b"])'
    )
    assert recreate.reverse().reverse() == recreate
    assert imports == set()
