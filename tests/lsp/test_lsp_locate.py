"""The AST index that puts drift diagnostics on the declaring line."""

from __future__ import annotations

from textwrap import dedent

from hypothesis import given, settings
from hypothesis import strategies as st

from distill.lsp import locate
from distill.lsp.locate import (
    ColumnSite,
    ItemSite,
    ModelIndex,
    Span,
    TableSite,
    index_source,
    utf16_column,
)


def span_of(source: str, fragment: str, line: int | None = None) -> Span:
    """Where a one-line ``fragment`` is: its only occurrence, or its first one on
    ``line``.  Columns are str indices, which are UTF-16 columns on ASCII lines."""
    lines = source.splitlines()
    numbers = range(len(lines)) if line is None else [line]
    hits = [(n, lines[n].index(fragment)) for n in numbers if fragment in lines[n]]
    assert len(hits) == 1, f"{fragment!r} occurs {len(hits)} times"
    at, column = hits[0]
    return Span(at, column, at, column + len(fragment))


def line_of(source: str, fragment: str) -> int:
    return span_of(source, fragment).line


def only_table(source: str) -> TableSite:
    index = index_source(source)
    assert index.syntax_error is None
    assert len(index.tables) == 1, index.tables
    return index.tables[0]


def columns_of(site: TableSite) -> dict[str, ColumnSite]:
    return {c.attribute or c.name: c for c in site.columns}


# -- SQLAlchemy 2 declarative -------------------------------------------------

DECLARATIVE = dedent(
    """\
    class User(Base):
        __tablename__ = "users"

        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str] = mapped_column(String(255), index=True, unique=True)
        name = mapped_column("full_name", String(50))
        nickname: Mapped[str | None]
        org_id: Mapped[int] = mapped_column(
            ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False
        )
        created: Mapped[datetime] = mapped_column(server_default=func.now())
        flag: Mapped[bool] = mapped_column(sa.Boolean, server_default=text("0"), default=False)
        code = mapped_column(type_=String(3), comment="ISO", autoincrement=False)
    """
)


def test_a_declarative_class_is_a_table_site_on_its_name() -> None:
    site = only_table(DECLARATIVE)
    assert (site.table, site.class_name, site.items) == ("users", "User", ())
    assert site.span == Span(0, 0, 0, len("class User"))


def test_declarative_columns_carry_database_name_and_attribute() -> None:
    site = only_table(DECLARATIVE)
    assert [(c.name, c.attribute) for c in site.columns] == [
        ("id", "id"),
        ("email", "email"),
        ("full_name", "name"),  # the explicit name string wins
        ("nickname", "nickname"),
        ("org_id", "org_id"),
        ("created", "created"),
        ("flag", "flag"),
        ("code", "code"),
    ]


def test_a_declarative_column_spans_its_statement() -> None:
    cols = columns_of(only_table(DECLARATIVE))
    email = "    email: Mapped[str] = mapped_column(String(255), index=True, unique=True)"
    assert cols["email"].span == Span(4, 4, 4, len(email))
    assert cols["org_id"].span == Span(7, 4, 9, 5)  # three lines, through the ")"
    assert cols["nickname"].span == span_of(DECLARATIVE, "nickname: Mapped[str | None]")


