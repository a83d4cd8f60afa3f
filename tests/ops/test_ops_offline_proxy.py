"""--sql output per dialect, and the `op` proxy."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from distill import op
from distill.ddl.context import OpContext
from distill.errors import OperationError
from distill.ops.api import Operations
from distill.ops.proxy import operations_in_effect
from tests.ops.support import offline


def _users(ops: Operations) -> None:
    ops.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False, comment="n"),
    )


EXPECTED = {
    "sqlite": [
        "ALTER TABLE users ADD COLUMN email VARCHAR(100);",
        "INSERT INTO users (id, name) VALUES (1, 'it''s 100% a:b');",
        "UPDATE users SET name = 'a:b';",
    ],
    "postgresql": [
        "COMMENT ON COLUMN users.name IS 'n';",
        "ALTER TABLE users ADD COLUMN email VARCHAR(100);",
        "ALTER TABLE users ALTER COLUMN name DROP NOT NULL;",
        "ALTER TABLE users ALTER COLUMN name TYPE VARCHAR(80) USING name::varchar;",
        "ALTER TABLE users ALTER COLUMN name SET DEFAULT 'x';",
        "ALTER TABLE users RENAME COLUMN name TO full_name;",
        "ALTER TABLE users DROP CONSTRAINT fk;",
        "DROP INDEX ix;",
        "INSERT INTO users (id, name) VALUES (1, 'it''s 100% a:b');",
        "UPDATE users SET name = 'a:b';",
        "COMMIT;",
        "CREATE INDEX CONCURRENTLY ix ON users (name);",
        "BEGIN;",
    ],
    "mariadb": [
        "ALTER TABLE users ADD COLUMN email VARCHAR(100);",
        "ALTER TABLE users MODIFY name VARCHAR(50);",
        "ALTER TABLE users CHANGE COLUMN name full_name VARCHAR(80) NOT NULL DEFAULT 'x';",
        "ALTER TABLE users ALTER COLUMN name SET DEFAULT 'x';",
        "ALTER TABLE users DROP FOREIGN KEY fk;",
        "ALTER TABLE users DROP CONSTRAINT ck;",
        "ALTER TABLE users DROP INDEX uq;",
        "ALTER TABLE users DROP PRIMARY KEY;",
        "DROP INDEX ix ON users;",
        "ALTER TABLE users RENAME TO people;",
        "INSERT INTO users (id, name) VALUES (1, 'it''s 100% a:b');",
        "UPDATE users SET name = 'a:b';",
    ],
}


@pytest.mark.parametrize("dialect", sorted(EXPECTED))
def test_offline_sql(dialect: str) -> None:
    ops, out = offline(dialect)
    _users(ops)
    start = len(out)
    ops.add_column("users", sa.Column("email", sa.String(100)))
    if dialect == "postgresql":
        ops.alter_column("users", "name", nullable=True)
        ops.alter_column(
            "users",
            "name",
            type_=sa.String(80),
            postgresql_using="name::varchar",
            server_default="x",
            new_column_name="full_name",
        )
        ops.drop_constraint("fk", "users")
        ops.drop_index("ix")
    if dialect == "mariadb":
        ops.alter_column(
            "users",
            "name",
            nullable=True,
            existing_type=sa.String(50),
            existing_server_default=None,
        )
        ops.alter_column(
            "users",
            "name",
            type_=sa.String(80),
            new_column_name="full_name",
            existing_nullable=False,
            existing_server_default="x",
        )
        ops.alter_column("users", "name", server_default="x")
        for name, kind in (
            ("fk", "foreignkey"),
            ("ck", "check"),
            ("uq", "unique"),
            ("pk", "primary"),
        ):
            ops.drop_constraint(name, "users", type_=kind)
        ops.drop_index("ix", "users")
        ops.rename_table("users", "people")
    ops.bulk_insert(
        sa.table("users", sa.column("id"), sa.column("name")), [{"id": 1, "name": "it's 100% a:b"}]
    )
    ops.execute("UPDATE users SET name = 'a:b'")
    if dialect == "postgresql":
        with ops.autocommit_block():
            ops.create_index("ix", "users", ["name"], postgresql_concurrently=True)
    assert out[start - 1 if dialect == "postgresql" else start :] == EXPECTED[dialect]
    assert out[0].startswith("CREATE TABLE users (")


def test_offline_sqlite_rebuild_needs_copy_from() -> None:
    ops, out = offline("sqlite")
    with pytest.raises(OperationError, match="copy_from"):
        ops.alter_column("users", "name", nullable=True)
    copy_from = sa.Table(
        "users",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50)),
        sa.Index("ix_n", "name"),
    )
    with ops.batch_alter_table("users", copy_from=copy_from) as batch_op:
        batch_op.alter_column("name", nullable=False)
    assert out[1:] == [
        "INSERT INTO _distill_tmp_users (id, name) SELECT id, name FROM users;",
        "DROP TABLE users;",
        "ALTER TABLE _distill_tmp_users RENAME TO users;",
        "CREATE INDEX ix_n ON users (name);",
    ]
    assert "name VARCHAR(50) NOT NULL" in out[0]


def test_offline_mysql_alter_names_missing_argument() -> None:
    ops, _ = offline("mariadb")
    with pytest.raises(
        OperationError, match="pass existing_type, existing_nullable, existing_server_default"
    ):
        ops.alter_column("users", "name", comment="x")
    with pytest.raises(OperationError, match="type_="):
        ops.drop_constraint("fk", "users")
    with pytest.raises(OperationError, match="table_name="):
        ops.drop_index("ix")


def test_offline_get_bind_is_an_error() -> None:
    ops, _ = offline("postgresql")
    with pytest.raises(OperationError, match="not available with --sql"):
        ops.get_bind()


def test_proxy_outside_a_migration() -> None:
    with pytest.raises(OperationError, match=r"op.add_column\(\) was called outside a migration"):
        op.add_column("users", sa.Column("x", sa.Integer()))


def test_proxy_forwards_and_resets() -> None:
    ops, out = offline("sqlite")
    with operations_in_effect(ops):
        op.execute("SELECT 1")
        assert isinstance(op.get_context(), OpContext)
        inner, inner_out = offline("postgresql")
        with operations_in_effect(inner):
            op.execute("SELECT 2")
        op.execute("SELECT 3")
    assert out == ["SELECT 1;", "SELECT 3;"] and inner_out == ["SELECT 2;"]
    with pytest.raises(OperationError):
        op.execute("SELECT 4")
