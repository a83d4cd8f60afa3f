"""A wide model, created with create_all and reflected back, against schema_from_metadata.

Every field of both Schemas is compared.  What still differs is listed, per
dialect, in EXPECTED: those are exactly the differences the comparison
(autogen/compare) must normalise — a new difference fails here, so none can
appear unnoticed, and one that disappears fails too, so the list stays true.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from distill.sandbox.protocol import dump, restricted_loads
from distill.schema.from_metadata import schema_from_metadata
from distill.schema.model import Schema, Table
from distill.schema.reflect import reflect_schema

CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def wide_metadata(dialect_name: str) -> sa.MetaData:
    """Every common type, default and constraint; each dialect's extras where it has them."""
    pg, maria, lite = (dialect_name == n for n in ("postgresql", "mariadb", "sqlite"))
    m = sa.MetaData(naming_convention=CONVENTION)
    sa.Table(
        "parent",
        m,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(20), nullable=False, unique=True),
        comment="parents of children",
    )
    sa.Table(
        "child",
        m,
        sa.Column("a", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("b", sa.String(10), primary_key=True),
        sa.Column(
            "parent_id",
            sa.Integer,
            sa.ForeignKey("parent.id", ondelete="CASCADE", onupdate="CASCADE"),
            nullable=False,
        ),
        sa.Column("parent_code", sa.String(20)),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["parent.code"], name="fk_child_code", ondelete="SET NULL"
        ),
        sa.UniqueConstraint("parent_id", "b"),
        sa.UniqueConstraint("b", "a", name="uq_child_named"),
        sa.Index("ix_child_multi", "parent_code", "b"),
    )
    mood = sa.Enum("happy", "sad", "it's", name="mood", create_constraint=lite)
    # MariaDB takes no CONSTRAINT name on a column-level CHECK: there it is table-level.
    qty_check = sa.CheckConstraint("qty >= 0", name="ck_qty_positive")
    items: list[Any] = [
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("small", sa.SmallInteger, server_default=sa.text("0"), nullable=False),
        sa.Column("flag", sa.Boolean, server_default=sa.true(), nullable=False),
        sa.Column("name", sa.String(50), server_default="it's", comment="the name"),
        sa.Column("uname", sa.Unicode(30)),
        sa.Column("code", sa.CHAR(3)),
        sa.Column("body", sa.Text),
        sa.Column("price", sa.Numeric(10, 2), server_default="1.50"),
        sa.Column("ratio", sa.Float),
        sa.Column("day", sa.Date),
        sa.Column("created", sa.DateTime, server_default=sa.func.now(), nullable=False),
        sa.Column("created_tz", sa.DateTime(timezone=True)),
        sa.Column("at", sa.Time),
        sa.Column("span", sa.Interval),
        sa.Column("blob", sa.LargeBinary),
        sa.Column("doc", sa.JSON),
        sa.Column("uid", sa.Uuid),
        sa.Column("mood", mood, server_default="happy"),
        sa.Column("qty", sa.Integer, *([] if maria else [qty_check])),
        *([qty_check] if maria else []),
        sa.Column("total", sa.Integer, sa.Computed("qty * 2", persisted=True)),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id"), index=True),
        # No index of its own: MariaDB adds one, which reflection must not report.
        sa.Column(
            "other_parent_id",
            sa.Integer,
            sa.ForeignKey("parent.id", name="fk_wide_other", ondelete="RESTRICT"),
        ),
        sa.CheckConstraint("ratio < 100"),
        sa.CheckConstraint("length(name) > 0", name="ck_wide_name"),
        sa.Index("ix_wide_unique_pair", "small", "name", unique=True),
    ]
    if pg:
        items += [
            sa.Column("tags", postgresql.ARRAY(sa.String(20))),
            sa.Column("data", postgresql.JSONB),
            sa.Column("seq", sa.Integer, sa.Identity(start=10, increment=5)),
            sa.Index("ix_wide_partial", "name", postgresql_where=sa.text("flag")),
            sa.Index("ix_wide_gin", "data", postgresql_using="gin"),
        ]
    if pg or lite:  # MariaDB has no expression indexes
        items.append(sa.Index("ix_wide_lower", sa.func.lower(sa.column("name"))))
    if lite:
        items.append(sa.Index("ix_wide_where", "qty", sqlite_where=sa.text("qty > 5")))
    if maria:
        items.append(sa.Index("ix_wide_prefix", "body", mysql_length=10))
    sa.Table("wide", m, *items, comment="every type")
    return m


