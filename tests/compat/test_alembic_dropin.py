"""Distill runs an Alembic project's history unchanged and shares its database.

The acceptance suite for the drop-in promise.  Each project is made by the
installed Alembic (``alembic init`` with the ``generic`` and the ``pyproject``
template); its revision scripts are written by hand in Alembic's style (``from
alembic import op``) and its ``env.py`` is edited as a user would (the models'
``target_metadata``, an ``include_object`` hook).  Alembic 1.20 is the
reference: every step it is asked to take must succeed, and Distill must leave
the same schema, ``alembic_version`` rows and data behind.

- ``test_walk_history_step_by_step``: Alembic on database A, Distill on
  database B, one revision at a time up to the head and back to base; after
  every step the reflected schemas, version rows, data and the revisions
  ``current`` prints must agree.
- ``test_tools_take_turns_on_one_database``: Alembic and Distill on one
  database, each picking up where the other stopped.
- ``test_no_tables_alembic_would_call_drift``: after ``distill upgrade head``
  the database holds exactly the tables Alembic's would, and ``alembic check``
  finds nothing.

Alembic runs as a subprocess through its own command-line entry point
(``alembic.config.main``, what ``python -m alembic`` calls); the commands of one
step share a process to halve the start-up cost.  Distill runs as ``python -m
distill``, one process per command.  Both run with the project folder as working
directory, so each finds the project's ``alembic.ini`` / ``pyproject.toml``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.alembic_projects import (
    Outcome,
    alembic_init,
    differences,
    replace_once,
    require_success,
    revision_script,
    revisions_in,
    run_alembic,
    run_distill,
    run_side_by_side,
    scratch_databases,
    set_ini,
    snapshot,
    use_models,
    write,
)

CORE = "a1f0c3d2e401"  # users, orders; seed rows
PROFILE = "b2e1d4c3f502"  # users.display_name; data migration with inline_literal
TAGS = "c3d2e5f4a603"  # branch "feature" (more_versions/): tags
BATCH = "d4c3f6a5b704"  # batch_alter_table, recreate="auto"
RENAME = "e5f4a7b6c805"  # orders -> purchases, order_tags; depends_on TAGS
COLOR = "f6a5b8c7d906"  # feature: tags.color, bulk_insert
GETBIND = "0718c9d8ea07"  # op.get_bind() data migration, op.get_context().dialect
MERGE = "1829dae9fb08"  # merges GETBIND and COLOR
REBUILD = "293aebfa0c09"  # batch_alter_table(recreate="always")
SHOP_REVISIONS = (CORE, PROFILE, TAGS, BATCH, RENAME, COLOR, GETBIND, MERGE, REBUILD)

SHOP_MODELS = """
    from datetime import datetime

    import sqlalchemy as sa
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class User(Base):
        __tablename__ = "users"
        __table_args__ = (
            sa.UniqueConstraint("email", name="uq_users_email"),
            sa.UniqueConstraint("phone", name="uq_users_phone"),
        )

        id: Mapped[int] = mapped_column(primary_key=True)
        email: Mapped[str] = mapped_column(sa.String(120))
        name: Mapped[str] = mapped_column(sa.String(80), index=True)
        is_active: Mapped[bool] = mapped_column(server_default=sa.true())
        created_at: Mapped[datetime] = mapped_column(server_default=sa.func.current_timestamp())
        display_name: Mapped[str | None] = mapped_column(sa.String(100), index=True)
        phone: Mapped[str | None] = mapped_column(sa.String(20))


    class Purchase(Base):
        __tablename__ = "purchases"
        __table_args__ = (
            sa.CheckConstraint("total >= 0", name="ck_orders_total_positive"),
            sa.Index("ix_orders_status", "status"),
        )

        id: Mapped[int] = mapped_column(primary_key=True)
        user_id: Mapped[int] = mapped_column(
            sa.ForeignKey("users.id", name="fk_orders_user_id", ondelete="CASCADE")
        )
        status: Mapped[str] = mapped_column(sa.String(20), server_default="pending")
        total: Mapped[float] = mapped_column(sa.Numeric(10, 2), server_default="0")


    class Tag(Base):
        __tablename__ = "tags"
        __table_args__ = (sa.UniqueConstraint("owner_id", "label", name="uq_tags_owner_label"),)

        id: Mapped[int] = mapped_column(primary_key=True)
        label: Mapped[str] = mapped_column(sa.String(30))
        owner_id: Mapped[int | None] = mapped_column(
            sa.ForeignKey("users.id", name="fk_tags_owner_id")
        )
        color: Mapped[str] = mapped_column(sa.String(7), server_default="#777777", index=True)


    order_tags = sa.Table(
        "order_tags",
        Base.metadata,
        sa.Column(
            "purchase_id",
            sa.ForeignKey("purchases.id", name="fk_order_tags_purchase", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tag_id", sa.ForeignKey("tags.id", name="fk_order_tags_tag"), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("note", sa.String(50)),
        sa.Index("ix_order_tags_position", "position"),
    )
"""

SHOP_SCRIPTS = {
    f"alembic/versions/{CORE}_create_users_and_orders.py": revision_script(
        CORE,
        None,
        "create users and orders",
        """
        op.create_table(
            "users",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("email", sa.String(length=120), nullable=False),
            sa.Column("name", sa.String(length=50), nullable=True),
            sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
            sa.Column(
                "created_at",
                sa.DateTime(),
                server_default=sa.func.current_timestamp(),
                nullable=False,
            ),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("email", name="uq_users_email"),
        )
        op.create_index("ix_users_name", "users", ["name"], unique=False)
        op.create_table(
            "orders",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("status", sa.String(length=20), server_default="new", nullable=False),
            sa.Column("total", sa.Numeric(10, 2), server_default="0", nullable=False),
            sa.Column("note", sa.Text(), nullable=True),
            sa.CheckConstraint("total >= 0", name="ck_orders_total_positive"),
            sa.ForeignKeyConstraint(
                ["user_id"], ["users.id"], name="fk_orders_user_id", ondelete="CASCADE"
            ),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_orders_status", "orders", ["status"], unique=False)

        users = sa.table(
            "users",
            sa.column("id", sa.Integer),
            sa.column("email", sa.String),
            sa.column("name", sa.String),
        )
        op.bulk_insert(
            users,
            [
                {"id": 1, "email": "alice@example.com", "name": "alice"},
                {"id": 2, "email": "bob@example.com", "name": "bob"},
                {"id": 3, "email": "carol@example.com", "name": "carol"},
            ],
        )
        orders = sa.table(
            "orders",
            sa.column("id", sa.Integer),
            sa.column("user_id", sa.Integer),
            sa.column("total", sa.Numeric),
            sa.column("note", sa.Text),
        )
        op.bulk_insert(
            orders,
            [
                {"id": 1, "user_id": 1, "total": 12.5, "note": "first"},
                {"id": 2, "user_id": 1, "total": 250, "note": None},
                {"id": 3, "user_id": 3, "total": 99.99, "note": "gift"},
            ],
        )
        """,
        """
        op.drop_index("ix_orders_status", table_name="orders")
        op.drop_table("orders")
        op.drop_index("ix_users_name", table_name="users")
        op.drop_table("users")
        """,
    ),
    f"alembic/versions/{PROFILE}_add_display_name.py": revision_script(
        PROFILE,
        CORE,
        "add display name",
        """
        op.add_column("users", sa.Column("display_name", sa.String(length=100), nullable=True))
        op.execute(sa.text("UPDATE users SET display_name = UPPER(name)"))
        users = sa.table(
            "users", sa.column("email", sa.String), sa.column("display_name", sa.String)
        )
        op.execute(
            users.update()
            .where(users.c.email == op.inline_literal("carol@example.com"))
            .values(display_name=op.inline_literal("Carol C."))
        )
        op.create_index("ix_users_display_name", "users", ["display_name"], unique=False)
        """,
        """
        op.drop_index("ix_users_display_name", table_name="users")
        op.drop_column("users", "display_name")
        """,
    ),
    f"alembic/more_versions/{TAGS}_create_tags.py": revision_script(
        TAGS,
        CORE,
        "create tags",
        """
        op.create_table(
            "tags",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("label", sa.String(length=30), nullable=False),
            sa.Column("owner_id", sa.Integer(), nullable=True),
            sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name="fk_tags_owner_id"),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("owner_id", "label", name="uq_tags_owner_label"),
        )
        """,
        """
        op.drop_table("tags")
        """,
        branch_labels=("feature",),
    ),
    f"alembic/versions/{BATCH}_batch_alter_users_and_orders.py": revision_script(
        BATCH,
        PROFILE,
        "batch alter users and orders",
        """
        with op.batch_alter_table("users") as batch_op:
            batch_op.alter_column(
                "name",
                existing_type=sa.String(length=50),
                type_=sa.String(length=80),
                nullable=False,
            )
            batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
            batch_op.create_unique_constraint("uq_users_phone", ["phone"])
        with op.batch_alter_table("orders") as batch_op:
            batch_op.drop_column("note")
            batch_op.alter_column(
                "status",
                existing_type=sa.String(length=20),
                existing_nullable=False,
                server_default="pending",
                existing_server_default="new",
            )
        """,
        """
        with op.batch_alter_table("orders") as batch_op:
            batch_op.alter_column(
                "status",
                existing_type=sa.String(length=20),
                existing_nullable=False,
                server_default="new",
                existing_server_default="pending",
            )
            batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        with op.batch_alter_table("users") as batch_op:
            batch_op.drop_constraint("uq_users_phone", type_="unique")
            batch_op.drop_column("phone")
            batch_op.alter_column(
                "name",
                existing_type=sa.String(length=80),
                type_=sa.String(length=50),
                nullable=True,
            )
        """,
    ),
    f"alembic/versions/{RENAME}_rename_orders_to_purchases.py": revision_script(
        RENAME,
        BATCH,
        "rename orders to purchases",
        """
        op.rename_table("orders", "purchases")
        op.create_table(
            "order_tags",
            sa.Column("purchase_id", sa.Integer(), nullable=False),
            sa.Column("tag_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["purchase_id"],
                ["purchases.id"],
                name="fk_order_tags_purchase",
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], name="fk_order_tags_tag"),
            sa.PrimaryKeyConstraint("purchase_id", "tag_id"),
        )
        """,
        """
        op.drop_table("order_tags")
        op.rename_table("purchases", "orders")
        """,
        depends_on=TAGS,
    ),
    f"alembic/more_versions/{COLOR}_tag_colors.py": revision_script(
        COLOR,
        TAGS,
        "tag colors",
        """
        op.add_column(
            "tags",
            sa.Column("color", sa.String(length=7), server_default="#777777", nullable=False),
        )
        tags = sa.table(
            "tags",
            sa.column("id", sa.Integer),
            sa.column("label", sa.String),
            sa.column("owner_id", sa.Integer),
            sa.column("color", sa.String),
        )
        op.bulk_insert(
            tags,
            [
                {"id": 1, "label": "vip", "owner_id": 1, "color": "#ff0000"},
                {"id": 2, "label": "vip", "owner_id": 3, "color": "#00ff00"},
                {"id": 3, "label": "public", "owner_id": None, "color": "#777777"},
            ],
        )
        """,
        """
        op.execute("DELETE FROM tags WHERE id IN (1, 2, 3)")
        op.drop_column("tags", "color")
        """,
    ),
    f"alembic/versions/{GETBIND}_classify_purchases.py": revision_script(
        GETBIND,
        RENAME,
        "classify purchases",
        """
        conn = op.get_bind()
        rows = conn.execute(sa.text("SELECT id, total FROM purchases ORDER BY id")).all()
        for purchase_id, total in rows:
            conn.execute(
                sa.text("UPDATE purchases SET status = :status WHERE id = :id"),
                {"status": "big" if total >= 100 else "small", "id": purchase_id},
            )
        if op.get_context().dialect.name in ("mysql", "mariadb"):
            op.execute("UPDATE users SET display_name = CONCAT(display_name, ' <', email, '>')")
        else:
            op.execute("UPDATE users SET display_name = display_name || ' <' || email || '>'")
        """,
        """
        conn = op.get_bind()
        users = conn.execute(sa.text("SELECT id, display_name FROM users")).all()
        for user_id, display_name in users:
            conn.execute(
                sa.text("UPDATE users SET display_name = :name WHERE id = :id"),
                {"name": display_name.split(" <")[0], "id": user_id},
            )
        op.execute("UPDATE purchases SET status = 'pending'")
        """,
    ),
    f"alembic/versions/{MERGE}_merge_feature.py": revision_script(
        MERGE,
        (GETBIND, COLOR),
        "merge feature",
        """
        op.create_index("ix_tags_color", "tags", ["color"], unique=False)
        order_tags = sa.table(
            "order_tags", sa.column("purchase_id", sa.Integer), sa.column("tag_id", sa.Integer)
        )
        op.bulk_insert(
            order_tags,
            [{"purchase_id": 1, "tag_id": 1}, {"purchase_id": 2, "tag_id": 1}],
        )
        """,
        """
        op.execute(sa.text("DELETE FROM order_tags"))
        op.drop_index("ix_tags_color", table_name="tags")
        """,
    ),
    f"alembic/versions/{REBUILD}_rebuild_order_tags.py": revision_script(
        REBUILD,
        MERGE,
        "rebuild order tags",
        """
        # InnoDB's foreign key names are database-wide: the copy could not reuse them
        mariadb = op.get_context().dialect.name in ("mysql", "mariadb")
        with op.batch_alter_table(
            "order_tags", recreate="auto" if mariadb else "always"
        ) as batch_op:
            batch_op.add_column(
                sa.Column("position", sa.Integer(), server_default="0", nullable=False)
            )
            batch_op.add_column(sa.Column("note", sa.String(length=50), nullable=True))
            batch_op.create_index("ix_order_tags_position", ["position"], unique=False)
        """,
        """
        mariadb = op.get_context().dialect.name in ("mysql", "mariadb")
        with op.batch_alter_table(
            "order_tags", recreate="auto" if mariadb else "always"
        ) as batch_op:
            batch_op.drop_index("ix_order_tags_position")
            batch_op.drop_column("note")
            batch_op.drop_column("position")
        """,
    ),
}


def build_shop(root: Path, url: str) -> Path:
    """The generic template; revisions in two version folders; models in app/."""
    alembic_init(root, "generic")
    ini = root / "alembic.ini"
    set_ini(ini, "sqlalchemy.url", url)
    # the generic template says path_separator = os
    assert "\npath_separator = os\n" in ini.read_text()
    set_ini(
        ini,
        "version_locations",
        os.pathsep.join(["%(here)s/alembic/versions", "%(here)s/alembic/more_versions"]),
    )
    use_models(root / "alembic" / "env.py")
    write(root / "app" / "__init__.py", "")
    write(root / "app" / "models.py", SHOP_MODELS)
    for relative, text in SHOP_SCRIPTS.items():
        write(root / relative, text)
    return root


# --- the "blog" project: pyproject template, env.py with include_object ---------

POSTS = "3a4b5c6d7e01"  # authors, posts, a raw-SQL legacy table
SLUG = "4b5c6d7e8f02"  # posts.slug: add, fill, make NOT NULL, unique index
ARTICLES = "5c6d7e8f9003"  # rename table and column, drop column
COUNTS = "6d7e8f901a04"  # from alembic import context; is_offline_mode()
BLOG_REVISIONS = (POSTS, SLUG, ARTICLES, COUNTS)

BLOG_MODELS = """
    from datetime import date

    import sqlalchemy as sa
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


    class Base(DeclarativeBase):
        pass


    class Author(Base):
        __tablename__ = "authors"

        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(sa.String(80))
        email: Mapped[str] = mapped_column(sa.String(120), unique=True)
        joined: Mapped[date | None] = mapped_column(server_default=sa.text("'2020-01-01'"))
        post_count: Mapped[int] = mapped_column(server_default="0")


    class Article(Base):
        __tablename__ = "articles"
        __table_args__ = (
            sa.Index("ix_posts_author_published", "author_id", "published"),
            sa.Index("ix_posts_slug", "slug", unique=True),
            sa.Index("ix_articles_title", "title"),
        )

        id: Mapped[int] = mapped_column(primary_key=True)
        author_id: Mapped[int | None] = mapped_column(
            sa.ForeignKey("authors.id", ondelete="SET NULL")
        )
        title: Mapped[str] = mapped_column(sa.String(200))
        content: Mapped[str | None] = mapped_column(sa.Text)
        published: Mapped[bool] = mapped_column(server_default=sa.false())
        views: Mapped[int] = mapped_column(sa.BigInteger, server_default=sa.text("0"))
        slug: Mapped[str] = mapped_column(sa.String(200))
"""

INCLUDE_OBJECT = '''

def include_object(object, name, type_, reflected, compare_to):
    """legacy_* tables belong to another application."""
    return not (type_ == "table" and name.startswith("legacy_"))

'''

BLOG_SCRIPTS = {
    f"alembic/versions/{POSTS}_authors_and_posts.py": revision_script(
        POSTS,
        None,
        "authors and posts",
        """
        op.create_table(
            "authors",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(length=80), nullable=False),
            sa.Column("email", sa.String(length=120), nullable=False),
            sa.Column("nickname", sa.String(length=40), nullable=True),
            sa.Column("joined", sa.Date(), server_default=sa.text("'2020-01-01'"), nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("email"),
        )
        op.create_table(
            "posts",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("author_id", sa.Integer(), nullable=True),
            sa.Column("title", sa.String(length=200), nullable=False),
            sa.Column("body", sa.Text(), nullable=True),
            sa.Column("published", sa.Boolean(), server_default=sa.false(), nullable=False),
            sa.Column("views", sa.Integer(), server_default=sa.text("0"), nullable=False),
            sa.ForeignKeyConstraint(["author_id"], ["authors.id"], ondelete="SET NULL"),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(
            "ix_posts_author_published", "posts", ["author_id", "published"], unique=False
        )
        op.execute(
            sa.text("CREATE TABLE legacy_import (id INTEGER PRIMARY KEY, payload VARCHAR(200))")
        )
        op.execute(sa.text("INSERT INTO legacy_import (id, payload) VALUES (1, 'from v1')"))

        authors = sa.table(
            "authors",
            sa.column("id", sa.Integer),
            sa.column("name", sa.String),
            sa.column("email", sa.String),
            sa.column("nickname", sa.String),
        )
        op.bulk_insert(
            authors,
            [
                {"id": 1, "name": "Ada", "email": "ada@example.com", "nickname": "countess"},
                {"id": 2, "name": "Brian", "email": "brian@example.com", "nickname": None},
            ],
        )
        posts = sa.table(
            "posts",
            sa.column("id", sa.Integer),
            sa.column("author_id", sa.Integer),
            sa.column("title", sa.String),
            sa.column("body", sa.Text),
            sa.column("published", sa.Boolean),
        )
        op.bulk_insert(
            posts,
            [
                {"id": 1, "author_id": 1, "title": "Notes On The Engine", "body": "...",
                 "published": True},
                {"id": 2, "author_id": 1, "title": "Second Thoughts", "body": None,
                 "published": False},
                {"id": 3, "author_id": 2, "title": "Hello World", "body": "hi",
                 "published": True},
                {"id": 4, "author_id": None, "title": "Orphan", "body": None,
                 "published": False},
            ],
        )
        """,
        """
        op.execute(sa.text("DROP TABLE legacy_import"))
        # no drop_index first: on MariaDB that index serves the foreign key
        op.drop_table("posts")
        op.drop_table("authors")
        """,
    ),
    f"alembic/versions/{SLUG}_post_slugs.py": revision_script(
        SLUG,
        POSTS,
        "post slugs",
        """
        op.add_column("posts", sa.Column("slug", sa.String(length=200), nullable=True))
        op.execute(sa.text("UPDATE posts SET slug = REPLACE(LOWER(title), ' ', '-')"))
        if op.get_context().dialect.name == "sqlite":
            with op.batch_alter_table("posts") as batch_op:
                batch_op.alter_column("slug", existing_type=sa.String(length=200), nullable=False)
                batch_op.alter_column(
                    "views",
                    existing_type=sa.Integer(),
                    type_=sa.BigInteger(),
                    existing_nullable=False,
                    existing_server_default=sa.text("0"),
                )
        else:
            op.alter_column("posts", "slug", existing_type=sa.String(length=200), nullable=False)
            op.alter_column(
                "posts",
                "views",
                existing_type=sa.Integer(),
                type_=sa.BigInteger(),
                existing_nullable=False,
                existing_server_default=sa.text("0"),
            )
        op.create_index("ix_posts_slug", "posts", ["slug"], unique=True)
        """,
        """
        op.drop_index("ix_posts_slug", table_name="posts")
        if op.get_context().dialect.name == "sqlite":
            with op.batch_alter_table("posts") as batch_op:
                batch_op.alter_column(
                    "views",
                    existing_type=sa.BigInteger(),
                    type_=sa.Integer(),
                    existing_nullable=False,
                    existing_server_default=sa.text("0"),
                )
                batch_op.drop_column("slug")
        else:
            op.alter_column(
                "posts",
                "views",
                existing_type=sa.BigInteger(),
                type_=sa.Integer(),
                existing_nullable=False,
                existing_server_default=sa.text("0"),
            )
            op.drop_column("posts", "slug")
        """,
    ),
    f"alembic/versions/{ARTICLES}_posts_become_articles.py": revision_script(
        ARTICLES,
        SLUG,
        "posts become articles",
        """
        op.rename_table("posts", "articles")
        op.alter_column("articles", "body", new_column_name="content", existing_type=sa.Text())
        op.drop_column("authors", "nickname")
        op.create_index("ix_articles_title", "articles", ["title"], unique=False)
        """,
        """
        op.drop_index("ix_articles_title", table_name="articles")
        op.add_column("authors", sa.Column("nickname", sa.String(length=40), nullable=True))
        op.alter_column("articles", "content", new_column_name="body", existing_type=sa.Text())
        op.rename_table("articles", "posts")
        """,
    ),
    f"alembic/versions/{COUNTS}_author_post_counts.py": revision_script(
        COUNTS,
        ARTICLES,
        "author post counts",
        """
        op.add_column(
            "authors",
            sa.Column("post_count", sa.Integer(), server_default="0", nullable=False),
        )
        if context.is_offline_mode():
            op.execute(
                "UPDATE authors SET post_count = "
                "(SELECT COUNT(*) FROM articles WHERE articles.author_id = authors.id)"
            )
        else:
            counts = op.get_bind().execute(
                sa.text(
                    "SELECT author_id, COUNT(*) FROM articles "
                    "WHERE author_id IS NOT NULL GROUP BY author_id"
                )
            )
            authors = sa.table(
                "authors", sa.column("id", sa.Integer), sa.column("post_count", sa.Integer)
            )
            for author_id, count in counts.all():
                op.execute(
                    authors.update()
                    .where(authors.c.id == op.inline_literal(author_id))
                    .values(post_count=op.inline_literal(count))
                )
        """,
        """
        op.drop_column("authors", "post_count")
        """,
        imports="from alembic import context\n",
    ),
}


def build_blog(root: Path, url: str) -> Path:
    """The pyproject template ([tool.alembic]); env.py with include_object."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[project]\nname = "blog"\nversion = "0.1"\n')
    alembic_init(root, "pyproject")
    assert "[tool.alembic]" in (root / "pyproject.toml").read_text()
    set_ini(root / "alembic.ini", "sqlalchemy.url", url)
    env_py = root / "alembic" / "env.py"
    use_models(env_py)
    replace_once(
        env_py,
        "\n\ndef run_migrations_offline()",
        f"{INCLUDE_OBJECT}\ndef run_migrations_offline()",
    )
    replace_once(
        env_py,
        "context.configure(\n            connection=connection, target_metadata=target_metadata\n"
        "        )",
        "context.configure(\n            connection=connection,\n"
        "            target_metadata=target_metadata,\n"
        "            include_object=include_object,\n        )",
    )
    write(root / "app" / "__init__.py", "")
    write(root / "app" / "models.py", BLOG_MODELS)
    for relative, text in BLOG_SCRIPTS.items():
        write(root / relative, text)
    return root


# --- the walks: (command, the alembic_version rows expected after it) -------------

Step = tuple[tuple[str, ...], frozenset[str]]


def _steps(*pairs: tuple[tuple[str, ...], tuple[str, ...]]) -> tuple[Step, ...]:
    return tuple((cmd, frozenset(rows)) for cmd, rows in pairs)


SHOP_WALK = _steps(
    (("upgrade", CORE), (CORE,)),
    (("upgrade", PROFILE), (PROFILE,)),
    (("upgrade", "feature@+1"), (PROFILE, TAGS)),
    (("upgrade", BATCH), (BATCH, TAGS)),
    # TAGS is a dependency of RENAME now, so its row goes
    (("upgrade", RENAME), (RENAME,)),
    (("upgrade", COLOR), (RENAME, COLOR)),
    (("upgrade", GETBIND), (GETBIND, COLOR)),
    (("upgrade", MERGE), (MERGE,)),
    (("upgrade", "+1"), (REBUILD,)),
    (("downgrade", "-1"), (MERGE,)),
    # Alembic calls "-1" from a merge an ambiguous walk: name the parent
    (("downgrade", GETBIND), (GETBIND, COLOR)),
    (("downgrade", "feature@-1"), (GETBIND,)),
    (("downgrade", RENAME), (RENAME,)),
    (("downgrade", BATCH), (BATCH, TAGS)),
    (("downgrade", PROFILE), (PROFILE, TAGS)),
    (("downgrade", "feature@-1"), (PROFILE,)),
    (("downgrade", "-1"), (CORE,)),
    (("downgrade", "base"), ()),
)

BLOG_WALK = _steps(
    (("upgrade", "+1"), (POSTS,)),
    (("upgrade", "+1"), (SLUG,)),
    (("upgrade", "+1"), (ARTICLES,)),
    (("upgrade", "+1"), (COUNTS,)),
    (("downgrade", "-1"), (ARTICLES,)),
    (("downgrade", "-1"), (SLUG,)),
    (("downgrade", "-1"), (POSTS,)),
    (("downgrade", "-1"), ()),
)


@dataclass(frozen=True)
class Project:
    build: Callable[[Path, str], Path]
    revisions: tuple[str, ...]
    walk: tuple[Step, ...]
    tables: frozenset[str]  # what the database holds at the head, per Alembic


PROJECTS = {
    "shop": Project(
        build_shop,
        SHOP_REVISIONS,
        SHOP_WALK,
        frozenset({"alembic_version", "users", "purchases", "tags", "order_tags"}),
    ),
    "blog": Project(
        build_blog,
        BLOG_REVISIONS,
        BLOG_WALK,
        frozenset({"alembic_version", "authors", "articles", "legacy_import"}),
    ),
}


def _fail_with(differences_seen: dict[str, str], headline: str) -> None:
    lines = "\n".join(f"  after {where}: {line}" for line, where in differences_seen.items())
    pytest.fail(f"{headline}\n{lines}")


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("project_name", sorted(PROJECTS))
def test_walk_history_step_by_step(project_name: str, dialect_name: str, tmp_path: Path) -> None:
    """Alembic on A, Distill on B, one step at a time; the databases stay alike."""
    project = PROJECTS[project_name]
    with scratch_databases(dialect_name, tmp_path, 2) as (url_a, url_b):
        root_a = project.build(tmp_path / "alembic_side", url_a)
        root_b = project.build(tmp_path / "distill_side", url_b)
        seen: dict[str, str] = {}  # difference -> the first step that showed it
        for cmd, expected_rows in project.walk:
            where = " ".join(cmd)
            a, d = run_side_by_side(root_a, [cmd, ["current"]], root_b, [cmd, ["current"]])
            require_success(a, where)
            require_success(d, where, [f"{line} (after {w})" for line, w in seen.items()])
            shot_a, shot_b = snapshot(url_a), snapshot(url_b)
            assert shot_a.versions == sorted(expected_rows), (
                f"the test's walk is wrong: after {where} Alembic left {shot_a.versions}"
            )
            current_a = revisions_in(a.output_of("current"), project.revisions)
            current_d = revisions_in(d.output_of("current"), project.revisions)
            # (Alembic's current also names a dependency whose row was folded in)
            assert set(expected_rows) <= set(current_a), a.report()
            found = differences(shot_a, shot_b)
            if current_d != current_a:
                found.append(
                    f"current: Alembic names {current_a}, Distill names {current_d} "
                    f"(distill printed {d.output_of('current').strip()!r})"
                )
            for line in found:
                seen.setdefault(line, where)
        if seen:
            _fail_with(seen, f"{project_name}: Distill's database differs from Alembic's")


def test_tools_take_turns_on_one_database(dialect_name: str, tmp_path: Path) -> None:
    """Alembic and Distill on one database, each continuing from the other."""
    revisions = SHOP_REVISIONS
    with scratch_databases(dialect_name, tmp_path, 1) as (url,):
        root = build_shop(tmp_path / "shop", url)

        def alembic(*commands: Sequence[str]) -> Outcome:
            outcome = run_alembic(root, *commands)
            require_success(outcome, "; ".join(" ".join(c) for c in commands))
            return outcome

        def distill(*commands: Sequence[str]) -> Outcome:
            outcome = run_distill(root, *commands)
            require_success(outcome, "; ".join(" ".join(c) for c in commands))
            return outcome

        def rows() -> list[str] | None:
            return snapshot(url).versions

        # Alembic takes the database halfway: RENAME pulls in TAGS (depends_on)
        alembic(["upgrade", RENAME])
        assert rows() == [RENAME]
        # Distill takes it from there to the head
        distill(["upgrade", "head"])
        assert rows() == [REBUILD]
        at_head_by_distill = snapshot(url)
        out = alembic(["current"]).output_of("current")
        assert revisions_in(out, revisions) == [REBUILD], out
        assert "(head)" in out
        # Alembic steps back; Distill sees where it stopped
        alembic(["downgrade", "-1"])
        assert rows() == [MERGE]
        out = distill(["current"]).output_of("current")
        assert revisions_in(out, revisions) == [MERGE], out
        out = alembic(["current"]).output_of("current")
        assert revisions_in(out, revisions) == [MERGE], out
        # Distill takes everything down; Alembic sees an empty database
        distill(["downgrade", "base"])
        assert rows() == []
        assert set(snapshot(url).tables) == {"alembic_version"}
        out = alembic(["current"]).output_of("current")
        assert revisions_in(out, revisions) == [], out
        # ...and Alembic builds it all again: the same database Distill had built
        alembic(["upgrade", "heads"])
        assert rows() == [REBUILD]
        again = differences(snapshot(url), at_head_by_distill)
        assert not again, (
            "the head Alembic built differs from the one Distill built:\n" + "\n".join(again)
        )
        out = distill(["current"]).output_of("current")
        assert revisions_in(out, revisions) == [REBUILD], out


@pytest.mark.parametrize("project_name", sorted(PROJECTS))
def test_no_tables_alembic_would_call_drift(
    project_name: str, dialect_name: str, tmp_path: Path
) -> None:
    """After ``distill upgrade head`` the database has exactly Alembic's tables."""
    project = PROJECTS[project_name]
    with scratch_databases(dialect_name, tmp_path, 2) as (url_a, url_b):
        root_a = project.build(tmp_path / "alembic_side", url_a)
        root_b = project.build(tmp_path / "distill_side", url_b)
        a, d = run_side_by_side(
            root_a, [["upgrade", "heads"], ["check"]], root_b, [["upgrade", "head"]]
        )
        require_success(a, "alembic upgrade heads; alembic check")  # the models match
        require_success(d, "distill upgrade head")
        assert set(snapshot(url_a).tables) == project.tables
        tables_b = set(snapshot(url_b).tables)
        assert tables_b == project.tables, (
            f"Distill left tables Alembic does not know: {sorted(tables_b - project.tables)}; "
            f"missing: {sorted(project.tables - tables_b)}"
        )
        check = run_alembic(root_b, ["check"])
        assert check.returncode == 0, (
            "alembic check finds drift in the database Distill upgraded: "
            f"{check.error_line()}\n{check.report()}"
        )