def test_declarative_arguments_are_located() -> None:
    src = DECLARATIVE
    cols = columns_of(only_table(src))
    assert cols["id"].arguments == {
        "primary_key": span_of(src, "primary_key=True"),
        "annotation": span_of(src, "Mapped[int]", line=3),
    }
    assert cols["email"].arguments == {
        "type": span_of(src, "String(255)"),
        "index": span_of(src, "index=True"),
        "unique": span_of(src, "unique=True"),
        "annotation": span_of(src, "Mapped[str]"),
    }
    assert cols["name"].arguments == {
        "name": span_of(src, '"full_name"'),
        "type": span_of(src, "String(50)"),
    }
    assert cols["nickname"].arguments == {"annotation": span_of(src, "Mapped[str | None]")}
    assert cols["org_id"].arguments == {  # no "type": the annotation gives it
        "foreign_key": span_of(src, 'ForeignKey("orgs.id", ondelete="CASCADE")'),
        "nullable": span_of(src, "nullable=False"),
        "annotation": span_of(src, "Mapped[int]", line=7),
    }
    assert cols["created"].arguments["server_default"] == span_of(src, "server_default=func.now()")
    assert cols["flag"].arguments == {
        "type": span_of(src, "sa.Boolean"),
        "server_default": span_of(src, 'server_default=text("0")'),
        "default": span_of(src, "default=False"),
        "annotation": span_of(src, "Mapped[bool]"),
    }
    assert cols["code"].arguments == {
        "type": span_of(src, "type_=String(3)"),
        "comment": span_of(src, 'comment="ISO"'),
        "autoincrement": span_of(src, "autoincrement=False"),
    }


# -- legacy declarative, Flask-SQLAlchemy -------------------------------------

LEGACY = dedent(
    """\
    class Account(Base):
        __tablename__ = "accounts"
        id = Column(Integer, primary_key=True)
        login = Column("user_login", String(80), unique=True)
        balance = sa.Column(sa.Numeric(10, 2), nullable=False, server_default="0")
        owner_id = sa.Column(sa.Integer, sa.ForeignKey("users.id"), index=True)
        legacy = Column(String, name="old_name")
        seq = Column(Integer, Sequence("acc_seq"), primary_key=False)


    class Post(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        title = db.Column(db.String(200), nullable=False)
    """
)


def test_legacy_columns_under_any_prefix() -> None:
    index = index_source(LEGACY)
    accounts = index.table("accounts")
    assert accounts is not None
    assert [(c.name, c.attribute, c.span.line) for c in accounts.columns] == [
        ("id", "id", 2),
        ("user_login", "login", 3),
        ("balance", "balance", 4),
        ("owner_id", "owner_id", 5),
        ("old_name", "legacy", 6),  # name= keyword
        ("seq", "seq", 7),
    ]
    cols = columns_of(accounts)
    assert cols["id"].span == span_of(LEGACY, "id = Column(Integer, primary_key=True)")
    assert cols["id"].arguments == {
        "type": span_of(LEGACY, "Integer", line=2),
        "primary_key": span_of(LEGACY, "primary_key=True", line=2),
    }
    assert cols["login"].arguments["name"] == span_of(LEGACY, '"user_login"')
    assert cols["balance"].arguments["type"] == span_of(LEGACY, "sa.Numeric(10, 2)")
    assert cols["owner_id"].arguments == {
        "type": span_of(LEGACY, "sa.Integer"),
        "foreign_key": span_of(LEGACY, 'sa.ForeignKey("users.id")'),
        "index": span_of(LEGACY, "index=True"),
    }
    assert cols["legacy"].arguments["name"] == span_of(LEGACY, 'name="old_name"')
    assert cols["seq"].arguments["type"] == span_of(LEGACY, "Integer", line=7)
    assert cols["seq"].arguments["sequence"] == span_of(LEGACY, 'Sequence("acc_seq")')


def test_a_flask_model_without_tablename_is_found_by_class() -> None:
    index = index_source(LEGACY)
    post = index.table("post", "Post")  # Flask-SQLAlchemy names it at run time
    assert post is not None
    assert (post.table, post.class_name, post.span) == (None, "Post", span_of(LEGACY, "class Post"))
    assert [(c.name, c.span.line) for c in post.columns] == [("id", 11), ("title", 12)]
    assert index.table("post") is None  # no literal name to go by
    column = index.column("post", "title", class_name="Post")
    assert column is not None
    assert column.arguments["nullable"] == span_of(LEGACY, "nullable=False", line=12)


# -- what is not a column -----------------------------------------------------

