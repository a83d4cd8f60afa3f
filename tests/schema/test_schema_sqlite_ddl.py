"""The CREATE TABLE / CREATE INDEX reader behind SQLite reflection.

Unit tests of the parser on hand-written DDL (SQLite keeps DDL exactly as
written, so it must cope with any spelling a person or tool used), then the
same facts read back from real SQLite databases through reflect_schema.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from distill.schema.model import CheckConstraint, ForeignKey, Index, UniqueConstraint
from distill.schema.reflect import reflect_schema
from distill.schema.reflect_sqlite import sqlite_type
from distill.schema.sqlite_ddl import (
    ParsedForeignKey,
    parse_create_index,
    parse_create_table,
    tokenize,
)


def test_table_and_column_constraints_with_and_without_names() -> None:
    parsed = parse_create_table(
        """CREATE TABLE "order items" (
            id INTEGER NOT NULL CONSTRAINT pk_items PRIMARY KEY,
            qty INTEGER CONSTRAINT ck_qty CHECK (qty >= 0) DEFAULT (1),
            code VARCHAR(10) UNIQUE CHECK (length(code) > 2),
            parent INTEGER REFERENCES parent (id) ON DELETE CASCADE,
            total INTEGER GENERATED ALWAYS AS (qty * (2 + 1)) STORED,
            CONSTRAINT uq_pair UNIQUE (qty, "code"),
            UNIQUE (parent),
            CONSTRAINT "fk two" FOREIGN KEY (qty, code) REFERENCES other ("a", b)
                DEFERRABLE INITIALLY DEFERRED,
            CHECK (qty < 100 OR code = 'x,)')
        )"""
    )
    assert parsed.pk_name == "pk_items"
    assert parsed.checks == [
        ("ck_qty", "qty >= 0"),
        (None, "length(code) > 2"),
        (None, "qty < 100 OR code = 'x,)'"),
    ]
    assert parsed.uniques == [(None, ("code",)), ("uq_pair", ("qty", "code")), (None, ("parent",))]
    assert parsed.foreign_keys == [
        ParsedForeignKey(None, ("parent",), "parent", ("id",)),
        ParsedForeignKey("fk two", ("qty", "code"), "other", ("a", "b"), True, "DEFERRED"),
    ]
    assert parsed.computed == {"total": "qty * (2 + 1)"}


def test_quoting_styles_comments_and_keywords_inside_strings() -> None:
    parsed = parse_create_table(
        "CREATE TABLE [t] ( -- a comment with CHECK (no)\n"
        "  `a b` TEXT DEFAULT 'CONSTRAINT x CHECK (1)', /* CHECK (nope) */\n"
        '  "c""d" INT CONSTRAINT [my check] CHECK ("c""d" <> \'it\'\'s\'),\n'
        "  CONSTRAINT pk PRIMARY KEY (`a b`)\n"
        ") WITHOUT ROWID"
    )
    assert parsed.checks == [("my check", "\"c\"\"d\" <> 'it''s'")]
    assert parsed.pk_name == "pk"
    assert parsed.foreign_keys == []


def test_references_without_columns_and_not_deferrable() -> None:
    parsed = parse_create_table(
        "CREATE TABLE c (p INTEGER CONSTRAINT fk_p REFERENCES parent NOT DEFERRABLE, q INT)"
    )
    assert parsed.foreign_keys == [ParsedForeignKey("fk_p", ("p",), "parent", (), False, None)]


def test_create_index_elements_and_where() -> None:
    parsed = parse_create_index(
        'CREATE UNIQUE INDEX IF NOT EXISTS "ix" ON t (lower(name), "b" DESC, c COLLATE NOCASE) '
        "WHERE deleted_at IS NULL AND name <> ','"
    )
    assert parsed.elements == ("lower(name)", '"b" DESC', "c COLLATE NOCASE")
    assert parsed.where == "deleted_at IS NULL AND name <> ','"
    assert parse_create_index("CREATE INDEX ix ON t (a)").where is None


def test_tokens_split_operators_from_words() -> None:
    assert [t.text for t in tokenize("a>=0 AND b<>'x'")] == ["a", ">=", "0", "AND", "b", "<>", "x"]


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="\x00"),
        min_size=1,
        max_size=20,
    )
)
def test_any_identifier_quoted_by_sqlalchemy_reads_back(name: str) -> None:
    quote = sqlite.dialect().identifier_preparer.quote_identifier
    parsed = parse_create_table(
        f"CREATE TABLE t (x INT CONSTRAINT {quote(name)} CHECK (x > 0), "
        f"CONSTRAINT {quote(name + '_u')} UNIQUE (x))"
    )
    assert parsed.checks == [(name, "x > 0")]
    assert parsed.uniques == [(name + "_u", ("x",))]


def test_declared_type_text_maps_to_sqlalchemy_types() -> None:
    assert repr(sqlite_type("VARCHAR(30)")) == "VARCHAR(length=30)"
    assert repr(sqlite_type("numeric(10, 2)")) == "NUMERIC(precision=10, scale=2)"
    assert repr(sqlite_type("DATETIME")) == "DATETIME()"
    assert repr(sqlite_type("UNSIGNED BIG INT")) == "INTEGER()"  # SQLite's affinity rules
    assert repr(sqlite_type("NATIVE CHARACTER(70)")) == "TEXT()"
    assert repr(sqlite_type("")) == "NullType()"
    assert repr(sqlite_type("WHATEVER")) == "NUMERIC()"


# -- through real SQLite databases ------------------------------------------------------


def _reflect(tmp_path: Path, *ddl: str) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        for statement in ddl:
            conn.exec_driver_sql(statement)
    return engine


def test_awkward_names_and_hand_written_ddl(tmp_path: Path) -> None:
    engine = _reflect(
        tmp_path,
        'CREATE TABLE "my parent" ("the id" INTEGER PRIMARY KEY, "x,y" TEXT UNIQUE)',
        'CREATE TABLE "kid\'s" (id INTEGER, pid INTEGER, note text, '
        'CONSTRAINT "pk kid" PRIMARY KEY (id, pid), '
        'CONSTRAINT "fk, parent" FOREIGN KEY (pid) REFERENCES "my parent" '
        "ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED, "
        "CONSTRAINT ck_note CHECK (note IN ('a', 'b)')))",
        'CREATE INDEX "ix kid" ON "kid\'s" (lower(note), pid DESC) WHERE note IS NOT NULL',
    )
    with engine.connect() as conn:
        schema = reflect_schema(conn)
    parent, kid = schema.table("my parent"), schema.table("kid's")
    assert parent is not None and kid is not None
    assert [(c.name, c.type.sql, c.autoincrement, c.nullable) for c in parent.columns] == [
        ("the id", "INTEGER", True, False),
        ("x,y", "TEXT", None, True),
    ]
    assert parent.uniques == (UniqueConstraint(("x,y",), None),)
    assert kid.primary_key is not None and kid.primary_key.name == "pk kid"
    assert kid.primary_key.columns == ("id", "pid")
    assert kid.foreign_keys == (
        ForeignKey(
            columns=("pid",),
            ref_table="my parent",
            ref_columns=("the id",),  # no columns given: the parent's primary key
            name="fk, parent",
            onupdate="SET NULL",
            deferrable=True,
            initially="DEFERRED",
        ),
    )
    assert kid.checks == (CheckConstraint("note IN ('a', 'b)')", "ck_note"),)
    assert kid.indexes == (
        Index(
            name="ix kid",
            columns=("lower(note)", "pid DESC"),
            expressions=(True, True),
            dialect_options=(("sqlite_where", "note IS NOT NULL"),),
        ),
    )
    engine.dispose()


def test_unique_constraint_unique_index_and_primary_key_are_told_apart(tmp_path: Path) -> None:
    engine = _reflect(
        tmp_path,
        "CREATE TABLE t (a INT NOT NULL, b INT, c INT, PRIMARY KEY (a), "
        "CONSTRAINT uq_b UNIQUE (b))",
        "CREATE UNIQUE INDEX ix_c ON t (c)",
    )
    with engine.connect() as conn:
        table = reflect_schema(conn).table("t")
    assert table is not None
    assert table.primary_key is not None and table.primary_key.columns == ("a",)
    assert table.columns[0].autoincrement is None  # INT, not INTEGER: not the rowid
    assert table.uniques == (UniqueConstraint(("b",), "uq_b"),)
    assert table.indexes == (Index("ix_c", ("c",), (False,), unique=True),)
    engine.dispose()


def test_generated_columns_virtual_and_stored(tmp_path: Path) -> None:
    engine = _reflect(
        tmp_path,
        "CREATE TABLE g (a INT, v INT AS (a + 1), s INT GENERATED ALWAYS AS (a * 2) STORED)",
    )
    with engine.connect() as conn:
        table = reflect_schema(conn).table("g")
    assert table is not None
    computed = {c.name: c.computed for c in table.columns}
    assert computed["a"] is None
    assert computed["v"] is not None and computed["v"].sqltext == "a + 1"
    assert computed["v"].persisted is False
    assert computed["s"] is not None and computed["s"].sqltext == "a * 2"
    assert computed["s"].persisted is True
    engine.dispose()
