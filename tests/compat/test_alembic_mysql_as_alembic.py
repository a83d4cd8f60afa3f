"""MariaDB in Alembic projects: the schema Alembic builds, where Distill's own differs.

- ``alter_column``: MySQL's ``MODIFY`` restates the whole column. Alembic restates
  only the ``existing_*`` arguments a script gives, so an unstated NOT NULL,
  default or comment is lost; a Distill project reads the live column instead.
- ``drop_constraint(type_="foreignkey")``: MariaDB made an index for the key when
  it was added; Alembic leaves that index behind (and its autogenerate then writes
  a ``drop_index`` for it), a Distill project drops it with the key.

An Alembic project gets Alembic's schema (and a warning naming what was lost),
and the replay agrees with it, so ``check`` finds no drift. Compared with real
Alembic.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
import sqlalchemy as sa

from distill.ddl.context import OpContext
from distill.ops.api import Operations
from distill.ops.proxy import operations_in_effect
from distill.replay.recorder import replay
from distill.scripts.script import load_module
from tests.alembic_projects import app_project, run_cli, write_history
from tests.conftest import create_scratch_database
from tests.projects import ProjectDir

T = TypeVar("T")

MODIFY_HISTORY = {
    "r1": """
    op.create_table(
        "t",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("c", sa.String(20), nullable=False, server_default="x", comment="hello"),
        sa.Column("k", sa.String(20), nullable=False, server_default="y"),
    )""",
    # Nothing stated but the type: Alembic's MODIFY makes c NULL, without default or comment.
    "r2": 'op.alter_column("t", "c", type_=sa.String(50))',
    # Everything stated: nothing is lost.
    "r3": """
    op.alter_column("t", "k", type_=sa.String(60), existing_nullable=False,
                    existing_server_default="y")""",
    # A rename is a CHANGE COLUMN, which restates the column as MODIFY does (mlflow's
    # 5d2d30f0abce renames with existing_type only: the column becomes NULL).
    "r4": 'op.alter_column("t", "k", new_column_name="k2", existing_type=sa.String(60))',
}

MODELS_BASE = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass
"""

MODIFY_MODELS = (
    MODELS_BASE
    + """
class T(Base):
    __tablename__ = "t"
    id: Mapped[int] = mapped_column(primary_key=True)
    c: Mapped[str | None] = mapped_column(sa.String(50))
    k2: Mapped[str | None] = mapped_column(sa.String(60))
"""
)


def _project(root: Path, url: str, history: dict[str, str], models: str) -> None:
    app_project(root, url, models)
    write_history(root, history)


def _columns(url: str) -> list[tuple[object, ...]]:
    return _inspected(url, lambda insp: [
        (c["name"], str(c["type"]), c["nullable"], c.get("default"), c.get("comment"))
        for c in insp.get_columns("t")
    ])  # fmt: skip


def _inspected(url: str, read: Callable[[sa.Inspector], T]) -> T:
    engine = sa.create_engine(url)
    try:
        return read(sa.inspect(engine))
    finally:
        engine.dispose()


@pytest.mark.parametrize("dialect_name", ["mariadb"], indirect=True)
def test_modify_restates_as_alembic_does(tmp_path: Path, dialect_name: str) -> None:
    columns = {}
    for tool in ("alembic", "distill"):
        (tmp_path / tool).mkdir()
        url, drop = create_scratch_database(dialect_name, tmp_path / tool)
        try:
            _project(tmp_path / tool / "proj", url, MODIFY_HISTORY, MODIFY_MODELS)
            done = run_cli(tool, tmp_path / tool / "proj", "upgrade", "head")
            assert done.returncode == 0, done.stderr
            columns[tool] = _columns(url)
            if tool == "distill":
                warnings = [w for w in done.stderr.splitlines() if w.startswith("warning:")]
                assert warnings == [
                    "warning: op.alter_column('t', 'c') restates the column as Alembic's MODIFY "
                    "does, which makes it NULL, drops its default, drops its comment; pass "
                    "existing_nullable=False, existing_server_default=..., existing_comment=... "
                    "to keep it (r2.py)",
                    "warning: op.alter_column('t', 'k') restates the column as Alembic's MODIFY "
                    "does, which makes it NULL, drops its default; pass existing_nullable=False, "
                    "existing_server_default=... to keep it (r4.py)",
                ]
                check = run_cli(tool, tmp_path / tool / "proj", "check")
                assert check.returncode == 0, check.stdout + check.stderr
        finally:
            drop()  # type: ignore[operator]
    assert columns["distill"] == columns["alembic"]
    assert columns["alembic"][1][1:] == ("VARCHAR(50)", True, None, None)
    assert columns["alembic"][2] == ("k2", "VARCHAR(60)", True, None, None)