NOT_COLUMNS = dedent(
    """\
    class Thing(Base):
        __tablename__ = "things"
        MAX = 10
        LIMIT: ClassVar[int] = 5
        plain: int = 3
        id: Mapped[int] = mapped_column(primary_key=True)
        parent: Mapped[Parent] = relationship(back_populates="things")
        children = relationship("Child")
        total = column_property(select(func.count()).scalar_subquery())
        alias = synonym("id")
        items: WriteOnlyMapped[Item] = relationship()
        a = b = Column(Integer)
        (x, y) = Column(Integer), Column(Integer)

        @hybrid_property
        def doubled(self) -> int:
            return self.id * 2

        @property
        def label(self) -> str:
            return str(self.id)

        def method(self) -> None:
            self.dynamic = Column(Integer)

        class Config:
            inner = Column(Integer)
            inner_mapped: Mapped[int]

        kept = deferred(Column(Text))
        counted = column_property(Column("n", Integer), deferred=True)
    """
)


def test_only_column_declarations_are_columns() -> None:
    site = only_table(NOT_COLUMNS)
    assert [(c.name, c.attribute) for c in site.columns] == [
        ("id", "id"),
        ("kept", "kept"),  # deferred(Column(...)) and column_property(Column(...))
        ("n", "counted"),  # declare columns; other wrapped expressions do not
    ]
    assert columns_of(site)["kept"].span == span_of(NOT_COLUMNS, "kept = deferred(Column(Text))")
    assert columns_of(site)["kept"].arguments == {"type": span_of(NOT_COLUMNS, "Text")}


def test_classes_that_declare_nothing_are_not_tables() -> None:
    src = dedent(
        """\
        class Status(enum.Enum):
            active = "active"

        class Admin(User):
            __mapper_args__ = {"polymorphic_identity": "admin"}

        class Schema(BaseModel):
            name: str
        """
    )
    assert index_source(src) == ModelIndex((), (), None)


# -- __table_args__ -----------------------------------------------------------

TABLE_ARGS = dedent(
    """\
    class Membership(Base):
        __tablename__ = "memberships"
        __table_args__ = (
            Index("ix_memberships_user", "user_id", "org_id", unique=True),
            UniqueConstraint("a", "b", name="uq_ab"),
            CheckConstraint("x > 0", name="ck_x"),
            sa.ForeignKeyConstraint(["user_id", "org_id"], ["u.id", "u.org"], name="fk_u"),
            PrimaryKeyConstraint("user_id", "org_id"),
            Index(None, text("lower(email)")),
            {"schema": "app"},
        )
        user_id: Mapped[int]


    class Note(Base):
        __tablename__ = "notes"
        __table_args__ = {"comment": "notes"}


    class Tagged(Base):
        __tablename__ = "tagged"
        __table_args__ = [Index("ix_tagged", "tag")]

        @declared_attr
        def __table_args__(cls):
            return (Index("ix_ignored", "x"),)
    """
)


def test_table_args_items() -> None:
    index = index_source(TABLE_ARGS)
    memberships = index.table("memberships")
    assert memberships is not None
    src = TABLE_ARGS
    assert memberships.items == (  # each spanning its whole call
        ItemSite(
            "index",
            "ix_memberships_user",
            ("user_id", "org_id"),
            span_of(src, 'Index("ix_memberships_user", "user_id", "org_id", unique=True)'),
        ),
        ItemSite(
            "unique", "uq_ab", ("a", "b"), span_of(src, 'UniqueConstraint("a", "b", name="uq_ab")')
        ),
        ItemSite("check", "ck_x", (), span_of(src, 'CheckConstraint("x > 0", name="ck_x")')),
        ItemSite(
            "fk",
            "fk_u",
            ("user_id", "org_id"),
            span_of(
                src,
                'sa.ForeignKeyConstraint(["user_id", "org_id"], ["u.id", "u.org"], name="fk_u")',
            ),
        ),
        ItemSite(
            "pk",
            None,
            ("user_id", "org_id"),
            span_of(src, 'PrimaryKeyConstraint("user_id", "org_id")'),
        ),
        ItemSite("index", None, (), span_of(src, 'Index(None, text("lower(email)"))')),
    )
    assert [c.name for c in memberships.columns] == ["user_id"]


