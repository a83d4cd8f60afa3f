"""Replay without a database == upgrade a real database and reflect it.

Each chain of revisions (``CHAINS``: (rev, down_revision, upgrade body) each)
is replayed symbolically, then upgraded on a fresh real database with the
engine's runtime and reflected; the two Schemas must agree once both go
through ``comparable()``.  That function holds the normalisations a comparison
has to make anyway (see its docstring) — every other difference is a failure.
A feature a database lacks (expression indexes on MariaDB, native enums
outside PostgreSQL) is confined to chains for the dialects that have it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from distill import commands
from distill.replay.recorder import replay
from distill.schema.model import Column, Schema, Table
from distill.schema.reflect import reflect_schema
from tests.projects import make_project

ALL = ("sqlite", "postgresql", "mariadb")

Rev = tuple[str, "str | tuple[str, ...] | None", str]


@dataclass(frozen=True)
class Chain:
    name: str
    revisions: tuple[Rev, ...]
    dialects: tuple[str, ...] = ALL


USERS = """
op.create_table(
    "users",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(120), nullable=False, unique=True),
    sa.Column("name", sa.String(50), server_default="anon"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("score", sa.Numeric(10, 2)),
    sa.Column("bio", sa.Text, comment="about"),
    sa.CheckConstraint("score >= 0", name="ck_users_score"),
    comment="people",
)
op.create_index("ix_users_name", "users", ["name"])
"""

POSTS = """
op.create_table(
    "posts",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("title", sa.String(200), index=True),
    sa.Column("created", sa.DateTime, server_default=sa.func.now()),
)
"""

CHAINS = (
    Chain("create_tables", (("a1", None, USERS), ("a2", "a1", POSTS))),
    Chain(
        "add_columns",
        (
            ("a1", None, USERS),
            (
                "a2",
                "a1",
                """
op.add_column("users", sa.Column("phone", sa.String(30)))
op.add_column("users", sa.Column("level", sa.Integer, nullable=False, server_default="1"))
op.add_column("users", sa.Column("note", sa.String(40), comment="free text"))
""",
            ),
        ),
    ),
    Chain(
        "add_column_with_constraints",
        (
            ("a1", None, USERS),
            (
                "a2",
                "a1",
                """
op.add_column("users", sa.Column("code", sa.String(10), unique=True))
op.add_column("users", sa.Column("referrer_id", sa.Integer, sa.ForeignKey("users.id")))
""",
            ),
        ),
    ),
    Chain(
        "add_column_index_flag",
        (
            ("a1", None, USERS),
            ("a2", "a1", 'op.add_column("users", sa.Column("city", sa.String(40), index=True))'),
        ),
    ),
    Chain(
        "drop_columns",
        (
            ("a1", None, USERS),
            ("a2", "a1", 'op.drop_column("users", "name")\nop.drop_column("users", "bio")'),
        ),
    ),
    Chain(
        "drop_column_in_multi_index",
        (
            (
                "a1",
                None,
                """
op.create_table("t", sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("a", sa.Integer), sa.Column("b", sa.Integer), sa.Column("c", sa.Integer))
op.create_index("ix_t_ab", "t", ["a", "b"])
op.create_index("ix_t_c", "t", ["c"])
""",
            ),
            ("a2", "a1", 'op.drop_column("t", "b")'),
        ),
    ),
    Chain(
        "alter_types",
        (
            ("a1", None, USERS),
            (
                "a2",
                "a1",
                """
op.alter_column("users", "name", type_=sa.String(200), existing_type=sa.String(50))
op.alter_column("users", "score", type_=sa.Numeric(12, 4))
op.alter_column("users", "id", type_=sa.BigInteger, existing_type=sa.Integer)
""",
            ),
        ),
    ),
    Chain(
        "alter_nullable_and_defaults",
        (
            ("a1", None, USERS),
            (
                "a2",
                "a1",
                """
