"""Symbolic replay of single ops and of ``op.execute()`` text: no database involved."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from distill.ddl.statements import structural_statements
from distill.ops.batch import BatchAlterTable
from distill.ops.column import AddColumn, AlterColumn, DropColumn
from distill.ops.constraint import DropConstraint
from distill.ops.data import BulkInsert, Execute
from distill.ops.table import CreateTable, DropTable, RenameTable
from distill.replay.apply import apply_op
from distill.replay.schema import InexactReplay
from distill.schema.model import Schema


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t VALUES (1)",
        "update t set a = 'x; ALTER TABLE t DROP b'",
        "  -- a comment\nDELETE FROM t; SELECT 1",
        "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
        "CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$ BEGIN DROP TABLE x; END $$ "
        "LANGUAGE plpgsql",
        "CREATE VIEW v AS SELECT 1",
        "GRANT SELECT ON t TO bob",
        "TRUNCATE t",
        sa.text("UPDATE t SET a = 1"),
        sa.insert(sa.table("t", sa.column("a"))).values(a=1),
        sa.select(sa.literal(1)),
    ],
)
def test_data_statements_leave_the_schema(sql: object) -> None:
    assert structural_statements(sql) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE t ADD COLUMN x INTEGER",
        "UPDATE t SET a = 1; CREATE INDEX ix ON t (a)",
        "DROP TABLE t",
        "COMMENT ON TABLE t IS 'x'",
        "SELECT * INTO t2 FROM t",
        "DROP VIEW v CASCADE",
        "DO $$ BEGIN END $$",
        sa.text("ALTER TABLE t RENAME TO u"),
        sa.schema.CreateTable(sa.Table("t", sa.MetaData(), sa.Column("a", sa.Integer))),
    ],
)
def test_structural_or_unknown_statements_are_caught(sql: object) -> None:
    assert structural_statements(sql) != []  # type: ignore[arg-type]


def _users() -> Schema:
    create = CreateTable(
        "users",
        [
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("email", sa.String(50), unique=True),
            sa.Column("name", sa.String(20), index=True),
        ],
    )
    return apply_op(create, Schema("sqlite"))


def test_apply_is_pure_and_chains() -> None:
    empty = Schema("sqlite")
    users = _users()
    assert empty.tables == ()
    renamed = apply_op(RenameTable("users", "people"), users)
    assert users.table("users") is not None and renamed.table("users") is None
    people = renamed.table("people")
    assert people is not None and [c.name for c in people.columns] == ["id", "email", "name"]
    dropped = apply_op(DropColumn("people", "name"), renamed)
    assert dropped.table("people").indexes == ()  # type: ignore[union-attr]
    altered = apply_op(
        AlterColumn("people", "email", nullable=False, new_column_name="mail"), dropped
    )
    mail = altered.table("people").column("mail")  # type: ignore[union-attr]
    assert mail is not None and not mail.nullable
    assert altered.table("people").uniques[0].columns == ("mail",)  # type: ignore[union-attr]
    assert apply_op(DropTable("people"), altered).tables == ()


def test_unknown_targets_are_inexact() -> None:
    users = _users()
    with pytest.raises(InexactReplay, match="'ghost' is not in the replayed schema"):
        apply_op(DropTable("ghost"), users)
    with pytest.raises(InexactReplay, match="no constraint named 'nope'"):
        apply_op(DropConstraint("nope", "users"), users)
    assert apply_op(DropConstraint("nope", "users", if_exists=True), users) == users
    with pytest.raises(InexactReplay, match="ALTER TABLE users"):
        apply_op(Execute("ALTER TABLE users ADD x INT"), users)
    assert apply_op(BulkInsert(sa.table("users"), [{}]), users) == users


def test_a_batch_keeps_what_it_could_apply() -> None:
    batch = BatchAlterTable(
        "users",
        ops=[
            AddColumn("users", sa.Column("nick", sa.String(10)), insert_after="id"),
            DropColumn("users", "ghost"),
        ],
    )
    with pytest.raises(InexactReplay) as caught:
        apply_op(batch, _users())
    assert caught.value.schema is not None
    users = caught.value.schema.table("users")
    # The drop makes SQLite rebuild the table, and a rebuild honours insert_after.
    assert users is not None and [c.name for c in users.columns][:2] == ["id", "nick"]
    # Without a rebuild SQLite's ADD COLUMN puts the column last.
    native = apply_op(BatchAlterTable("users", ops=batch.ops[:1]), _users())
    assert native.table("users").columns[-1].name == "nick"  # type: ignore[union-attr]