def test_table_args_as_a_dict_a_list_or_a_function() -> None:
    index = index_source(TABLE_ARGS)
    notes = index.table("notes")
    assert notes is not None and notes.items == () and notes.columns == ()
    tagged = index.table("tagged")
    assert tagged is not None
    assert [(i.name, i.columns) for i in tagged.items] == [("ix_tagged", ("tag",))]


# -- Core ---------------------------------------------------------------------

CORE = dedent(
    """\
    users = Table(
        "users",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("email", String, index=True),
        Column(String),
        Index("ix_x", "email"),
        UniqueConstraint("email", name="uq_email"),
        schema="app",
    )
    orders: Table = sa.Table("orders", m, sa.Column("user_id", sa.ForeignKey("app.users.id")))
    Table("generated", metadata, Column("n", Integer))
    db.Table("flask_style", db.Column("id", db.Integer))
    """
)


def test_core_tables() -> None:
    index = index_source(CORE)
    assert [(t.table, t.class_name, t.span.line) for t in index.tables] == [
        ("users", None, 0),
        ("orders", None, 10),
        ("generated", None, 11),
        ("flask_style", None, 12),
    ]
    users = index.tables[0]
    assert users.span == Span(0, 0, 1, len('    "users"'))  # through the name argument
    assert index.tables[1].span == span_of(CORE, 'orders: Table = sa.Table("orders"')
    assert index.tables[2].span == span_of(CORE, 'Table("generated"')


def test_core_columns_and_items() -> None:
    users = index_source(CORE).tables[0]
    # Column(String) has no name: nothing could ask for it.
    assert [(c.name, c.attribute) for c in users.columns] == [("id", None), ("email", None)]
    email = users.columns[1]
    assert email.span == span_of(CORE, 'Column("email", String, index=True)')
    assert email.arguments == {
        "name": span_of(CORE, '"email"', line=4),
        "type": span_of(CORE, "String", line=4),
        "index": span_of(CORE, "index=True"),
    }
    assert users.items == (
        ItemSite("index", "ix_x", ("email",), span_of(CORE, 'Index("ix_x", "email")')),
        ItemSite(
            "unique",
            "uq_email",
            ("email",),
            span_of(CORE, 'UniqueConstraint("email", name="uq_email")'),
        ),
    )
    orders = index_source(CORE).tables[1]
    assert orders.columns[0].arguments["foreign_key"] == span_of(
        CORE, 'sa.ForeignKey("app.users.id")'
    )


def test_a_class_with_a_core_table() -> None:
    src = dedent(
        """\
        class Legacy(Base):
            __table__ = Table("legacy", Base.metadata, Column("id", Integer, primary_key=True))
        """
    )
    site = only_table(src)
    assert (site.table, site.class_name, site.span) == ("legacy", "Legacy", Span(0, 0, 0, 12))
    assert [(c.name, c.attribute) for c in site.columns] == [("id", None)]


# -- mixins and abstract classes ----------------------------------------------

MIXINS = dedent(
    """\
    class TimestampMixin:
        created_at: Mapped[datetime] = mapped_column(server_default=func.now())
        updated_at: Mapped[datetime | None]


    class Abstract(Base):
        __abstract__ = True
        id: Mapped[int] = mapped_column(primary_key=True)


    class Invoice(TimestampMixin, Abstract):
        __tablename__ = "invoices"
    """
)


def test_mixins_are_sites_without_a_table_name() -> None:
    index = index_source(MIXINS)
    assert [
        (t.table, t.class_name, t.span.line, [c.name for c in t.columns]) for t in index.tables
    ] == [
        (None, "TimestampMixin", 0, ["created_at", "updated_at"]),
        (None, "Abstract", 5, ["id"]),
        ("invoices", "Invoice", 10, []),  # what it inherits is known at run time only
    ]
    assert index.column("invoices", "created_at") is None
    mixin_column = index.column("invoices", "created_at", class_name="TimestampMixin")
    assert mixin_column is not None and mixin_column.span.line == 1


