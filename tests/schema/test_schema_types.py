"""column_type: family, dialect SQL and the Python a revision writes, for every common type.

Pure conversions of SQLAlchemy type objects for a dialect: no database is
involved (the round trip through real databases is test_schema_roundtrip).
"""

from __future__ import annotations

import enum
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from distill.schema.model import FAMILIES
from distill.schema.types import column_type

PG = postgresql.dialect()
MARIADB = mysql.dialect(is_mariadb=True)
LITE = sqlite.dialect()


class Money(sa.types.TypeDecorator[Any]):
    impl = sa.Numeric
    cache_ok = True


class Stamp(sa.types.TypeDecorator[Any]):
    """Stored differently per dialect, as load_dialect_impl says."""

    impl = sa.String
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        return dialect.type_descriptor(sa.String(32))


class Mood(enum.Enum):
    happy = 1
    sad = 2


FAMILY_CASES: list[tuple[Any, str]] = [
    (sa.Integer(), "integer"),
    (sa.SmallInteger(), "smallint"),
    (sa.BigInteger(), "bigint"),
    (mysql.TINYINT(1), "integer"),
    (mysql.MEDIUMINT(), "integer"),
    (sa.Boolean(), "boolean"),
    (sa.String(10), "string"),
    (sa.Unicode(10), "string"),
    (sa.VARCHAR(10), "string"),
    (sa.CHAR(2), "string"),
    (sa.Text(), "text"),
    (sa.CLOB(), "text"),
    (mysql.LONGTEXT(), "text"),
    (mysql.MEDIUMTEXT(), "text"),
    (mysql.TINYTEXT(), "text"),
    (sa.Numeric(10, 2), "numeric"),
    (sa.DECIMAL(10, 2), "numeric"),
    (sa.Float(), "float"),
    (sa.REAL(), "float"),
    (sa.Double(), "float"),
    (postgresql.DOUBLE_PRECISION(), "float"),
    (sa.Date(), "date"),
    (sa.DateTime(), "datetime"),
    (sa.TIMESTAMP(), "datetime"),
    (sa.Time(), "time"),
    (sa.Interval(), "interval"),
    (postgresql.INTERVAL(), "interval"),
    (sa.LargeBinary(), "binary"),
    (sa.BLOB(), "binary"),
    (sa.VARBINARY(16), "binary"),
    (mysql.LONGBLOB(), "binary"),
    (postgresql.BYTEA(), "binary"),
    (sa.JSON(), "json"),
    (postgresql.JSONB(), "json"),
    (sa.Uuid(), "uuid"),
    (sa.UUID(), "uuid"),
    (sa.Enum("a", "b", name="ab"), "enum"),
    (sa.Enum(Mood), "enum"),
    (mysql.ENUM("a", "b"), "enum"),
    (sa.ARRAY(sa.Integer()), "array"),
    (Money(), "numeric"),
    (postgresql.INET(), "other"),
    (mysql.SET("a", "b"), "other"),
    (sa.types.NullType(), "other"),
]


@pytest.mark.parametrize(("type_", "family"), FAMILY_CASES, ids=lambda v: repr(v)[:40])
def test_family(type_: Any, family: str) -> None:
    assert family in FAMILIES
    assert column_type(type_, PG).family == family


@pytest.mark.parametrize(
    ("type_", "python", "imports"),
    [
        (sa.String(255), "sa.String(length=255)", ()),
        (sa.String(), "sa.String()", ()),
        (sa.Numeric(10, 2), "sa.Numeric(precision=10, scale=2)", ()),
        (sa.DateTime(timezone=True), "sa.DateTime(timezone=True)", ()),
        (sa.Enum("a", "b", name="mood"), 'sa.Enum("a", "b", name="mood")', ()),
        (sa.Enum(Mood), 'sa.Enum("happy", "sad", name="mood")', ()),
        (
            sa.Enum("a", "b", name="ab", native_enum=False, create_constraint=True, length=20),
            'sa.Enum("a", "b", name="ab", native_enum=False, create_constraint=True, length=20)',
            (),
        ),
        (
            postgresql.JSONB(),
            "postgresql.JSONB()",
            ("from sqlalchemy.dialects import postgresql",),
        ),
        (
            mysql.TINYINT(display_width=1),
            "mysql.TINYINT(display_width=1)",
            ("from sqlalchemy.dialects import mysql",),
        ),
        (
            mysql.INTEGER(unsigned=True),
            "mysql.INTEGER(unsigned=True)",
            ("from sqlalchemy.dialects import mysql",),
        ),
        (sa.ARRAY(sa.String(3)), "sa.ARRAY(sa.String(length=3))", ()),
        (sa.Text(), "sa.Text()", ()),
        (sa.String(10, collation="C"), 'sa.String(length=10, collation="C")', ()),
        (sa.Interval(), "sa.Interval()", ()),
        (
            sa.Integer().with_variant(mysql.INTEGER(unsigned=True), "mysql"),
            'sa.Integer().with_variant(mysql.INTEGER(unsigned=True), "mysql")',
            ("from sqlalchemy.dialects import mysql",),
        ),
    ],
)
def test_python_is_what_a_careful_person_writes(
    type_: Any, python: str, imports: tuple[str, ...]
) -> None:
    result = column_type(type_, PG)
    assert (result.python, result.imports) == (python, imports)