# -- field-by-field difference ----------------------------------------------------------

# The Python of a reflected type names the class the catalog reports
# (mysql.INTEGER(display_width=11) for sa.Integer()); it is never rendered into a
# revision, so it is checked separately (test_python_of_every_type_compiles_to_its_sql).
_NOT_COMPARED = {"python", "imports"}


def differences(models: Schema, database: Schema) -> list[str]:
    out = []
    if models.enums != database.enums:
        out.append(f"enums: {models.enums!r} | {database.enums!r}")
    names = {t.key for t in models.tables} | {t.key for t in database.tables}
    for key in sorted(names, key=lambda k: (k[0] or "", k[1])):
        a, b = models.table(key[1], key[0]), database.table(key[1], key[0])
        if a is None or b is None:
            out.append(f"{key[1]}: only in {'database' if a is None else 'models'}")
        else:
            out.extend(_table_differences(a, b))
    return out


def _table_differences(a: Table, b: Table) -> list[str]:
    out: list[str] = []
    if [c.name for c in a.columns] != [c.name for c in b.columns]:
        out.append(
            f"{a.name}: column order {[c.name for c in a.columns]} | {[c.name for c in b.columns]}"
        )
    for column in a.columns:
        other = b.column(column.name)
        if other is not None:
            out.extend(_fields(f"{a.name}.{column.name}", column, other))
    out.extend(
        _fields(f"{a.name}", a, b, skip={"columns", "foreign_keys", "indexes", "uniques", "checks"})
    )
    for kind in ("foreign_keys", "indexes", "uniques", "checks"):
        out.extend(_named(f"{a.name}.{kind}", getattr(a, kind), getattr(b, kind)))
    return out


def _named(path: str, a: tuple[Any, ...], b: tuple[Any, ...]) -> list[str]:
    """Items paired by name; unnamed or unpaired ones are reported whole."""
    out = []
    by_name = {x.name: x for x in b if x.name is not None}
    paired = set()
    for item in a:
        other = by_name.get(item.name) if item.name is not None else None
        if other is None:  # unnamed: the same constraint, field for field
            other = next((x for x in b if x == item and id(x) not in paired), None)
        if other is None:
            out.append(f"{path}: only in models: {item!r}")
        else:
            paired.add(id(other))
            out.extend(_fields(f"{path}[{item.name}]", item, other))
    out.extend(f"{path}: only in database: {x!r}" for x in b if id(x) not in paired)
    return out


def _fields(path: str, a: Any, b: Any, skip: frozenset[str] | set[str] = frozenset()) -> list[str]:
    out = []
    for field in dataclasses.fields(a):
        if field.name in skip or field.name in _NOT_COMPARED or not field.init:
            continue
        x, y = getattr(a, field.name), getattr(b, field.name)
        if dataclasses.is_dataclass(x) and dataclasses.is_dataclass(y):
            out.extend(_fields(f"{path}.{field.name}", x, y))
        elif x != y:
            out.append(f"{path}.{field.name}: {x!r} | {y!r}")
    return out


# -- the tests --------------------------------------------------------------------------

