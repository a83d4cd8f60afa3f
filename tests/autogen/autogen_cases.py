"""The autogenerate corpus: model changes m1 -> m2, one ``Case`` each.

Each side is a function that builds a fresh ``MetaData``, because a Table can
belong to one MetaData only and every test run needs its own.  ``only`` names
the dialects where the feature exists at all (with ``why_not`` for the rest);
``xfail`` names dialects where Distill is known not to get there yet, with
the precise reason.  Foreign keys, uniques and checks that a revision may have
to drop are named: an unnamed constraint cannot be dropped by any revision,
whoever writes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

ALL = ("sqlite", "postgresql", "mariadb")
NO_SQLITE_COMMENTS = "SQLite stores no table or column comments"
PG_ONLY_TZ = "only PostgreSQL stores a time zone flag on a timestamp column"

Build = Callable[[], sa.MetaData]


@dataclass(frozen=True)
class Case:
    name: str
    m1: Build
    m2: Build
    renames: tuple[str, ...] = ()
    only: tuple[str, ...] = ALL
    why_not: str = ""
    xfail: dict[str, str] = field(default_factory=dict)


# -- building blocks ----------------------------------------------------------------------

Extra = Callable[[sa.MetaData], object]


def _meta(*builders: Extra) -> Build:
    def build() -> sa.MetaData:
        metadata = sa.MetaData()
        for builder in builders:
            builder(metadata)
        return metadata

    return build


def users(*extra: Callable[[], object]) -> Extra:
    """A users table: id, name String(50), email String(120), plus ``extra`` items."""

    def build(metadata: sa.MetaData) -> sa.Table:
        return sa.Table(
            "users",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(50)),
            sa.Column("email", sa.String(120), nullable=False),
            *[item() for item in extra],
        )

    return build


def table(name: str, *items: Callable[[], object]) -> Extra:
    """A table whose items are made fresh on every build."""

    def build(metadata: sa.MetaData) -> sa.Table:
        return sa.Table(name, metadata, *[item() for item in items])

    return build


def col(name: str, type_: object, *args: object, **kw: object) -> Callable[[], sa.Column[object]]:
    return lambda: sa.Column(name, type_, *args, **kw)  # type: ignore[arg-type]


def pk(name: str = "id") -> Callable[[], sa.Column[int]]:
    return lambda: sa.Column(name, sa.Integer, primary_key=True)


def thing(*items: Callable[[], object]) -> Extra:
    """A ``things`` table with an integer key and the given items."""
    return table("things", pk(), *items)


def same(*builders: Extra) -> tuple[Build, Build]:
    return _meta(*builders), _meta(*builders)


PARENT = table("parents", pk(), col("code", sa.String(20), nullable=False))


def child(*items: Callable[[], object]) -> Extra:
    return table("children", pk(), col("parent_id", sa.Integer), *items)


def fk(
    columns: list[str], refs: list[str], name: str, **kw: object
) -> Callable[[], sa.ForeignKeyConstraint]:
    return lambda: sa.ForeignKeyConstraint(columns, refs, name=name, **kw)  # type: ignore[arg-type]


def ix(name: str, *columns: str, **kw: object) -> Callable[[], sa.Index]:
    return lambda: sa.Index(name, *columns, **kw)  # type: ignore[arg-type]


def uq(name: str, *columns: str) -> Callable[[], sa.UniqueConstraint]:
    return lambda: sa.UniqueConstraint(*columns, name=name)


def ck(name: str, text: str) -> Callable[[], sa.CheckConstraint]:
    return lambda: sa.CheckConstraint(text, name=name)


def enum_table(*values: str, extra: tuple[Callable[[], object], ...] = ()) -> Extra:
    return thing(col("status", sa.Enum(*values, name="thing_status")), *extra)


# -- the corpus ------------------------------------------------------------------------------


def _cases() -> list[Case]:
    base = users()
    cases = [
        Case("no_change", *same(base, table("posts", pk(), col("title", sa.String(80))))),
        # tables
        Case(
            "add_table",
            _meta(base),
            _meta(base, table("posts", pk(), col("title", sa.String(80), nullable=False))),
        ),
        Case(
            "drop_table",
            _meta(base, table("posts", pk(), col("title", sa.String(80)))),
            _meta(base),
        ),
        Case(
            "add_table_with_everything",
            _meta(base),
            _meta(
                base,
                table(
                    "posts",
                    pk(),
                    col("user_id", sa.Integer, nullable=False),
                    col("slug", sa.String(40), nullable=False),
                    col("score", sa.Numeric(8, 2), server_default="0"),
                    col("body", sa.Text),
                    fk(["user_id"], ["users.id"], "fk_posts_user", ondelete="CASCADE"),
                    uq("uq_posts_slug", "slug"),
                    ck("ck_posts_score", "score >= 0"),
                    ix("ix_posts_user", "user_id", "slug"),
                ),
            ),
        ),
        # columns
        Case("add_column", _meta(base), _meta(users(col("phone", sa.String(30))))),
        Case(
            "add_column_not_null_default",
            _meta(base),
            _meta(users(col("level", sa.Integer, nullable=False, server_default="1"))),
        ),
        Case("drop_column", _meta(users(col("phone", sa.String(30)))), _meta(base)),
        Case(
            "drop_indexed_column",
            _meta(users(col("city", sa.String(40)), ix("ix_users_city", "city"))),
            _meta(base),
        ),
        # types
        Case(
            "string_length_grow",
            _meta(thing(col("label", sa.String(50)))),
            _meta(thing(col("label", sa.String(200)))),
        ),
        Case(
            "string_length_shrink",
            _meta(thing(col("label", sa.String(200)))),
            _meta(thing(col("label", sa.String(50)))),
        ),
        Case(
            "numeric_precision",
            _meta(thing(col("price", sa.Numeric(10, 2)))),
            _meta(thing(col("price", sa.Numeric(12, 4)))),
        ),
        Case(
            "string_to_text",
            _meta(thing(col("body", sa.String(100)))),
            _meta(thing(col("body", sa.Text))),
        ),
        Case(
            "integer_to_bigint",
            _meta(thing(col("total", sa.Integer))),
            _meta(thing(col("total", sa.BigInteger))),
        ),
        Case(
            "smallint_to_integer",
            _meta(thing(col("rank", sa.SmallInteger))),
            _meta(thing(col("rank", sa.Integer))),
        ),
        Case(
            "datetime_add_timezone",
            _meta(thing(col("seen", sa.DateTime))),
            _meta(thing(col("seen", sa.DateTime(timezone=True)))),
            only=("postgresql",),
            why_not=PG_ONLY_TZ,
        ),
        Case(
            "datetime_drop_timezone",
            _meta(thing(col("seen", sa.DateTime(timezone=True)))),
            _meta(thing(col("seen", sa.DateTime))),
            only=("postgresql",),
            why_not=PG_ONLY_TZ,
        ),
        Case(
            "integer_to_string",
            _meta(thing(col("code", sa.Integer))),
            _meta(thing(col("code", sa.String(20)))),
        ),
        # nullable
        Case(
            "nullable_to_not_null",
            _meta(thing(col("label", sa.String(50), nullable=True))),
            _meta(thing(col("label", sa.String(50), nullable=False))),
        ),
        Case(
            "not_null_to_nullable",
            _meta(thing(col("label", sa.String(50), nullable=False))),
            _meta(thing(col("label", sa.String(50), nullable=True))),
        ),
        # server defaults
        Case(
            "default_add_string",
            _meta(thing(col("state", sa.String(20)))),
            _meta(thing(col("state", sa.String(20), server_default="new"))),
        ),
        Case(
            "default_change_string",
            _meta(thing(col("state", sa.String(20), server_default="new"))),
            _meta(thing(col("state", sa.String(20), server_default="open"))),
        ),
        Case(
            "default_change_number",
            _meta(thing(col("level", sa.Integer, server_default="1"))),
            _meta(thing(col("level", sa.Integer, server_default="5"))),
        ),
        Case(
            "default_drop",
            _meta(thing(col("level", sa.Integer, server_default="1"))),
            _meta(thing(col("level", sa.Integer))),
        ),
        Case(
            "default_add_boolean",
            _meta(thing(col("active", sa.Boolean, nullable=False))),
            _meta(thing(col("active", sa.Boolean, nullable=False, server_default=sa.true()))),
        ),
        Case(
            "default_flip_boolean",
            _meta(thing(col("active", sa.Boolean, server_default=sa.true()))),
            _meta(thing(col("active", sa.Boolean, server_default=sa.false()))),
        ),
        Case(
            "default_add_now",
            _meta(thing(col("created", sa.DateTime))),
            _meta(thing(col("created", sa.DateTime, server_default=sa.func.now()))),
        ),
        Case(
            "default_drop_now",
            _meta(thing(col("created", sa.DateTime, server_default=sa.func.now()))),
            _meta(thing(col("created", sa.DateTime))),
        ),
        Case(
            "default_numeric",
            _meta(thing(col("price", sa.Numeric(10, 2)))),
            _meta(thing(col("price", sa.Numeric(10, 2), server_default="9.99"))),
        ),
        # primary keys
        Case(
            "pk_extend_composite",
            _meta(
                table(
                    "memberships",
                    col("a", sa.Integer, primary_key=True, autoincrement=False),
                    col("b", sa.Integer, nullable=False),
                )
            ),
            _meta(
                table(
                    "memberships",
                    col("a", sa.Integer, primary_key=True, autoincrement=False),
                    col("b", sa.Integer, primary_key=True, autoincrement=False),
                )
            ),
        ),
        Case(
            "pk_move",
            _meta(
                table(
                    "codes",
                    col("a", sa.Integer, primary_key=True, autoincrement=False),
                    col("b", sa.String(10), nullable=False),
                )
            ),
            _meta(
                table(
                    "codes",
                    col("a", sa.Integer, nullable=False),
                    col("b", sa.String(10), primary_key=True),
                )
            ),
        ),
        Case(
            "add_table_composite_pk",
            _meta(base),
            _meta(
                base,
                table(
                    "tags",
                    col("user_id", sa.Integer, primary_key=True, autoincrement=False),
                    col("tag", sa.String(30), primary_key=True),
                    fk(["user_id"], ["users.id"], "fk_tags_user"),
                ),
            ),
        ),
        # foreign keys
        Case(
            "fk_add",
            _meta(PARENT, child()),
            _meta(
                PARENT,
                child(fk(["parent_id"], ["parents.id"], "fk_child_parent", ondelete="CASCADE")),
            ),
        ),
        Case(
            "fk_drop",
            _meta(PARENT, child(fk(["parent_id"], ["parents.id"], "fk_child_parent"))),
            _meta(PARENT, child()),
        ),
        Case(
            "fk_change_actions",
            _meta(
                PARENT,
                child(fk(["parent_id"], ["parents.id"], "fk_child_parent", ondelete="CASCADE")),
            ),
            _meta(
                PARENT,
                child(
                    fk(
                        ["parent_id"],
                        ["parents.id"],
                        "fk_child_parent",
                        ondelete="SET NULL",
                        onupdate="CASCADE",
                    )
                ),
            ),
        ),
        Case(
            "fk_add_column_and_parent",
            _meta(base),
            _meta(
                table("accounts", pk()),
                users(
                    col("account_id", sa.Integer),
                    fk(["account_id"], ["accounts.id"], "fk_users_account"),
                ),
            ),
        ),
        Case(
            "new_tables_fk_order",
            _meta(base),
            _meta(
                base,
                # Children whose names sort before their parents'.
                table(
                    "a_lines",
                    pk(),
                    col("order_id", sa.Integer),
                    fk(["order_id"], ["m_orders.id"], "fk_lines_order"),
                ),
                table(
                    "m_orders",
                    pk(),
                    col("user_id", sa.Integer),
                    fk(["user_id"], ["z_customers.id"], "fk_orders_customer"),
                ),
                table("z_customers", pk()),
            ),
        ),
        Case(
            "new_tables_fk_cycle",
            _meta(base),
            _meta(
                base,
                table(
                    "authors",
                    pk(),
                    col("favourite_id", sa.Integer),
                    fk(["favourite_id"], ["books.id"], "fk_author_favourite", use_alter=True),
                ),
                table(
                    "books",
                    pk(),
                    col("author_id", sa.Integer),
                    fk(["author_id"], ["authors.id"], "fk_book_author"),
                ),
            ),
        ),
        Case(
            "drop_tables_fk_order",
            _meta(
                base,
                table(
                    "a_lines",
                    pk(),
                    col("order_id", sa.Integer),
                    fk(["order_id"], ["m_orders.id"], "fk_lines_order"),
                ),
                table("m_orders", pk()),
            ),
            _meta(base),
        ),
        Case(
            "fk_composite",
            _meta(
                table(
                    "regions",
                    col("country", sa.String(2), primary_key=True),
                    col("code", sa.String(5), primary_key=True),
                ),
                table("shops", pk(), col("country", sa.String(2)), col("region", sa.String(5))),
            ),
            _meta(
                table(
                    "regions",
                    col("country", sa.String(2), primary_key=True),
                    col("code", sa.String(5), primary_key=True),
                ),
                table(
                    "shops",
                    pk(),
                    col("country", sa.String(2)),
                    col("region", sa.String(5)),
                    fk(
                        ["country", "region"],
                        ["regions.country", "regions.code"],
                        "fk_shop_region",
                        onupdate="CASCADE",
                    ),
                ),
            ),
        ),
        # indexes
        Case(
            "index_add",
            _meta(thing(col("label", sa.String(50)))),
            _meta(thing(col("label", sa.String(50)), ix("ix_things_label", "label"))),
        ),
        Case(
            "index_drop",
            _meta(thing(col("label", sa.String(50)), ix("ix_things_label", "label"))),
            _meta(thing(col("label", sa.String(50)))),
        ),
        Case(
            "index_unique_add",
            _meta(thing(col("label", sa.String(50)))),
            _meta(thing(col("label", sa.String(50)), ix("ux_things_label", "label", unique=True))),
        ),
        Case(
            "index_becomes_unique",
            _meta(thing(col("label", sa.String(50)), ix("ix_things_label", "label"))),
            _meta(thing(col("label", sa.String(50)), ix("ix_things_label", "label", unique=True))),
        ),
        Case(
            "index_multi_column_add",
            _meta(thing(col("a", sa.Integer), col("b", sa.String(20)))),
            _meta(
                thing(col("a", sa.Integer), col("b", sa.String(20)), ix("ix_things_a_b", "a", "b"))
            ),
        ),
        Case(
            "index_column_order",
            _meta(
                thing(col("a", sa.Integer), col("b", sa.String(20)), ix("ix_things_ab", "a", "b"))
            ),
            _meta(
                thing(col("a", sa.Integer), col("b", sa.String(20)), ix("ix_things_ab", "b", "a"))
            ),
        ),
        # unique and check constraints
        Case(
            "unique_add",
            _meta(thing(col("code", sa.String(20)))),
            _meta(thing(col("code", sa.String(20)), uq("uq_things_code", "code"))),
        ),
        Case(
            "unique_drop",
            _meta(thing(col("a", sa.Integer), col("b", sa.Integer), uq("uq_things_ab", "a", "b"))),
            _meta(thing(col("a", sa.Integer), col("b", sa.Integer))),
        ),
        Case(
            "check_add",
            _meta(thing(col("qty", sa.Integer))),
            _meta(thing(col("qty", sa.Integer), ck("ck_things_qty", "qty >= 0"))),
        ),
        Case(
            "check_drop",
            _meta(thing(col("qty", sa.Integer), ck("ck_things_qty", "qty >= 0"))),
            _meta(thing(col("qty", sa.Integer))),
        ),
        # SQLite AUTOINCREMENT (ignored by the other dialects): created, then kept by a rebuild
        Case(
            "sqlite_autoincrement_new_table",
            _meta(base),
            _meta(base, _autoincrement_table(col("a", sa.Integer))),
        ),
        Case(
            "sqlite_autoincrement_added",
            _meta(table("counters", pk(), col("a", sa.Integer))),
            _meta(_autoincrement_table(col("a", sa.Integer))),
        ),
        Case(
            "sqlite_autoincrement_kept_by_rebuild",
            _meta(_autoincrement_table(col("a", sa.Integer))),
            _meta(_autoincrement_table(col("a", sa.Integer, nullable=False))),
        ),
        # comments
        Case(
            "table_comment_add",
            _meta(thing(col("a", sa.Integer))),
            _meta(_commented("things stored here")),
            only=("postgresql", "mariadb"),
            why_not=NO_SQLITE_COMMENTS,
        ),
        Case(
            "table_comment_drop",
            _meta(_commented("things stored here")),
            _meta(thing(col("a", sa.Integer))),
            only=("postgresql", "mariadb"),
            why_not=NO_SQLITE_COMMENTS,
        ),
        Case(
            "column_comment_add",
            _meta(thing(col("a", sa.Integer))),
            _meta(thing(col("a", sa.Integer, comment="how many"))),
            only=("postgresql", "mariadb"),
            why_not=NO_SQLITE_COMMENTS,
        ),
        Case(
            "column_comment_change",
            _meta(thing(col("a", sa.Integer, comment="how many"))),
            _meta(thing(col("a", sa.Integer, comment="how many, at most"))),
            only=("postgresql", "mariadb"),
            why_not=NO_SQLITE_COMMENTS,
        ),
        # enums (native on PostgreSQL, inline ENUM on MariaDB, VARCHAR on SQLite)
        Case(
            "enum_new_table",
            _meta(base),
            _meta(base, enum_table("new", "done")),
        ),
        Case(
            "enum_add_value",
            _meta(enum_table("new", "done")),
            _meta(enum_table("new", "done", "archived")),
        ),
        Case(
            "enum_add_column",
            _meta(thing(col("a", sa.Integer))),
            _meta(thing(col("a", sa.Integer), col("status", sa.Enum("on", "off", name="onoff")))),
        ),
        # renames
        Case(
            "rename_column",
            _meta(users(col("nick", sa.String(30)))),
            _meta(users(col("handle", sa.String(30)))),
            renames=("users.nick:handle",),
        ),
        Case(
            "rename_column_and_widen",
            _meta(users(col("nick", sa.String(30)))),
            _meta(users(col("handle", sa.String(60)))),
            renames=("users.nick:handle",),
        ),
        Case(
            "rename_table",
            _meta(base, table("posts", pk(), col("title", sa.String(80)))),
            _meta(base, table("articles", pk(), col("title", sa.String(80)))),
            renames=("posts:articles",),
        ),
        # several changes to one table at once
        Case(
            "many_changes_one_table",
            _meta(
                thing(
                    col("a", sa.Integer),
                    col("b", sa.String(20)),
                    col("c", sa.String(10), server_default="x"),
                    ix("ix_things_b", "b"),
                )
            ),
            _meta(
                thing(
                    col("a", sa.BigInteger, nullable=False),
                    col("b", sa.String(40)),
                    col("d", sa.Boolean, server_default=sa.false()),
                    ix("ix_things_a", "a"),
                )
            ),
        ),
    ]
    return cases


def _autoincrement_table(*items: Callable[[], object]) -> Extra:
    def build(metadata: sa.MetaData) -> sa.Table:
        columns = [item() for item in items]
        return sa.Table("counters", metadata, pk()(), *columns, sqlite_autoincrement=True)

    return build


def _commented(comment: str) -> Extra:
    def build(metadata: sa.MetaData) -> sa.Table:
        return sa.Table(
            "things",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("a", sa.Integer),
            comment=comment,
        )

    return build


CASES: dict[str, Case] = {case.name: case for case in _cases()}
