"""schema_from_metadata against the database create_all builds, feature by feature.

Each test builds a small model on SQLite, PostgreSQL and MariaDB and checks a
fact on both sides: what schema_from_metadata predicts, and what reflect_schema
reads back from the database create_all made.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from distill.schema.from_metadata import schema_from_metadata, schema_table
from distill.schema.model import CheckConstraint, EnumType, ForeignKey, Schema
from distill.schema.reflect import reflect_schema


def _both(
    engine: sa.Engine, metadata: sa.MetaData, schemas: tuple[str | None, ...] = (None,)
) -> tuple[Schema, Schema]:
    metadata.create_all(engine)
    with engine.connect() as conn:
        database = reflect_schema(conn, schemas=schemas)
    return schema_from_metadata(metadata, engine.dialect, schemas=schemas), database


def test_names_follow_the_naming_convention_and_are_truncated_as_the_ddl_does(
    engine: sa.Engine,
) -> None:
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    long = "a_rather_long_column_name_that_goes_on"
    sa.Table("p", metadata, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "t",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(f"{long}_1", sa.Integer, sa.ForeignKey("p.id")),
        sa.Column(f"{long}_2", sa.Integer),
        sa.Column("n", sa.Integer, index=True),
        sa.UniqueConstraint(f"{long}_1", f"{long}_2"),
        sa.CheckConstraint("n > 0", name="positive"),
    )
    models, database = _both(engine, metadata)
    model_t, db_t = models.table("t"), database.table("t")
    assert model_t is not None and db_t is not None
    # Over 63 characters: PostgreSQL and MariaDB get SQLAlchemy's truncated name.
    assert [u.name for u in model_t.uniques] == [u.name for u in db_t.uniques]
    assert [f.name for f in model_t.foreign_keys] == [f.name for f in db_t.foreign_keys]
    assert [i.name for i in model_t.indexes] == [i.name for i in db_t.indexes] == ["ix_t_n"]
    assert [c.name for c in model_t.checks] == [c.name for c in db_t.checks] == ["ck_t_positive"]
    assert model_t.primary_key == db_t.primary_key


def test_enums_per_dialect(engine: sa.Engine, dialect_name: str) -> None:
    metadata = sa.MetaData()
    sa.Table(
        "t",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("mood", sa.Enum("happy", "sad", name="mood")),
        sa.Column("shape", sa.Enum("round", "flat", name="shape", create_constraint=True)),
        sa.Column("mood_again", sa.Enum("happy", "sad", name="mood")),
    )
    models, database = _both(engine, metadata)
    model_t, db_t = models.table("t"), database.table("t")
    assert model_t is not None and db_t is not None
    types = {c.name: c.type for c in model_t.columns}
    if dialect_name == "postgresql":
        assert (
            models.enums
            == database.enums
            == (
                EnumType("mood", ("happy", "sad")),
                EnumType("shape", ("round", "flat")),
            )
        )
        assert (types["mood"].sql, types["mood"].enum_name) == ("mood", "mood")
        assert model_t.checks == db_t.checks == ()
    elif dialect_name == "mariadb":
        assert models.enums == database.enums == ()
        assert types["mood"].sql == "ENUM('happy','sad')"
        assert {c.name: c.type.sql for c in db_t.columns}["mood"] == "ENUM('happy','sad')"
        assert model_t.checks == db_t.checks == ()
    else:
        assert models.enums == database.enums == ()
        assert types["mood"].sql == "VARCHAR(5)"
        # A CHECK only for the enum that asked for one, named after the type.
        assert (
            model_t.checks
            == db_t.checks
            == (CheckConstraint("shape IN ('round', 'flat')", "shape"),)
        )
    for name in ("mood", "shape", "mood_again"):
        assert types[name].family == "enum"


def test_boolean_check_exists_only_where_the_dialect_creates_it(
    engine: sa.Engine, dialect_name: str
) -> None:
    metadata = sa.MetaData()
    sa.Table(
        "t",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ok", sa.Boolean(create_constraint=True, name="ck_ok")),
    )
    models, database = _both(engine, metadata)
    model_t, db_t = models.table("t"), database.table("t")
    assert model_t is not None and db_t is not None
    assert [c.name for c in model_t.checks] == [c.name for c in db_t.checks]
    assert bool(model_t.checks) == (dialect_name != "postgresql")


def test_foreign_key_options(engine: sa.Engine, dialect_name: str) -> None:
    metadata = sa.MetaData()
    sa.Table("p", metadata, sa.Column("a", sa.Integer), sa.Column("b", sa.Integer),
             sa.PrimaryKeyConstraint("a", "b"))  # fmt: skip
    deferrable = {"deferrable": True, "initially": "DEFERRED"} if dialect_name != "mariadb" else {}
    sa.Table(
        "c",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pa", sa.Integer),
        sa.Column("pb", sa.Integer),
        sa.ForeignKeyConstraint(
            ["pa", "pb"],
            ["p.a", "p.b"],
            name="fk_c_p",
            ondelete="SET NULL",
            onupdate="CASCADE",
            **deferrable,  # type: ignore[arg-type]
        ),
    )
    models, database = _both(engine, metadata)
    model_c, db_c = models.table("c"), database.table("c")
    assert model_c is not None and db_c is not None
    expected = ForeignKey(
        columns=("pa", "pb"),
        ref_table="p",
        ref_columns=("a", "b"),
        name="fk_c_p",
        ondelete="SET NULL",
        onupdate="CASCADE",
        deferrable=True if deferrable else None,
        initially="DEFERRED" if deferrable else None,
    )
    assert model_c.foreign_keys == db_c.foreign_keys == (expected,)


def test_nullable_comments_autoincrement_and_column_order(
    engine: sa.Engine, dialect_name: str
) -> None:
    metadata = sa.MetaData()
    sa.Table(
        "t",
        metadata,
        sa.Column("z", sa.Integer, primary_key=True),
        sa.Column("y", sa.String(10), nullable=False, comment="why"),
        sa.Column("x", sa.Integer, nullable=True),
        comment="a table",
    )
    models, database = _both(engine, metadata)
    model_t, db_t = models.table("t"), database.table("t")
    assert model_t is not None and db_t is not None
    shape = [(c.name, c.nullable, c.comment, c.autoincrement) for c in model_t.columns]
    assert shape == [(c.name, c.nullable, c.comment, c.autoincrement) for c in db_t.columns]
    assert shape[0][3] is True
    has_comments = dialect_name != "sqlite"
    assert model_t.comment == db_t.comment == ("a table" if has_comments else None)
    assert shape[1][2] == ("why" if has_comments else None)


@contextmanager
def _other_schema(engine: sa.Engine, dialect_name: str) -> Iterator[str]:
    """A second schema to put tables in: a PG schema, a MariaDB database, an attached file."""
    name = f"other_{uuid.uuid4().hex[:8]}"
    if dialect_name == "sqlite":
        path = str(engine.url.database) + ".other"

        @sa.event.listens_for(engine, "connect")
        def attach(dbapi_conn: object, record: object) -> None:
            dbapi_conn.execute(f"ATTACH DATABASE '{path}' AS {name}")  # type: ignore[attr-defined]

        engine.dispose()  # connections made from now on have it attached
        yield name
        return
    statement = "SCHEMA" if dialect_name == "postgresql" else "DATABASE"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE {statement} {name}")
    try:
        yield name
    finally:
        engine.dispose()
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP {statement} {name} CASCADE" if dialect_name == "postgresql"
                                 else f"DROP DATABASE {name}")  # fmt: skip


def test_only_the_given_schemas(engine: sa.Engine, dialect_name: str) -> None:
    with _other_schema(engine, dialect_name) as other:
        metadata = sa.MetaData()
        sa.Table("here", metadata, sa.Column("id", sa.Integer, primary_key=True))
        # A key across schemas: SQLite cannot hold one (create_all leaves it out);
        # MariaDB resolves an unqualified REFERENCES in the table's own database.
        fk = sa.ForeignKey("here.id", name="fk_there_here")
        sa.Table(
            "there",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("here_id", sa.Integer, *([fk] if dialect_name == "postgresql" else [])),
            sa.Column("kind", sa.Enum("a", "b", name="kind", schema=other)),
            schema=other,
        )
        models, database = _both(engine, metadata, schemas=(other,))
        assert [t.key for t in models.tables] == [t.key for t in database.tables]
        assert [t.key for t in models.tables] == [(other, "there")]
        there_model, there_db = models.tables[0], database.tables[0]
        assert there_model.foreign_keys == there_db.foreign_keys
        if dialect_name == "postgresql":
            assert there_model.foreign_keys[0].ref_schema is None  # the default schema
        assert models.enums == database.enums
        if dialect_name == "postgresql":
            assert models.enums == (EnumType("kind", ("a", "b"), schema=other),)
        models, database = _both(engine, metadata, schemas=(None, other))
        assert [t.key for t in models.tables] == [t.key for t in database.tables]
        assert [t.key for t in models.tables] == [(None, "here"), (other, "there")]


def test_exclude_leaves_tables_out(engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    for name in ("keep_me", "distill_version", "also_kept"):
        sa.Table(name, metadata, sa.Column("id", sa.Integer, primary_key=True))
    metadata.create_all(engine)
    with engine.connect() as conn:
        schema = reflect_schema(conn, exclude=lambda name: name.startswith("distill_"))
    assert [t.name for t in schema.tables] == ["also_kept", "keep_me"]


def test_schema_table_of_a_table_alone() -> None:
    table = sa.Table(
        "solo",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ref", sa.Integer, sa.ForeignKey("elsewhere.other.id", ondelete="cascade")),
    )
    result = schema_table(table, sa.create_engine("sqlite://").dialect)
    # The referred table is not in the MetaData: its spec still names it.
    assert result.foreign_keys == (
        ForeignKey(("ref",), "other", ("id",), ref_schema="elsewhere", ondelete="CASCADE"),
    )


@pytest.mark.parametrize("persisted", [True, None])
def test_computed_columns(engine: sa.Engine, dialect_name: str, persisted: bool | None) -> None:
    if dialect_name == "postgresql" and persisted is None:
        pytest.skip("PostgreSQL 15 has only STORED generated columns")
    metadata = sa.MetaData()
    sa.Table(
        "t",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("a", sa.Integer),
        sa.Column("b", sa.Integer, sa.Computed("a + 1", persisted=persisted)),
    )
    models, database = _both(engine, metadata)
    model_b = models.tables[0].column("b")
    db_b = database.tables[0].column("b")
    assert model_b is not None and db_b is not None
    assert model_b.computed is not None and db_b.computed is not None
    assert model_b.computed.persisted == persisted
    # Stored is stored everywhere; "not said" is VIRTUAL where the dialect has it.
    assert db_b.computed.persisted is (persisted is True)
    assert db_b.server_default is None
