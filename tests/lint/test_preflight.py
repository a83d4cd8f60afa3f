"""Pre-flight on the real servers: NULLs, duplicates, orphans, CHECK violations, counted
before anything runs; ``upgrade --preflight`` runs nothing when one would fail, and
the check itself writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from distill.commands.lint import preflight_project
from tests.projects import ProjectDir, make_project

BASE = """
op.create_table("customers", sa.Column("id", sa.Integer, primary_key=True))
op.create_table(
    "orders",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("note", sa.String(40)),
    sa.Column("ref", sa.Integer),
    sa.Column("customer_id", sa.Integer),
)
"""
ROWS = [
    "INSERT INTO customers (id) VALUES (1), (2)",
    "INSERT INTO orders (id, note, ref, customer_id) VALUES "
    "(1, 'a', 10, 1), (2, NULL, 10, 2), (3, NULL, -1, 7), (4, 'd', 20, 9)",
]
CASES = {
    "not null": ('op.alter_column("orders", "note", nullable=False, existing_type=sa.String(40))',
                 "orders.note has 2 NULL rows (id: 2, 3): SET NOT NULL would fail"),
    "unique": ('op.create_unique_constraint("uq_ref", "orders", ["ref"])',
               "orders(ref) has 1 duplicated value (10 (2 rows)): the unique key would fail"),
    "foreign key": (
        'op.create_foreign_key("fk_c", "orders", "customers", ["customer_id"], ["id"])',
        "orders has 2 rows whose customer_id is not in customers (id: 3, 4): "
        "the foreign key would fail",
    ),
    "check": ('op.create_check_constraint("ck_ref", "orders", "ref >= 0")',
              "orders has 1 violating row (id: 3): CHECK ck_ref would fail"),
    "not null column": ('op.add_column("orders", sa.Column("x", sa.Integer, nullable=False))',
                        "orders has 4 rows: adding x NOT NULL without a default would fail"),
}  # fmt: skip


def _project(root: Path, url: str, body: str) -> ProjectDir:
    project = make_project(root, url)
    project.add("a1", None, BASE)
    project.add("b2", "a1", body)
    assert project.cli("upgrade", "a1").returncode == 0
    return project


@pytest.mark.parametrize("dialect_name", ["postgresql", "mariadb"], indirect=True)
def test_each_check_counts_what_would_fail_and_writes_nothing(
    db_url: str, dialect_name: str, tmp_path: Path
) -> None:
    from distill import commands

    engine = sa.create_engine(db_url)
    try:
        for number, (case, (body, expected)) in enumerate(sorted(CASES.items())):
            project = _project(tmp_path / f"p{number}", db_url, body)
            with engine.begin() as conn:
                for statement in ROWS:
                    conn.exec_driver_sql(statement)
            (problem,) = preflight_project(project.project())
            assert (problem.revision, problem.message) == ("b2", expected), case
            done = project.cli("upgrade", "head", "--preflight")
            assert done.returncode == 1 and done.stderr.count("distill: error:") == 1, case
            assert "nothing was run" in done.stderr and expected in done.stderr, case
            assert [c.id for c in commands.current(project.project())] == ["a1"], case
            assert project.cli("preflight").returncode == 1
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT count(*) FROM orders").scalar() == 4
            with engine.begin() as conn:  # the next case starts from base again
                conn.exec_driver_sql("DELETE FROM distill_version")
                conn.exec_driver_sql("DROP TABLE orders")
                conn.exec_driver_sql("DROP TABLE customers")
    finally:
        engine.dispose()


@pytest.mark.parametrize("dialect_name", ["postgresql"], indirect=True)
def test_clean_rows_pass_and_the_upgrade_runs(db_url: str, tmp_path: Path) -> None:
    project = _project(tmp_path / "p", db_url, CASES["check"][0])
    done = project.cli("upgrade", "head", "--preflight")
    assert done.returncode == 0, done.stderr
    assert "0 problems" not in done.stderr and "Upgraded" in done.stderr


@pytest.mark.parametrize("dialect_name", ["postgresql", "mariadb"], indirect=True)
def test_the_editors_counts_give_up_after_their_time(
    db_url: str, dialect_name: str, tmp_path: Path
) -> None:
    """The editor counts with a time limit; a count that takes longer is a one-line
    error (shown as information on the op line), not a wait."""
    from distill.commands.editor import preflight_counts
    from distill.errors import DistillError
    from distill.lint.preflight import Check

    project = _project(tmp_path / "p", db_url, CASES["not null"][0])
    engine = sa.create_engine(db_url)
    many = (
        "SELECT g, NULL, g, 1 FROM generate_series(3, 3000000) g"
        if dialect_name == "postgresql"
        else "SELECT seq, NULL, seq, 1 FROM seq_3_to_3000000"
    )
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"INSERT INTO orders (id, note, ref, customer_id) {many}")
    finally:
        engine.dispose()
    check = Check("b2.py", 1, "b2", "not-null", "orders", None, ("id",), ("note",))
    (found,) = preflight_counts(project.project(), [check], 30.0).values()
    assert found[0].startswith("orders.note has 2999998 NULL rows (id: 3, 4, 5, 6, 7, ...)")
    with pytest.raises(
        DistillError, match=r"^pre-flight: .*(statement timeout|max_statement_time)"
    ):
        preflight_counts(project.project(), [check], 0.001)
