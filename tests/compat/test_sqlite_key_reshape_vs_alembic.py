"""A revision that reshapes a key across tables on SQLite, against Alembic.

mlflow's workspace revision gives a parent table a wider primary key, then its
children keys to match, one batch each.  Between the two, the children's keys
name parent columns that are no longer unique, and SQLite's foreign key check
refuses to run at all ("foreign key mismatch"); Alembic checks nothing.  Distill
checks the rows once the revision is done, and both tools end with the same
tables and rows.  A revision that ends in that state still fails under Distill.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from tests.alembic_projects import app_project, run_cli, write_history

MODELS = """
from sqlalchemy.orm import DeclarativeBase

class Base(DeclarativeBase):
    pass
"""

BASE = """
    op.create_table("parent", sa.Column("name", sa.String(20), primary_key=True))
    op.create_table(
        "child",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_name", sa.String(20)),
        sa.ForeignKeyConstraint(["parent_name"], ["parent.name"], name="fk_child_parent"),
    )
    op.execute("INSERT INTO parent VALUES ('a')")
    op.execute("INSERT INTO child VALUES (1, 'a')")
"""

WIDEN_PARENT = """
    with op.batch_alter_table("parent") as batch_op:
        batch_op.add_column(sa.Column("ws", sa.String(10), nullable=False, server_default="w"))
        batch_op.create_primary_key("pk_parent", ["ws", "name"])
"""

WIDEN_CHILD = """
    with op.batch_alter_table("child") as batch_op:
        batch_op.add_column(sa.Column("ws", sa.String(10), nullable=False, server_default="w"))
        batch_op.drop_constraint("fk_child_parent", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_child_parent", "parent", ["ws", "parent_name"], ["ws", "name"]
        )
"""


def _project(root: Path, revisions: list[str]) -> Path:
    app_project(root, f"sqlite:///{root / 'app.db'}", MODELS)
    write_history(root, {f"r{number}": body for number, body in enumerate(revisions, 1)})
    return root


def _dump(root: Path) -> list[str]:
    with sqlite3.connect(root / "app.db") as db:
        return list(db.iterdump())


def test_keys_reshaped_parent_first_upgrade_as_under_alembic(tmp_path: Path) -> None:
    dumps = {}
    for tool in ("alembic", "distill"):
        root = _project(tmp_path / tool, [BASE, WIDEN_PARENT + WIDEN_CHILD])
        done = run_cli(tool, root, "upgrade", "head")
        assert done.returncode == 0, done.stderr
        dumps[tool] = (_keys(root), [line for line in _dump(root) if line.startswith("INSERT")])
    assert dumps["distill"] == dumps["alembic"]
    assert "INSERT INTO \"child\" VALUES(1,'a','w');" in dumps["distill"][1]


def _keys(root: Path) -> list[object]:
    engine = sa.create_engine(f"sqlite:///{root / 'app.db'}")
    try:
        insp = sa.inspect(engine)
        fks = insp.get_foreign_keys("child")
        keys = [(f["constrained_columns"], f["referred_columns"]) for f in fks]
        return [insp.get_pk_constraint("parent")["constrained_columns"], keys]
    finally:
        engine.dispose()


def test_a_revision_that_ends_with_a_mismatched_key_still_fails(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", [BASE, WIDEN_PARENT])
    done = run_cli("distill", root, "upgrade", "head")
    assert done.returncode == 1
    assert "foreign key mismatch" in done.stderr and "revision r2" in done.stderr
    assert "the database is still at r1" in done.stderr