def test_a_users_type_imports_its_own_module() -> None:
    result = column_type(Money(12, 4), PG)
    assert result.python == "Money(precision=12, scale=4)"
    assert result.imports == (f"from {Money.__module__} import Money",)
    assert (result.family, result.sql, result.precision, result.scale) == (
        "numeric",
        "NUMERIC(12, 4)",
        12,
        4,
    )


def test_a_decorator_takes_the_family_of_what_it_stores_on_each_dialect() -> None:
    on_pg = column_type(Stamp(), PG)
    on_lite = column_type(Stamp(), LITE)
    assert (on_pg.family, on_pg.sql, on_pg.timezone) == (
        "datetime",
        "TIMESTAMP WITH TIME ZONE",
        True,
    )
    assert (on_lite.family, on_lite.sql, on_lite.length) == ("string", "VARCHAR(32)", 32)
    assert on_pg.python == on_lite.python == "Stamp()"


def test_a_variant_is_chosen_per_dialect() -> None:
    type_ = sa.String(20).with_variant(mysql.VARCHAR(20, charset="utf8mb4"), "mysql")
    assert column_type(type_, PG).sql == "VARCHAR(20)"
    assert column_type(type_, MARIADB).sql == "VARCHAR(20) CHARACTER SET utf8mb4"


@pytest.mark.parametrize(
    ("dialect", "sql", "enum_name", "length"),
    [
        (PG, "mood", "mood", None),
        (MARIADB, "ENUM('a','bb')", None, None),
        (LITE, "VARCHAR(2)", None, 2),
    ],
)
def test_an_enum_per_dialect(
    dialect: sa.Dialect, sql: str, enum_name: str | None, length: int | None
) -> None:
    result = column_type(sa.Enum("a", "bb", name="mood"), dialect)
    assert (result.family, result.sql, result.enum_name, result.length) == (
        "enum",
        sql,
        enum_name,
        length,
    )
    assert result.enum_values == ("a", "bb")


def test_a_non_native_enum_has_no_type_name_even_on_postgresql() -> None:
    result = column_type(sa.Enum("a", "bb", name="mood", native_enum=False), PG)
    assert (result.sql, result.enum_name, result.length) == ("VARCHAR(2)", None, 2)


def test_length_precision_scale_timezone_and_item() -> None:
    assert column_type(sa.String(40), PG).length == 40
    numeric = column_type(sa.Numeric(8, 3), PG)
    assert (numeric.precision, numeric.scale) == (8, 3)
    assert column_type(sa.DateTime(), PG).timezone is False
    assert column_type(sa.Time(timezone=True), PG).timezone is True
    array = column_type(postgresql.ARRAY(sa.String(5)), PG)
    assert (array.sql, array.item and array.item.family, array.item and array.item.length) == (
        "VARCHAR(5)[]",
        "string",
        5,
    )


def test_a_type_the_dialect_cannot_create_still_converts() -> None:
    result = column_type(sa.ARRAY(sa.Integer()), LITE)
    assert (result.family, result.sql) == ("array", "ARRAY")


@pytest.mark.parametrize("type_", [t for t, _ in FAMILY_CASES], ids=lambda v: repr(v)[:40])
def test_python_rebuilds_an_equal_type(type_: Any) -> None:
    result = column_type(type_, PG)
    namespace: dict[str, Any] = {"sa": sa, "postgresql": postgresql, "mysql": mysql}
    namespace.update(Money=Money)
    rebuilt = eval(result.python, namespace)
    assert column_type(rebuilt, PG) == result