# -- where the metadata is ----------------------------------------------------

METADATA = dedent(
    """\
    metadata = MetaData(naming_convention={"ix": "ix_%(column_0_label)s"})
    metadata_obj = sa.MetaData()
    Base = declarative_base()
    Base2 = registry().generate_base()
    mapper_registry = registry()
    db = SQLAlchemy(model_class=Base)
    MetaData()
    engine = create_engine("sqlite://")


    class Base3(DeclarativeBase):
        metadata = metadata_obj


    class Base4(orm.DeclarativeBaseNoMeta):
        pass


    @as_declarative()
    class Base5:
        pass


    class Base6(MappedAsDataclass, DeclarativeBase):
        pass
    """
)


def test_metadata_sites() -> None:
    index = index_source(METADATA)
    src = METADATA
    assert index.metadata_sites == (
        span_of(src, "metadata = MetaData"),
        span_of(src, "metadata_obj = sa.MetaData"),
        span_of(src, "Base = declarative_base"),
        span_of(src, "Base2 = registry().generate_base"),
        span_of(src, "mapper_registry = registry"),
        span_of(src, "db = SQLAlchemy"),
        span_of(src, "class Base3"),
        span_of(src, "class Base4"),
        span_of(src, "class Base5"),  # the class line, not the decorator's
        span_of(src, "class Base6"),
    )
    assert index.tables == ()


# -- syntax errors ------------------------------------------------------------


def test_a_syntax_error_gives_an_empty_index_with_its_place() -> None:
    src = 'class A(Base):\n    __tablename__ = "a"\n    x = mapped_column(\n'
    index = index_source(src)
    assert index.tables == () and index.metadata_sites == ()
    line = "    x = mapped_column("
    assert index.syntax_error == Span(2, len(line) - 1, 2, len(line))  # at the open "("


def test_a_syntax_error_after_good_classes_is_placed_as_a_whole_parse_places_it() -> None:
    src = DECLARATIVE + "\n\nclass Broken(Base)\n    x = 1\n\n" + LEGACY
    index = index_source(src)
    assert index.tables == ()
    assert index.syntax_error is not None
    assert index.syntax_error == whole(src).syntax_error
    assert index.syntax_error.line == line_of(src, "class Broken(Base)")


def test_a_syntax_error_column_is_in_utf16_units() -> None:
    assert index_source('s = "😀" + $').syntax_error == Span(0, 11, 0, 12)


def test_a_nul_byte_is_a_syntax_error() -> None:
    assert index_source("x = 1\0").syntax_error is not None


# -- positions: UTF-16, line endings, byte order mark -------------------------

UNICODE = dedent(
    """\
    class Café(Base):
        __tablename__ = "cafés"
        motto = "naïve 😀 ☕"
        price: Mapped[int] = mapped_column(Integer, index=True)
        émoji: Mapped[str] = mapped_column(String, comment="😀", index=True)
    """
)


def test_columns_are_utf16_units() -> None:
    site = index_source(UNICODE).table("cafés")
    assert site is not None
    assert site.span == Span(0, 0, 0, len("class Café"))
    price, emoji = site.columns
    # The line before is not ASCII; this one is: str columns are exact.
    assert price.span == Span(
        3, 4, 3, len("    price: Mapped[int] = mapped_column(Integer, index=True)")
    )
    assert price.arguments["index"] == span_of(UNICODE, "index=True", line=3)
    # "é" is one UTF-16 unit (two UTF-8 bytes); "😀" is two (four bytes).
    line = UNICODE.splitlines()[4]
    comment = line.index("comment=")
    assert emoji.arguments["comment"] == Span(4, comment, 4, comment + len('comment="😀"') + 1)
    index_at = line.index("index=True") + 1
    assert emoji.arguments["index"] == Span(4, index_at, 4, index_at + len("index=True"))
    assert emoji.span == Span(4, 4, 4, len(line) + 1)