FK_HISTORY = {
    "r1": """
    op.create_table("parent", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table(
        "child", sa.Column("id", sa.Integer, primary_key=True), sa.Column("parent_id", sa.Integer)
    )""",
    # MariaDB makes an index named fk_child_parent: no index serves parent_id.
    "r2": 'op.create_foreign_key("fk_child_parent", "child", "parent", ["parent_id"], ["id"])',
    "r3": 'op.drop_constraint("fk_child_parent", "child", type_="foreignkey")',
    # What Alembic's autogenerate writes next for the index the key left behind.
    "r4": 'op.drop_index("fk_child_parent", table_name="child")',
}

FK_MODELS = (
    MODELS_BASE
    + """
class Parent(Base):
    __tablename__ = "parent"
    id: Mapped[int] = mapped_column(primary_key=True)

class Child(Base):
    __tablename__ = "child"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None]
"""
)


def _indexes(url: str) -> list[tuple[object, ...]]:
    return _inspected(url, lambda insp: sorted(
        (i["name"], tuple(i["column_names"])) for i in insp.get_indexes("child")
    ))  # fmt: skip


@pytest.mark.parametrize("dialect_name", ["mariadb"], indirect=True)
def test_a_dropped_foreign_key_leaves_its_index_as_under_alembic(
    tmp_path: Path, dialect_name: str
) -> None:
    indexes: dict[str, list[object]] = {"alembic": [], "distill": []}
    for tool in indexes:
        (tmp_path / tool).mkdir()
        url, drop = create_scratch_database(dialect_name, tmp_path / tool)
        try:
            root = tmp_path / tool / "proj"
            _project(root, url, FK_HISTORY, FK_MODELS)
            for target in ("r3", "head"):
                done = run_cli(tool, root, "upgrade", target)
                assert done.returncode == 0, done.stderr
                indexes[tool].append(_indexes(url))
            if tool == "distill":
                check = run_cli(tool, root, "check")
                assert check.returncode == 0, check.stdout + check.stderr
        finally:
            drop()  # type: ignore[operator]
    assert indexes["distill"] == indexes["alembic"]
    assert indexes["alembic"] == [[("fk_child_parent", ("parent_id",))], []]


@pytest.mark.parametrize(("as_alembic", "left"), [(True, ["fk_child_parent"]), (False, [])])
@pytest.mark.parametrize("dialect_name", ["mariadb"], indirect=True)
def test_a_distill_project_drops_the_index_with_the_key(
    db_url: str, tmp_path: Path, as_alembic: bool, left: list[str]
) -> None:
    """A Distill project drops the index no model and no revision has; the replay of
    either kind of project agrees with what its run leaves."""
    project = ProjectDir(tmp_path, db_url)
    project.versions.mkdir(parents=True)
    files = [project.add("r1", None, FK_HISTORY["r1"]), project.add("r2", "r1", FK_HISTORY["r2"]),
             project.add("r3", "r2", FK_HISTORY["r3"])]  # fmt: skip
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            context = OpContext(dialect=conn.dialect, connection=conn, as_alembic=as_alembic)
            with operations_in_effect(Operations(context)):
                for file in files:
                    load_module(file).upgrade()
        assert [i["name"] for i in sa.inspect(engine).get_indexes("child")] == left
        replayed = replay(project.project().graph, engine.dialect, as_alembic=as_alembic)
        child = replayed.schema.table("child", None)
        assert replayed.exact and child is not None
        assert [i.name for i in child.indexes] == left
    finally:
        engine.dispose()