op.alter_column("users", "name", nullable=False, existing_type=sa.String(50))
op.alter_column("users", "score", server_default="0")
op.alter_column("users", "active", server_default=None)
op.alter_column("users", "email", nullable=True, existing_type=sa.String(120))
""",
            ),
        ),
    ),
    Chain(
        "alter_comments",
        (
            ("a1", None, USERS),
            (
                "a2",
                "a1",
                """
op.alter_column("users", "bio", comment=None, existing_type=sa.Text)
op.alter_column("users", "name", comment="display name", existing_type=sa.String(50))
""",
            ),
        ),
    ),
    Chain(
        "rename_columns",
        (
            ("a1", None, USERS),
            ("a2", "a1", POSTS),
            (
                "a3",
                "a2",
                """
op.alter_column("users", "name", new_column_name="full_name", existing_type=sa.String(50))
op.alter_column("posts", "title", new_column_name="headline", existing_type=sa.String(200))
op.alter_column("users", "score", new_column_name="points", existing_type=sa.Numeric(10, 2))
""",
            ),
        ),
    ),
    Chain(
        "rename_tables",
        (
            ("a1", None, USERS),
            ("a2", "a1", POSTS),
            ("a3", "a2", 'op.rename_table("users", "members")\nop.rename_table("posts", "notes")'),
        ),
    ),
    Chain(
        "indexes",
        (
            ("a1", None, USERS),
            (
                "a2",
                "a1",
                """
op.create_index("ix_users_name_score", "users", ["name", "score"])
op.create_index("uq_users_name_email", "users", ["name", "email"], unique=True)
op.drop_index("ix_users_name", table_name="users")
""",
            ),
        ),
    ),
    Chain(
        "expression_index",
        (
            ("a1", None, USERS),
            (
                "a2",
                "a1",
                'op.create_index("ix_users_lower_email", "users", [sa.text("lower(email)")])',
            ),
        ),
        dialects=("sqlite", "postgresql"),
    ),
    Chain(
        "unique_constraints",
        (
            ("a1", None, USERS),
            (
                "a2",
                "a1",
                """
op.create_unique_constraint("uq_users_name", "users", ["name"])
op.create_unique_constraint("uq_users_name_score", "users", ["name", "score"])
op.drop_constraint("uq_users_name", "users", type_="unique")
""",
            ),
        ),
    ),
    Chain(
        "foreign_keys",
        (
            ("a1", None, USERS),
            (
                "a2",
                "a1",
                """
op.create_table("teams", sa.Column("id", sa.Integer, primary_key=True))
op.add_column("users", sa.Column("team_id", sa.Integer))
op.create_foreign_key("fk_users_team", "users", "teams", ["team_id"], ["id"], ondelete="SET NULL")
op.add_column("users", sa.Column("mentor_id", sa.Integer))
op.create_foreign_key("fk_users_mentor", "users", "users", ["mentor_id"], ["id"])
""",
            ),
            ("a3", "a2", 'op.drop_constraint("fk_users_mentor", "users", type_="foreignkey")'),
        ),
    ),
    Chain(
        "check_constraints",
        (
            ("a1", None, USERS),
            (
                "a2",
                "a1",
                """
op.create_check_constraint("ck_users_name_len", "users", "length(name) > 1")
op.drop_constraint("ck_users_score", "users", type_="check")
""",
            ),
        ),
    ),
    Chain(
        "primary_keys",
        (
            (
                "a1",
                None,
                """
op.create_table("pairs", sa.Column("a", sa.Integer, nullable=False),
    sa.Column("b", sa.Integer, nullable=False), sa.Column("v", sa.String(20)))
op.create_primary_key("pk_pairs", "pairs", ["a", "b"])
""",
            ),
            (
                "a2",
                "a1",
                """