def test_utf16_column() -> None:
    assert utf16_column("abc", 2) == 2
    assert utf16_column("é😀x", 1) == 1
    assert utf16_column("é😀x", 2) == 3
    assert utf16_column("é😀x", 3) == 4


def test_crlf_lone_cr_and_a_byte_order_mark_place_as_plain_newlines() -> None:
    expected = index_source(DECLARATIVE)
    assert index_source(DECLARATIVE.replace("\n", "\r\n")) == expected
    assert index_source(DECLARATIVE.replace("\n", "\r")) == expected
    assert index_source("\ufeff" + DECLARATIVE) == expected
    mixed = "a = 1\rb = 2\r\nc = 3\n" + LEGACY  # ast counts each of these as a line end
    assert index_source(mixed) == whole(mixed)
    assert [t.span.line for t in index_source(mixed).tables] == [3, 13]


# -- lookups ------------------------------------------------------------------


def test_table_lookup() -> None:
    src = dedent(
        """\
        class A(Base):
            __tablename__ = "events"
            __table_args__ = {"schema": "a"}


        class B(Base):
            __tablename__ = "events"
            __table_args__ = {"schema": "b"}
        """
    )
    index = index_source(src)
    a, b = index.tables
    assert index.table("events") is a
    assert index.table("events", "B") is b
    assert index.table("events", "Unknown") is a
    assert index.table("renamed", "B") is b  # the text changed since the worker looked
    assert index.table("missing") is None


def test_column_lookup() -> None:
    index = index_source(DECLARATIVE)
    full_name = index.column("users", "full_name")
    assert full_name is not None and full_name.attribute == "name"
    assert index.column("users", "full_name", "name") is full_name
    assert index.column("users", "other_name", "name") is full_name  # found by attribute
    assert index.column("users", "missing") is None
    assert index.column("missing", "id") is None


# -- a realistic models file --------------------------------------------------

REALISTIC = dedent(
    '''\
    """The shop's models.

    Prose at column 0 inside the module docstring, and code that is only text:
    class NotAModel(Base):
        __tablename__ = "not_a_table"
    """

    from __future__ import annotations

    import enum
    from datetime import datetime
    from typing import TYPE_CHECKING, ClassVar

    import sqlalchemy as sa
    from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, String, Table, func, text
    from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column, relationship

    if TYPE_CHECKING:
        from shop.other import Thing

    metadata_obj = MetaData(naming_convention={"ix": "ix_%(column_0_label)s"})


    class Base(DeclarativeBase):
        metadata = metadata_obj


    class TimestampMixin:
        created_at: Mapped[datetime] = mapped_column(server_default=func.now())
        updated_at: Mapped[datetime | None]


    class Status(enum.Enum):
        active = "active"
        closed = "closed"


    class User(TimestampMixin, Base):
        """Someone who buys."""

        __tablename__ = "users"
        __table_args__ = (
            Index("ix_users_email_name", "email", "full_name"),
            sa.UniqueConstraint("email", name="uq_users_email"),
            {"comment": "people"},
        )

        MAX_NAME: ClassVar[int] = 50

        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str] = mapped_column(String(255), index=True, unique=True)
        name = mapped_column("full_name", String(MAX_NAME))
        nickname: Mapped[str | None]
        status: Mapped[Status] = mapped_column(server_default=text("'active'"))
        orders: Mapped[list[Order]] = relationship(back_populates="user")

        @property
        def label(self) -> str:
            return f"{self.name} <{self.email}>"


    @dataclass_like
    class Order(TimestampMixin, Base):
        __tablename__ = "orders"
        __table_args__ = (
            sa.CheckConstraint("total >= 0", name="ck_orders_total"),
            {"schema": "shop"},
        )

        id = Column(Integer, primary_key=True)
        user_id = Column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
        total = sa.Column("amount", sa.Numeric(10, 2), nullable=False, server_default="0")
        note = deferred(Column(sa.Text))
        user: Mapped[User] = relationship(back_populates="orders")


    class Product(Base):
        __tablename__ = "products"
        __table_args__ = {"comment": "things we sell"}

        sku: Mapped[str] = mapped_column(String(32), primary_key=True)
        title: Mapped[str] = mapped_column(comment="shown to customers")


    class AuditEntry(Base):
        @declared_attr.directive
        def __tablename__(cls) -> str:
            return "audit_" + cls.__name__.lower()

        id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
        at: Mapped[datetime] = mapped_column(index=True)


    tags = Table(
        "tags",
        metadata_obj,
        Column("id", Integer, primary_key=True),
        Column("label", String(40), index=True),
        Index("ix_tags_label_lower", text("lower(label)")),
        schema="shop",
    )

    sa.Table(
        "product_tags",
        metadata_obj,
        sa.Column("product_sku", ForeignKey("products.sku"), primary_key=True),
        sa.Column("tag_id", ForeignKey("shop.tags.id"), primary_key=True),
    )
    '''
)


