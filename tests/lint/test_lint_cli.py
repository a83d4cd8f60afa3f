"""``distill lint`` as a user runs it: which revisions, output, exit codes, settings, --fix."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from distill.commands.lint import lint_project
from distill.lint.engine import Finding
from distill.replay.recorder import replay
from tests.lint.test_rules import BASE, URLS
from tests.projects import ProjectDir, make_project

RISKY = """
op.create_index("ix_orders_note", "orders", ["note"])
op.create_foreign_key("fk_orders_customer", "orders", "customers", ["customer_id"], ["id"])
op.drop_column("orders", "ref")  # distill: ignore[drop-column]
"""


def _project(root: Path, url: str, settings: str = "") -> ProjectDir:
    project = make_project(root, url, settings)
    project.add("a1", None, _base(url))
    project.add("b2", "a1", RISKY)
    return project


def _base(url: str) -> str:
    """The live tables; an enum type of its own only on PostgreSQL."""
    if url.startswith("postgresql"):
        return BASE
    base = BASE.replace('op.create_enum_type("status", ["new", "paid"])\n', "")
    return base.replace(', name="status", create_type=False', "")


def test_output_exit_code_and_json(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", URLS["postgresql"])
    done = project.cli("lint", "b2")
    assert done.returncode == 1
    first_line = done.stdout.splitlines()[0]
    assert first_line.startswith("migrations/versions/b2_b2.py:")
    assert "[index-not-concurrent]" in first_line
    assert "error [foreign-key-not-valid]" in done.stdout
    assert "drop-column" not in done.stdout  # ignored on its line
    assert done.stderr.strip().endswith("in 1 revision, for postgresql 17")
    out = project.cli("lint", "b2", "--format", "json").stdout
    found = [json.loads(line) for line in out.splitlines()]
    assert {f["code"] for f in found} >= {"index-not-concurrent", "foreign-key-not-valid"}
    first = found[0]
    assert set(first) == {"code", "severity", "file", "line", "message", "revision", "fix"}
    revision = next(project.versions.glob("b2_*.py")).read_text().splitlines()
    call = next(n for n, line in enumerate(revision, start=1) if "op.create_index(" in line)
    assert (first["line"], first["fix"]) == (call, True)  # 1-based, on the call


def test_only_the_revisions_the_database_has_not_applied(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", "sqlite:///app.db")
    assert project.cli("upgrade", "a1").returncode == 0
    pending = lint_project(project.project())
    assert pending.revisions == ["b2"]
    applied = lint_project(project.project(), all_revisions=True)
    # Every table is new; the ignore still counts: it is written for the live table.
    assert applied.revisions == ["a1", "b2"] and not applied.findings
    unreachable = make_project(tmp_path / "u", "postgresql+psycopg://nobody@127.0.0.1:1/x")
    for source in sorted(project.versions.glob("*.py")):
        (unreachable.versions / source.name).write_text(source.read_text())
    done = unreachable.cli("lint")
    assert "note: the database was not read" in done.stderr
    assert "linting every revision" in done.stderr
    assert done.returncode == 0  # a1 and b2 pending: the tables are new


def test_settings_turn_rules_off_or_up_and_name_a_bad_one(tmp_path: Path) -> None:
    settings = '[lint]\nindex-not-concurrent = "off"\nforeign-key-not-valid = "warning"\n'
    quiet = _project(tmp_path / "q", URLS["postgresql"], settings)
    done = quiet.cli("lint", "b2")
    assert done.returncode == 0 and "index-not-concurrent" not in done.stdout
    assert "warning [foreign-key-not-valid]" in done.stdout
    bad = _project(tmp_path / "b", URLS["postgresql"], '[lint]\nindex-not-concurent = "off"\n')
    done = bad.cli("lint", "b2")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().endswith(
        "[lint]: unknown rule 'index-not-concurent'; did you mean 'index-not-concurrent'?"
    )
    old_server = "[lint]\ntarget_version = { postgresql = 10 }\n"
    old = _project(tmp_path / "o", URLS["postgresql"], old_server)
    assert "for postgresql 10" in old.cli("lint", "b2").stderr


BLOCK = "    with op.get_context().autocommit_block():\n"
INDEX = 'op.create_index("ix_orders_note", "orders", ["note"], postgresql_concurrently=True)'
VALIDATE = 'op.execute("ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_customer")'


def test_fix_rewrites_to_the_safe_form_and_keeps_the_schema(tmp_path: Path) -> None:
    from distill.autogen.generate import target_dialect

    project = _project(tmp_path / "p", URLS["postgresql"])
    revision = next(project.versions.glob("b2_*.py"))
    dialect = target_dialect(project.project().config)
    before = replay(project.project().graph, dialect).schema
    done = project.cli("lint", "b2", "--fix")
    fixed = "Fixed migrations/versions/b2_b2.py: foreign-key-not-valid, index-not-concurrent"
    assert fixed in done.stderr
    text = revision.read_text()
    ast.parse(text)
    assert f"{BLOCK}        {INDEX}\n" in text
    assert f'["id"], postgresql_not_valid=True)\n{BLOCK}        {VALIDATE}\n' in text
    assert replay(project.project().graph, dialect).schema == before
    left = {f.code for f in lint_project(project.project(), "b2").findings}
    assert not left & {"index-not-concurrent", "foreign-key-not-valid"}
    assert "concurrently-in-transaction" not in left
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("dialect_name", ["postgresql"], indirect=True)
def test_the_fixed_revision_upgrades_the_real_server(db_url: str, tmp_path: Path) -> None:
    project = _project(tmp_path / "p", db_url)
    assert project.cli("lint", "b2", "--fix").returncode == 0
    done = project.cli("upgrade", "head")
    assert done.returncode == 0, done.stderr


def test_the_rewrites_one_by_one() -> None:
    """Each fix on its own call; a lock timeout goes above the statement, and none is added
    where the index is built concurrently (which takes no ACCESS EXCLUSIVE)."""
    from distill.lint.fixes import fixed

    text = (
        "def upgrade():\n"
        '    op.drop_column("orders", "note")\n'
        '    op.drop_index("ix", "orders")\n'
        '    op.add_enum_value("status", "void")\n'
    )
    out = fixed(text, [(2, "lock-timeout"), (3, "concurrent-index"), (3, "lock-timeout"),
                       (4, "autocommit-block")])  # fmt: skip
    assert out == (
        "def upgrade():\n"
        "    op.execute(\"SET LOCAL lock_timeout = '5s'\")\n"
        '    op.drop_column("orders", "note")\n'
        "    with op.get_context().autocommit_block():\n"
        '        op.drop_index("ix", "orders", postgresql_concurrently=True)\n'
        "    with op.get_context().autocommit_block():\n"
        '        op.add_enum_value("status", "void")\n'
    )
    assert fixed(out, [(5, "concurrent-index")]) == out  # already inside a block


def test_an_alembic_project_reads_its_lint_settings_and_stays_alembic(tmp_path: Path) -> None:
    """``[tool.distill.lint]`` beside alembic.ini sets the lint of that Alembic project;
    it does not make it a Distill project (the version table stays alembic_version)."""
    from tests.alembic_projects import alembic_init, edit_ini, revision_script, run_distill

    root = tmp_path / "a"
    alembic_init(root)
    edit_ini(root / "alembic.ini", sqlalchemy__url="sqlite:///app.db")
    versions = root / "alembic" / "versions"
    base = 'op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True))'
    (versions / "a1_base.py").write_text(revision_script("a1", None, "base", base, "pass"))
    risky = 'op.drop_column("orders", "id")'
    (versions / "b2_risky.py").write_text(revision_script("b2", "a1", "risky", risky, "pass"))
    assert run_distill(root, ["upgrade", "a1"]).returncode == 0
    before = run_distill(root, ["lint"])
    assert "warning [drop-column]" in before.stdout and before.returncode == 0
    (root / "pyproject.toml").write_text('[tool.distill.lint]\ndrop-column = "error"\n')
    after = run_distill(root, ["lint"])
    assert "error [drop-column]" in after.stdout and after.returncode == 1
    current = run_distill(root, ["current"])
    assert current.returncode == 0 and "a1" in current.stdout, current.stderr
    from sqlalchemy import create_engine, inspect

    tables = inspect(create_engine(f"sqlite:///{root / 'app.db'}")).get_table_names()
    assert "alembic_version" in tables and "distill_version" not in tables


ADD_NOT_NULL = 'op.add_column("orders", sa.Column("x", sa.Integer, nullable=False))'


def _split_project(root: Path, url: str, rows: str = "pass") -> ProjectDir:
    project = make_project(root, url)
    project.add("a1", None, _base(url))
    project.add("a2", "a1", rows)
    project.add("b2", "a2", ADD_NOT_NULL)
    return project


def _not_null_finding(project: ProjectDir) -> Finding:
    findings = lint_project(project.project(), "b2").findings
    return next(f for f in findings if f.code == "not-null-column-without-default")


def test_the_not_null_split_keeps_the_schema_and_needs_the_users_value(tmp_path: Path) -> None:
    """The split is a quick fix: it parses, replays to the same schema, and none of its
    steps holds a long lock; ``--fix`` leaves it alone (the backfill needs the user)."""
    from distill.autogen.generate import target_dialect
    from distill.lint.fixes import fixed

    project = _split_project(tmp_path / "p", URLS["postgresql"])
    finding = _not_null_finding(project)
    assert (finding.code, finding.fix) == ("not-null-column-without-default", "split-not-null")
    assert finding.to_dict()["fix"] is False  # not what --fix rewrites
    fixed_by_cli = project.cli("lint", "b2", "--fix").stderr  # the lock timeout only
    assert "Fixed migrations/versions/b2_b2.py: no-lock-timeout\n" in fixed_by_cli
    finding = _not_null_finding(project)
    revision = next(project.versions.glob("b2_*.py"))
    dialect = target_dialect(project.project().config)
    before = replay(project.project().graph, dialect).schema
    text = revision.read_text()
    split = fixed(text, [(finding.line, "split-not-null")])
    ast.parse(split)
    assert "UPDATE orders SET x = <value> WHERE x IS NULL" in split
    revision.write_text(split)
    assert replay(project.project().graph, dialect).schema == before
    left = {f.code for f in lint_project(project.project(), "b2").findings}
    # SET NOT NULL too has a lock timeout: the block ended the transaction of the first
    assert left == set(), left
    mariadb = _split_project(tmp_path / "m", URLS["mariadb"])
    finding = _not_null_finding(mariadb)
    assert finding.fix is None  # no NOT VALID there: nothing to split into


@pytest.mark.parametrize("dialect_name", ["postgresql"], indirect=True)
def test_the_split_with_its_value_written_upgrades_a_table_with_rows(
    db_url: str, tmp_path: Path
) -> None:
    from distill.lint.fixes import fixed

    rows = "op.execute(\"INSERT INTO orders (id, note) VALUES (1, 'a')\")"
    project = _split_project(tmp_path / "p", db_url, rows)
    revision = next(project.versions.glob("b2_*.py"))
    assert project.cli("upgrade", "a2").returncode == 0
    finding = _not_null_finding(project)
    split = fixed(revision.read_text(), [(finding.line, "split-not-null")])
    revision.write_text(split)
    refused = project.cli("upgrade", "head")
    assert refused.returncode == 1 and "<value>" in refused.stderr  # not filled in: stops
    revision.write_text(split.replace("<value>", "0"))
    done = project.cli("upgrade", "head")
    assert done.returncode == 0, done.stderr
    from sqlalchemy import create_engine, inspect

    engine = create_engine(db_url)
    try:
        inspector = inspect(engine)
        column = next(c for c in inspector.get_columns("orders") if c["name"] == "x")
        assert column["nullable"] is False
        assert not [c for c in inspector.get_check_constraints("orders") if "x" in c["sqltext"]]
    finally:
        engine.dispose()


@pytest.mark.parametrize("dialect_name", ["postgresql"], indirect=True)
def test_a_check_an_applied_revision_left_not_valid_proves_nothing(
    db_url: str, tmp_path: Path
) -> None:
    """The lint reads which CHECKs the database holds NOT VALID: one an applied revision
    added does not spare SET NOT NULL its scan, until it is validated."""
    import sqlalchemy as sa

    project = make_project(tmp_path / "p", db_url)
    project.add("a1", None, _base(db_url))
    project.add("a2", "a1", 'op.create_check_constraint("ck_note", "orders", '
                '"note IS NOT NULL", postgresql_not_valid=True)')  # fmt: skip
    project.add("b2", "a2", 'op.alter_column("orders", "note", nullable=False)')
    assert project.cli("upgrade", "a2").returncode == 0

    def codes() -> set[str]:
        return {f.code for f in lint_project(project.project()).findings}

    assert "set-not-null" in codes()
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE orders VALIDATE CONSTRAINT ck_note")
    finally:
        engine.dispose()
    assert "set-not-null" not in codes()


@pytest.mark.parametrize("dialect_name", ["postgresql"], indirect=True)
def test_findings_on_a_live_table_say_how_large_it_is(db_url: str, tmp_path: Path) -> None:
    """With the database read, the catalog's row estimate goes with what an op costs."""
    import sqlalchemy as sa

    project = _project(tmp_path / "p", db_url)
    assert project.cli("upgrade", "a1").returncode == 0
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO orders (id) SELECT g FROM generate_series(1, 1500) g")
            conn.exec_driver_sql("ANALYZE orders")
    finally:
        engine.dispose()
    found = {f.code: f.message for f in lint_project(project.project()).findings}
    size = "(orders: about 1,500 rows, the catalog's estimate)"
    assert found["index-not-concurrent"].endswith(size)
    assert found["foreign-key-not-valid"].endswith(size)
    assert size not in lint_project(project.project(), "b2").findings[0].message  # not read