op.create_table("links",
    sa.Column("pa", sa.Integer, nullable=False), sa.Column("pb", sa.Integer, nullable=False),
    sa.ForeignKeyConstraint(["pa", "pb"], ["pairs.a", "pairs.b"], name="fk_links_pairs"),
)
""",
            ),
        ),
    ),
    Chain(
        "table_comments",
        (
            ("a1", None, USERS),
            ("a2", "a1", POSTS),
            (
                "a3",
                "a2",
                'op.create_table_comment("posts", "articles")\n'
                'op.drop_table_comment("users", existing_comment="people")',
            ),
        ),
    ),
    Chain(
        "batch_columns",
        (
            ("a1", None, USERS),
            (
                "a2",
                "a1",
                """
with op.batch_alter_table("users") as batch_op:
    batch_op.add_column(sa.Column("nick", sa.String(20)))
    batch_op.alter_column("name", type_=sa.String(80), existing_type=sa.String(50))
    batch_op.drop_column("bio")
    batch_op.create_index("ix_users_nick", ["nick"])
""",
            ),
        ),
    ),
    Chain(
        "batch_constraints",
        (
            ("a1", None, USERS),
            ("a2", "a1", POSTS),
            (
                "a3",
                "a2",
                """
with op.batch_alter_table("posts") as batch_op:
    batch_op.add_column(sa.Column("editor_id", sa.Integer))
    batch_op.create_foreign_key("fk_posts_editor", "users", ["editor_id"], ["id"])
    batch_op.create_unique_constraint("uq_posts_title", ["title"])
    batch_op.create_check_constraint("ck_posts_editor", "editor_id > 0")
with op.batch_alter_table("users") as batch_op:
    batch_op.drop_constraint("ck_users_score", type_="check")
    batch_op.alter_column("name", new_column_name="label", existing_type=sa.String(50))
""",
            ),
        ),
    ),
    Chain(
        "drop_tables",
        (
            ("a1", None, USERS),
            ("a2", "a1", POSTS),
            (
                "a3",
                "a2",
                'op.drop_index("ix_posts_title", table_name="posts")\nop.drop_table("posts")',
            ),
        ),
    ),
    Chain(
        "branches_and_merge",
        (
            ("a1", None, USERS),
            (
                "b1",
                "a1",
                'op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True),'
                ' sa.Column("label", sa.String(30), nullable=False))',
            ),
            ("c1", "a1", POSTS),
            ("c2", "c1", 'op.add_column("posts", sa.Column("tag_id", sa.Integer))'),
            (
                "m1",
                ("b1", "c2"),
                'op.create_foreign_key("fk_posts_tag", "posts", "tags", ["tag_id"], ["id"])',
            ),
        ),
    ),
    Chain(
        "unmerged_heads",
        (
            ("a1", None, USERS),
            ("b1", "a1", 'op.add_column("users", sa.Column("b", sa.Integer))'),
            ("c1", "a1", 'op.add_column("users", sa.Column("c", sa.Integer))'),
        ),
    ),
    Chain(
        "data_only_statements",
        (
            ("a1", None, USERS),
            (
                "a2",
                "a1",
                """
op.execute("INSERT INTO users (id, email, active) VALUES (1, 'a@b.c', true)")
op.execute(sa.text("UPDATE users SET name = 'x' WHERE id = 1"))
op.bulk_insert(sa.table("users", sa.column("id"), sa.column("email"), sa.column("active")),
    [{"id": 2, "email": "d@e.f", "active": False}])
op.execute("DELETE FROM users WHERE id = 2; -- tidy up")
""",
            ),
        ),
    ),
    Chain(
        "enums_postgresql",
        (
            (
                "a1",
                None,
                """
op.create_table("tickets", sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("status", sa.Enum("open", "closed", name="ticket_status"), nullable=False))
op.create_table("archive", sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("status", sa.Enum("open", "closed", name="ticket_status")))
op.create_table("other", sa.Column("id", sa.Integer, primary_key=True))
""",
            ),
            ("a2", "a1", 'op.drop_table("archive")\nop.drop_table("tickets")'),
        ),
        dialects=("postgresql",),
    ),
    Chain(
        "enums_inline",
        (
            (
                "a1",
                None,
                """