def test_every_table_and_column_of_a_realistic_file_is_on_its_line() -> None:
    src = REALISTIC
    index = index_source(src)
    assert index.syntax_error is None
    assert index.metadata_sites == (
        span_of(src, "metadata_obj = MetaData"),
        span_of(src, "class Base"),
    )
    assert [(t.table, t.class_name, t.span.line) for t in index.tables] == [
        (None, "TimestampMixin", line_of(src, "class TimestampMixin")),
        ("users", "User", line_of(src, "class User")),
        ("orders", "Order", line_of(src, "class Order")),
        ("products", "Product", line_of(src, "class Product")),
        (None, "AuditEntry", line_of(src, "class AuditEntry")),
        ("tags", None, line_of(src, "tags = Table(")),
        ("product_tags", None, line_of(src, "sa.Table(")),
    ]
    found = {
        (t.table or t.class_name, c.name, c.attribute, c.span.line)
        for t in index.tables
        for c in t.columns
    }
    expected = {
        ("TimestampMixin", "created_at", "created_at", "created_at: Mapped"),
        ("TimestampMixin", "updated_at", "updated_at", "updated_at: Mapped"),
        ("users", "id", "id", "id: Mapped[int] = mapped_column(primary_key=True)"),
        ("users", "email", "email", "email: Mapped[str]"),
        ("users", "full_name", "name", 'name = mapped_column("full_name"'),
        ("users", "nickname", "nickname", "nickname: Mapped"),
        ("users", "status", "status", "status: Mapped"),
        ("orders", "id", "id", "id = Column(Integer"),
        ("orders", "user_id", "user_id", "user_id = Column("),
        ("orders", "amount", "total", "total = sa.Column"),
        ("orders", "note", "note", "note = deferred"),
        ("products", "sku", "sku", "sku: Mapped"),
        ("products", "title", "title", "title: Mapped"),
        ("AuditEntry", "id", "id", "id: Mapped[int] = mapped_column(sa.BigInteger"),
        ("AuditEntry", "at", "at", "at: Mapped[datetime] = mapped_column(index=True)"),
        ("tags", "id", None, 'Column("id"'),
        ("tags", "label", None, 'Column("label"'),
        ("product_tags", "product_sku", None, '"product_sku"'),
        ("product_tags", "tag_id", None, '"tag_id"'),
    }
    assert found == {(t, c, a, line_of(src, fragment)) for t, c, a, fragment in expected}
    items = {(i.kind, i.name, i.span.line) for t in index.tables for i in t.items}
    assert items == {
        ("index", "ix_users_email_name", line_of(src, 'Index("ix_users_email_name"')),
        ("unique", "uq_users_email", line_of(src, "sa.UniqueConstraint(")),
        ("check", "ck_orders_total", line_of(src, "sa.CheckConstraint(")),
        ("index", "ix_tags_label_lower", line_of(src, 'Index("ix_tags_label_lower"')),
    }


