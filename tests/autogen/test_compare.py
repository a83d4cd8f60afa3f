"""Comparison of two schemas: the rules, on schemas built by hand.

The database-backed corpus (create_all, autogenerate, upgrade, reflect) lives
with autogenerate; here every rule is pinned down exactly.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from distill.autogen.compare import Options, compare
from distill.autogen.equivalence import normalize_default, types_equivalent
from distill.schema.model import (
    CheckConstraint,
    Column,
    ColumnType,
    EnumType,
    ForeignKey,
    Index,
    PrimaryKey,
    Schema,
    Table,
    UniqueConstraint,
)
from tests.projects import make_project

INT = ColumnType("integer", "INTEGER", "sa.Integer()")
VC20 = ColumnType("string", "VARCHAR(20)", "sa.String(length=20)", length=20)
VC40 = ColumnType("string", "VARCHAR(40)", "sa.String(length=40)", length=40)


def users(*extra: Column, **changes: object) -> Table:
    table = Table(
        "users",
        (Column("id", INT, nullable=False), Column("name", VC20), *extra),
        primary_key=PrimaryKey(("id",)),
    )
    return replace(table, **changes)  # type: ignore[arg-type]


def lines(now: Schema, wanted: Schema, **options: object) -> list[str]:
    return [c.describe() for c in compare(now, wanted, Options(**options))]  # type: ignore[arg-type]


def pg(*tables: Table, enums: tuple[EnumType, ...] = ()) -> Schema:
    return Schema("postgresql", tables, enums)


def test_identical_schemas_have_no_changes() -> None:
    assert compare(pg(users()), pg(users())) == []


def test_tables_and_columns_added_and_removed_read_as_sentences() -> None:
    orders = Table("orders", (Column("id", INT, nullable=False),))
    phone = Column("phone", VC20)
    assert lines(pg(users(), orders), pg(users(phone))) == [
        "orders: table in database, not in models",
        "users.phone: column in models, not in database",
    ]
    assert lines(pg(users(phone)), pg(users(), orders)) == [
        "orders: table in models, not in database",
        "users.phone: column in database, not in models",
    ]


def test_column_alterations() -> None:
    now = pg(users(Column("status", VC20, nullable=True, server_default="'new'", comment="a")))
    wanted = pg(users(Column("status", VC40, nullable=False, server_default="'old'", comment="b")))
    assert lines(now, wanted) == [
        "users.status: column type VARCHAR(20) -> VARCHAR(40)",
        "users.status: column nullable NULL -> NOT NULL",
        "users.status: column default 'new' -> 'old'",
        "users.status: column comment a -> b",
    ]
    assert lines(now, wanted, compare_type=False, compare_server_default=False) == [
        "users.status: column nullable NULL -> NOT NULL",
        "users.status: column comment a -> b",
    ]


def test_sqlite_has_no_comments_to_compare() -> None:
    now = Schema("sqlite", (users(comment="x"),))
    assert compare(now, Schema("sqlite", (users(comment="y"),))) == []


def test_indexes_uniques_foreign_keys_checks_primary_key() -> None:
    fk = ForeignKey(("name",), "names", ("value",), name="fk_1", ondelete="CASCADE")
    wanted = users(
        indexes=(Index("ix_users_name", ("name",)),),
        uniques=(UniqueConstraint(("name",), name="uq_name"),),
        foreign_keys=(fk,),
        checks=(CheckConstraint("length(name) > 1", name="ck_name"),),
        primary_key=PrimaryKey(("id", "name")),
    )
    assert lines(pg(users()), pg(wanted)) == [
        "users: primary key columns (id) -> (id, name)",
        "users: index ix_users_name in models, not in database",
        "users: unique constraint uq_name in models, not in database",
        "users: foreign key fk_1 in models, not in database",
        "users: check constraint ck_name in models, not in database",
    ]
    # A foreign key whose ondelete changed is a different key: drop + create.
    changed = replace(wanted, foreign_keys=(replace(fk, ondelete="SET NULL"),))
    assert lines(pg(wanted), pg(changed)) == [
        "users: foreign key fk_1 in models, not in database",
        "users: foreign key fk_1 in database, not in models",
    ]


def test_no_action_restrict_and_default_are_the_same_foreign_key() -> None:
    fk = ForeignKey(("name",), "names", ("value",), name="fk_1")
    no_action = replace(fk, ondelete="NO ACTION", onupdate="restrict", name=None)
    assert compare(pg(users(foreign_keys=(fk,))), pg(users(foreign_keys=(no_action,)))) == []


def test_mariadb_indexes_backing_constraints_are_not_differences() -> None:
    fk = ForeignKey(("name",), "names", ("value",), name="fk_1")
    reflected = users(
        foreign_keys=(fk,),
        uniques=(UniqueConstraint(("id", "name"), name="uq"),),
        indexes=(Index("fk_1", ("name",)), Index("uq", ("id", "name"), unique=True)),
    )
    declared = users(foreign_keys=(fk,), uniques=(UniqueConstraint(("id", "name")),))
    assert compare(Schema("mysql", (reflected,)), Schema("mysql", (declared,))) == []


def test_enums_added_removed_and_values_changed() -> None:
    mood = EnumType("mood", ("sad", "ok"))
    happy = EnumType("mood", ("sad", "ok", "happy"))
    size = EnumType("size", ("s", "m"))
    assert lines(pg(enums=(mood, size)), pg(enums=(happy,))) == [
        "size: enum in database, not in models",
        "mood: enum values (sad, ok) -> (sad, ok, happy)",
    ]
    assert lines(pg(enums=(mood,)), pg(enums=(mood, size))) == [
        "size: enum in models, not in database"
    ]


def test_include_hook_filters_tables_and_columns() -> None:
    orders = Table("orders", (Column("id", INT),))
    now, wanted = pg(users()), pg(users(Column("secret", VC20)), orders)

    def include(kind: str, name: str, table: str | None, reflected: bool, item: object) -> bool:
        return name != "orders" and not (kind == "column" and name == "secret")

    assert compare(now, wanted, Options(include=include)) == []


def test_include_hook_gets_none_for_an_unnamed_constraint() -> None:
    fk = ForeignKey(("id",), "accounts", ("id",))
    seen: list[tuple[str, str | None, bool]] = []

    def include(
        kind: str, name: str | None, table: str | None, reflected: bool, item: object
    ) -> bool:
        seen.append((kind, name, reflected))
        return True

    changes = compare(pg(users()), pg(users(foreign_keys=(fk,))), Options(include=include))
    assert [c.describe() for c in changes] == ["users: foreign key (id) in models, not in database"]
    assert ("fk", None, False) in seen  # from the wanted side (the models)
    assert ("table", "users", True) in seen and ("table", "users", False) in seen


@pytest.mark.parametrize(
    ("a", "b", "dialect", "same"),
    [
        (
            VC20,
            ColumnType("string", "VARCHAR(20)", "sa.VARCHAR(length=20)", length=20),
            "postgresql",
            True,
        ),
        (VC20, VC40, "postgresql", False),
        (
            ColumnType("boolean", "BOOL", "sa.Boolean()"),
            ColumnType("integer", "TINYINT(1)", "mysql.TINYINT(display_width=1)"),
            "mysql",
            True,
        ),
        (
            ColumnType("integer", "INTEGER", "sa.Integer()"),
            ColumnType("integer", "INTEGER(11)", "mysql.INTEGER(display_width=11)"),
            "mysql",
            True,
        ),
        (
            ColumnType("integer", "INTEGER", "sa.Integer()"),
            ColumnType("bigint", "BIGINT", "sa.BigInteger()"),
            "postgresql",
            False,
        ),
        (
            ColumnType("integer", "INTEGER", "sa.Integer()"),
            ColumnType("bigint", "BIGINT", "sa.BigInteger()"),
            "sqlite",
            True,
        ),
        (
            ColumnType("numeric", "NUMERIC(10, 2)", "sa.Numeric(10, 2)", precision=10, scale=2),
            ColumnType("numeric", "NUMERIC(12, 2)", "sa.Numeric(12, 2)", precision=12, scale=2),
            "postgresql",
            False,
        ),
        (
            ColumnType("datetime", "TIMESTAMP", "sa.DateTime()", timezone=False),
            ColumnType("datetime", "TIMESTAMP", "sa.DateTime()"),
            "postgresql",
            True,
        ),
        (
            ColumnType(
                "datetime", "TIMESTAMP WITH TIME ZONE", "sa.DateTime(timezone=True)", timezone=True
            ),
            ColumnType("datetime", "TIMESTAMP", "sa.DateTime()"),
            "postgresql",
            False,
        ),
        (  # the values belong to the named type, compared once as enum.values
            ColumnType("enum", "mood", "sa.Enum()", enum_name="mood", enum_values=("a", "b")),
            ColumnType("enum", "mood", "sa.Enum()", enum_name="mood", enum_values=("a",)),
            "postgresql",
            True,
        ),
        (
            ColumnType("enum", "mood", "sa.Enum()", enum_name="mood", enum_values=("a", "b")),
            ColumnType("enum", "size", "sa.Enum()", enum_name="size", enum_values=("a", "b")),
            "postgresql",
            False,
        ),
        (
            ColumnType("uuid", "CHAR(32)", "sa.Uuid()"),
            ColumnType("string", "CHAR(32)", "sa.CHAR(32)", length=32),
            "sqlite",
            True,
        ),
        (
            ColumnType("other", "tsvector", "postgresql.TSVECTOR()"),
            ColumnType("other", "TSVECTOR", "postgresql.TSVECTOR()"),
            "postgresql",
            True,
        ),
    ],
)
def test_type_equivalence(a: ColumnType, b: ColumnType, dialect: str, same: bool) -> None:
    assert types_equivalent(a, b, dialect) is same
    assert types_equivalent(b, a, dialect) is same


@pytest.mark.parametrize(
    ("a", "b", "family", "same"),
    [
        ("'new'", "'new'::character varying", "string", True),
        ("'new'", "new", "string", True),  # MariaDB reflects string defaults bare
        ("('new')", "'new'", "string", True),
        ("'new'", "'old'", "string", False),
        ("now()", "CURRENT_TIMESTAMP", "datetime", True),
        ("current_timestamp()", "(CURRENT_TIMESTAMP)", "datetime", True),
        ("true", "1", "boolean", True),
        ("'0'", "false", "boolean", True),
        ("true", "false", "boolean", False),
        ("5", "'5'", "integer", True),
        ("5", "'5'::integer", "integer", True),
        ("1.50", "1.5", "numeric", True),
        (None, "NULL", "string", True),
        (None, "'x'", "string", False),
        ("'it''s'", "'it''s'::text", "text", True),
    ],
)
def test_default_equivalence(a: str | None, b: str | None, family: str, same: bool) -> None:
    assert (normalize_default(a, family) == normalize_default(b, family)) is same


ENUM_MODELS = """
import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table(
    "trials", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("state", sa.Enum("running", "done", "failed", name="trialstate")),
)
"""


def test_check_reports_changed_enum_values_once_with_unequal_sides(
    db_url: str, tmp_path: Path
) -> None:
    """Issue 12 item 10: "trials.state: column type trialstate -> trialstate" beside
    the enum-values finding was noise; one finding per difference, sides unequal."""
    project = make_project(tmp_path, db_url, 'metadata = "enum_models:metadata"\n')
    (tmp_path / "enum_models.py").write_text(ENUM_MODELS)
    project.add("r1", None, """
        op.create_table("trials", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("state", sa.Enum("running", "done", name="trialstate")))
    """)  # fmt: skip
    assert project.cli("upgrade", "head").returncode == 0
    done = project.cli("check")
    assert done.returncode == 1, done.stdout + done.stderr
    about_state = [
        line for line in done.stdout.splitlines() if "trials.state" in line or "trialstate" in line
    ]
    assert len(about_state) == 1, done.stdout  # models vs migrations only: the database agrees
    (line,) = about_state
    old, _, new = line.rpartition(": ")[2].partition(" -> ")
    assert old != new, line
    assert "failed" in new and "failed" not in old, line