op.create_table("tickets", sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("status", sa.Enum("open", "closed", name="ticket_status"), nullable=False))
""",
            ),
            (
                "a2",
                "a1",
                'op.alter_column("tickets", "status", type_=sa.Enum("open", "closed", "gone",'
                ' name="ticket_status"), existing_nullable=False)',
            ),
        ),
        dialects=("sqlite", "mariadb"),
    ),
    Chain(
        "database_named_constraints",
        (
            ("a1", None, USERS),
            (
                "a2",
                "a1",
                'op.drop_constraint("users_email_key", "users", type_="unique")\n'
                'op.drop_constraint("users_pkey", "users")',
            ),
        ),
        dialects=("postgresql",),
    ),
    Chain(
        "database_named_constraints_mariadb",
        (
            ("a1", None, USERS),
            ("a2", "a1", 'op.drop_constraint("email", "users", type_="unique")'),
        ),
        dialects=("mariadb",),
    ),
)


# -- the comparison -----------------------------------------------------------------------


def comparable(schema: Schema, named: dict[str, set[str]]) -> dict[str, Any]:
    """``schema`` reduced to what must agree between replay and reflection.

    Normalisations (each one a comparison has to make between models and a
    database anyway):
    - a type is its family and size (length, precision, scale, timezone, enum
      values): the Python spelling differs (``sa.String`` vs ``sa.VARCHAR``);
    - SQL text of defaults and checks loses casts (``'x'::character varying``),
      outer parentheses, quotes around identifiers and numbers, case and spaces;
    - on SQLite a (non-native) enum is the VARCHAR it is stored as; on MariaDB
      a boolean is the TINYINT(1) it is stored as, ``true`` is ``1``, and
      ``now()`` is ``current_timestamp()``, ``length()`` is ``octet_length()``,
      a unique index is its unique constraint, and the index MariaDB adds for
      a named foreign key is hidden (as ``reflect_mysql`` hides it);
    - a number default is compared as a number (``'0'``, ``0.00``);
    - a constraint the scripts left unnamed matches whatever name the database
      gave it (``named`` holds the names the replay side knows, per kind).
    """
    return {
        ".".join(filter(None, t.key)): _table(t, named, schema.dialect) for t in schema.tables
    } | {"enums": sorted((e.schema, e.name, e.values) for e in schema.enums)}


def _table(t: Table, named: dict[str, set[str]], dialect: str) -> dict[str, Any]:
    def name(kind: str, value: str | None) -> str | None:
        return value if value in named[kind] else None

    indexes, uniques = list(t.indexes), [(u.columns, u.name) for u in t.uniques]
    if dialect == "mysql":
        # MariaDB has no unique constraint apart from its unique index.
        uniques += [(i.columns, i.name) for i in indexes if i.unique]
        # The index MariaDB makes for a named foreign key, as reflect_mysql hides it.
        implicit = {(fk.name, fk.columns) for fk in t.foreign_keys}
        indexes = [i for i in indexes if not i.unique and (i.name, i.columns) not in implicit]
    pk = t.primary_key
    return {
        "columns": [_column(c, dialect) for c in t.columns],
        "primary_key": (pk.columns, name("pk", pk.name)) if pk else None,
        "foreign_keys": sorted(
            (
                fk.columns,
                fk.ref_table,
                fk.ref_columns,
                fk.ondelete,
                fk.onupdate,
                name("fk", fk.name),
            )
            for fk in t.foreign_keys
        ),
        "indexes": sorted((i.name, tuple(sql(c) for c in i.columns), i.unique) for i in indexes),
        "uniques": sorted((columns, name("uq", n)) for columns, n in uniques),
        "checks": sorted((sql(c.sqltext), name("ck", c.name)) for c in t.checks),
        "comment": t.comment,
    }


def _column(c: Column, dialect: str) -> tuple[Any, ...]:
    ty = c.type
    kind = (ty.family, ty.length, ty.precision, ty.scale, ty.timezone, ty.enum_values)
    if dialect == "sqlite" and ty.family == "enum":
        kind = ("string", ty.length, None, None, None, ())
    if dialect == "mysql" and ty.family == "boolean":
        kind = ("integer", None, None, None, None, ())
    default = sql(c.server_default) if c.server_default is not None else None
    return (c.name, kind, c.nullable, default, c.comment)


def sql(text: str) -> str:
    text = re.sub(r"::[a-z ]+(\(\d+\))?", "", text.lower())
    text = re.sub(r'["`]', "", text)
    text = " ".join(text.split())
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    text = _SAME.get(text, text)
    # MariaDB stores length() as octet_length(), which it is for bytes.
    text = re.sub(r"\boctet_length\(", "length(", text)
    # A number given as a string is stored as the number, in the column's scale.
    number = re.fullmatch(r"'?(-?\d+(\.\d+)?)'?", text)
    return str(Decimal(number.group(1)).normalize()) if number else text


# Spellings the databases store differently from how they were written.
_SAME = {
    "true": "1",
    "false": "0",
    "now()": "current_timestamp",
    "current_timestamp()": "current_timestamp",
}


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def names_in(schema: Schema) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"pk": set(), "fk": set(), "uq": set(), "ck": set()}
    for t in schema.tables:
        if t.primary_key and t.primary_key.name:
            found["pk"].add(t.primary_key.name)
        found["fk"] |= {fk.name for fk in t.foreign_keys if fk.name}
        found["uq"] |= {u.name for u in t.uniques if u.name}
        found["uq"] |= {i.name for i in t.indexes if i.unique}
        found["ck"] |= {c.name for c in t.checks if c.name}
    return found


# -- the test -----------------------------------------------------------------------------

VERSION_TABLES = {"distill_version", "distill_history"}


@pytest.mark.parametrize("chain", CHAINS, ids=lambda c: c.name)
def test_replay_equals_reflected_upgrade(
    chain: Chain, dialect_name: str, db_url: str, tmp_path: Path
) -> None:
    if dialect_name not in chain.dialects:
        pytest.skip(f"{chain.name} uses features {dialect_name} does not have")
    project_dir = make_project(tmp_path / "project", db_url)
    for rev, down, body in chain.revisions:
        project_dir.add(rev, down, body)
    project = project_dir.project()
    engine = sa.create_engine(db_url)
    try:
        with engine.connect():
            pass  # the dialect learns it is MariaDB on its first connection
        replayed = replay(project.graph, engine.dialect)
        commands.upgrade(project, "heads")
        with engine.connect() as conn:
            reflected = reflect_schema(conn, exclude=VERSION_TABLES.__contains__)
    finally:
        engine.dispose()
        project.dispose()
    assert replayed.exact, replayed.reasons
    found = differences(replayed.schema, reflected)
    assert not found, "\n".join(found)


def differences(replayed: Schema, reflected: Schema) -> list[str]:
    """One line per part that differs: "<table>.<part>: replay <a> != database <b>"."""
    named = names_in(replayed)
    left, right = comparable(replayed, named), comparable(reflected, named)
    out = []
    for key in sorted(set(left) | set(right)):
        a, b = left.get(key), right.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            for part in a:
                if part == "columns" and len(a[part]) == len(b[part]):
                    out += [
                        f"{key}.{x[0]}: replay {x[1:]} != database {y[1:]}"
                        for x, y in zip(a[part], b[part], strict=True)
                        if x != y
                    ]
                elif a[part] != b[part]:
                    out.append(f"{key}.{part}: replay {a[part]} != database {b[part]}")
        elif a != b:
            out.append(f"{key}: replay {a} != database {b}")
    return out