# -- pieces: a text is read in pieces, each remembered ------------------------


def whole(text: str) -> ModelIndex:
    """The index from one parse of the whole text: no pieces, nothing remembered."""
    indexed = locate._index_piece(text, 0)
    if isinstance(indexed, Span):
        return ModelIndex((), (), indexed)
    return ModelIndex(indexed.tables, indexed.metadata_sites, None)


TRICKY = {
    "else at column 0": dedent(
        """\
        if TYPE_CHECKING:
            t = Table("a", m)
        else:
            t = Table("b", m)
        try:
            import x
        except ImportError:
            u = Table("c", m)
        finally:
            metadata = MetaData()
        """
    ),
    "decorators": dedent(
        """\
        @as_declarative()
        class Base:
            pass
        @mapper_registry.mapped
        @other(
        x=1)
        class A:
            __tablename__ = "a"
        """
    ),
    "triple quotes in a comment": dedent(
        '''\
        # a """ in a comment
        class A(Base):
            __tablename__ = "a"
        x = 1
        class B(Base):
            __tablename__ = "b"
        '''
    ),
    "column 0 inside strings": dedent(
        """\
        SQL = '''
        class Fake(Base):
            __tablename__ = "fake"
        '''
        DOC = \"\"\"
        t = Table("fake", m)
        \"\"\"
        class Real(Base):
            __tablename__ = "real"
        """
    ),
    "backslash continuation": 'users = \\\nTable("u", m)\nclass A(Base):\n    x = Column(Text)\n',
}


def test_tricky_texts_index_as_one_parse_does() -> None:
    for name, text in TRICKY.items():
        assert index_source(text) == whole(text), name
        assert index_source(text) == whole(text), name  # now from remembered pieces
    assert [t.table for t in index_source(TRICKY["else at column 0"]).tables] == ["a", "b", "c"]
    assert [t.table for t in index_source(TRICKY["column 0 inside strings"]).tables] == ["real"]


def test_the_text_is_cut_before_top_level_statements_only() -> None:
    # Not inside strings, nor between a decorator and its class: such a cut
    # would still index right (the rest would be parsed whole), only slower.
    assert [piece.split("\n")[0] for piece in locate._pieces(TRICKY["decorators"])] == [
        "@as_declarative()",
        "@mapper_registry.mapped",
        "class A:",  # a wrong guess after a decorator over lines: the piece before fails
    ]
    assert [
        piece.split("\n")[0] for piece in locate._pieces(TRICKY["column 0 inside strings"])
    ] == [
        "SQL = '''",
        'DOC = """',
        "class Real(Base):",
    ]


def test_pieces_that_moved_are_placed_on_their_new_lines() -> None:
    before = index_source(REALISTIC)
    after = index_source("\n\n# a new comment\n" + REALISTIC)
    assert after == whole("\n\n# a new comment\n" + REALISTIC)
    assert [t.span.line for t in after.tables] == [t.span.line + 3 for t in before.tables]


SNIPPETS = [
    "",
    '"""',
    "'''",
    "else:",
    "@decorator",
    "    x: Mapped[int] = mapped_column(index=True)",
    "class Extra(Base):",
    '    __tablename__ = "extra"',
    't = Table("extra", m, Column("id", Integer))',
    ")",
    "x = (",
    "# comment",
    "    é: Mapped[str] = mapped_column(comment='😀')",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, REALISTIC.count("\n")), st.sampled_from([None, *SNIPPETS])),
        max_size=4,
    )
)
def test_any_edit_indexes_as_one_parse_does(edits: list[tuple[int, str | None]]) -> None:
    lines = REALISTIC.split("\n")
    for at, snippet in edits:
        at = min(at, len(lines) - 1)
        if snippet is None:
            del lines[at]
        else:
            lines.insert(at, snippet)
    text = "\n".join(lines)
    assert index_source(text) == whole(text)