EXPECTED: dict[str, list[str]] = {
    # Emulated types: the model's type is kept; the database has its stand-in,
    # with the same SQL (DATETIME, CHAR(32), VARCHAR(5)).
    "sqlite": [
        "wide.created_tz.type.timezone: True | False",
        "wide.span.type.family: 'interval' | 'datetime'",
        "wide.span.type.timezone: None | False",
        "wide.uid.type.family: 'uuid' | 'string'",
        "wide.uid.type.length: None | 32",
        "wide.mood.type.family: 'enum' | 'string'",
        "wide.mood.type.enum_values: ('happy', 'sad', \"it's\") | ()",
    ],
    "postgresql": [
        "wide.name.server_default: \"'it''s'\" | \"'it''s'::character varying\"",
        "wide.price.server_default: \"'1.50'\" | '1.50'",
        "wide.ratio.type.sql: 'FLOAT' | 'DOUBLE PRECISION'",
        "wide.ratio.type.precision: None | 53",
        "wide.mood.server_default: \"'happy'\" | \"'happy'::mood\"",
        "wide.total.computed.sqltext: 'qty * 2' | '(qty * 2)'",
        "wide.indexes[ix_wide_lower].columns: ('lower(name)',) | ('lower(name::text)',)",
        "wide.checks: only in models: CheckConstraint(sqltext='ratio < 100', name=None)",
        "wide.checks[ck_wide_name].sqltext: 'length(name) > 0' | 'length(name::text) > 0'",
        "wide.checks: only in database: "
        "CheckConstraint(sqltext='ratio < 100::double precision', name='wide_ratio_check')",
    ],
    "mariadb": [
        "child.a.type.sql: 'INTEGER' | 'INTEGER(11)'",
        "child.parent_id.type.sql: 'INTEGER' | 'INTEGER(11)'",
        "parent.id.type.sql: 'INTEGER' | 'INTEGER(11)'",
        "wide.id.type.sql: 'BIGINT' | 'BIGINT(20)'",
        "wide.small.type.sql: 'SMALLINT' | 'SMALLINT(6)'",
        "wide.flag.type.family: 'boolean' | 'integer'",
        "wide.flag.type.sql: 'BOOL' | 'TINYINT(1)'",
        "wide.flag.server_default: 'true' | '1'",
        "wide.price.type.sql: 'NUMERIC(10, 2)' | 'DECIMAL(10, 2)'",
        "wide.price.server_default: \"'1.50'\" | '1.50'",
        "wide.created.server_default: 'now()' | 'current_timestamp()'",
        "wide.created_tz.type.timezone: True | False",
        "wide.span.type.family: 'interval' | 'datetime'",
        "wide.span.type.timezone: None | False",
        "wide.qty.type.sql: 'INTEGER' | 'INTEGER(11)'",
        "wide.total.type.sql: 'INTEGER' | 'INTEGER(11)'",
        "wide.total.computed.sqltext: 'qty * 2' | '`qty` * 2'",
        "wide.parent_id.type.sql: 'INTEGER' | 'INTEGER(11)'",
        "wide.other_parent_id.type.sql: 'INTEGER' | 'INTEGER(11)'",
        # information_schema says RESTRICT for "no rule" too: the two are one on MariaDB.
        "wide.foreign_keys[fk_wide_other].ondelete: 'RESTRICT' | None",
        # A unique index and a UNIQUE constraint are the same object on MariaDB.
        "wide.indexes: only in models: Index(name='ix_wide_unique_pair', columns=('small', "
        "'name'), expressions=(False, False), unique=True, dialect_options=())",
        "wide.uniques: only in database: "
        "UniqueConstraint(columns=('small', 'name'), name='ix_wide_unique_pair')",
        "wide.checks: only in models: CheckConstraint(sqltext='ratio < 100', name=None)",
        "wide.checks[ck_qty_positive].sqltext: 'qty >= 0' | '`qty` >= 0'",
        "wide.checks[ck_wide_name].sqltext: 'length(name) > 0' | 'octet_length(`name`) > 0'",
        "wide.checks: only in database: "
        "CheckConstraint(sqltext='`ratio` < 100', name='CONSTRAINT_1')",
    ],
}


def _both(engine: sa.Engine, dialect_name: str) -> tuple[Schema, Schema]:
    metadata = wide_metadata(dialect_name)
    metadata.create_all(engine)
    with engine.connect() as conn:
        database = reflect_schema(conn)
    # The engine's dialect has met the server now (MariaDB's version decides UUID).
    return schema_from_metadata(metadata, engine.dialect), database


def test_reflected_equals_models_but_for_known_differences(
    engine: sa.Engine, dialect_name: str
) -> None:
    models, database = _both(engine, dialect_name)
    found = differences(models, database)
    print(f"\n[{dialect_name}] {len(found)} differences:\n" + "\n".join(found))
    assert found == EXPECTED[dialect_name]


def test_both_schemas_survive_the_sandbox_wire(engine: sa.Engine, dialect_name: str) -> None:
    """What a sandbox child sends is what arrives: pickled, read by the allow-list."""
    models, database = _both(engine, dialect_name)
    for schema in (models, database):
        arrived = restricted_loads(dump(schema))
        assert arrived == schema
        assert restricted_loads(dump(arrived)) == schema  # and again, as the host resends


_NAMESPACE = {"sa": sa, "postgresql": postgresql, "mysql": mysql, "sqlite": sqlite}


def test_python_of_every_type_compiles_to_its_sql(engine: sa.Engine, dialect_name: str) -> None:
    models, database = _both(engine, dialect_name)
    for schema in (models, database):
        for table in schema.tables:
            for column in table.columns:
                rebuilt = eval(column.type.python, dict(_NAMESPACE))
                assert rebuilt.compile(dialect=engine.dialect) == column.type.sql, column
