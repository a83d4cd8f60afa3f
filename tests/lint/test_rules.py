"""Every lint rule fires on its case, and is silent on the safe variant and on a table
created in the same run; the safe variants run on the real servers.

The project's first revision makes the live tables (``BASE``); the revision
under test comes after it.  Linting only that revision treats the first as
applied (its tables have traffic); linting both treats the tables as new.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from distill.commands.lint import lint_project
from tests.projects import ProjectDir, make_project

BASE = """
op.create_enum_type("status", ["new", "paid"])
op.create_table("customers", sa.Column("id", sa.Integer, primary_key=True))
op.create_table(
    "orders",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("note", sa.String(40)),
    sa.Column("ref", sa.Integer),
    sa.Column("customer_id", sa.Integer),
    sa.Column("state", sa.Enum("new", "paid", name="status", create_type=False)),
)
op.create_index("ix_orders_ref", "orders", ["ref"])
op.create_table("events", sa.Column("id", sa.Integer, nullable=False), sa.Column("at", sa.Integer))
"""
BLOCK = "with op.get_context().autocommit_block():\n    "

# code -> (dialects, the risky op, its safe variant)
CASES = {
    "index-not-concurrent": (
        "postgresql", 'op.create_index("ix_note", "orders", ["note"])',
        BLOCK + 'op.create_index("ix_note", "orders", ["note"], postgresql_concurrently=True)',
    ),
    "concurrently-in-transaction": (
        "postgresql",
        'op.create_index("ix_note", "orders", ["note"], postgresql_concurrently=True)',
        BLOCK + 'op.create_index("ix_note", "orders", ["note"], postgresql_concurrently=True)',
    ),
    "concurrent-index-may-be-invalid": (
        "postgresql",
        BLOCK + 'op.create_index("ix_note", "orders", ["note"], postgresql_concurrently=True)',
        'op.add_column("orders", sa.Column("x", sa.Integer))',
    ),
    "drop-index-not-concurrent": (
        "postgresql", 'op.drop_index("ix_orders_ref", "orders")',
        BLOCK + 'op.drop_index("ix_orders_ref", "orders", postgresql_concurrently=True)',
    ),
    "not-null-column-without-default": (
        "postgresql mariadb", 'op.add_column("orders", sa.Column("x", sa.Integer, nullable=False))',
        'op.add_column("orders", sa.Column("x", sa.Integer, nullable=False, server_default="0"))',
    ),
    "set-not-null": (
        "postgresql", 'op.alter_column("orders", "note", nullable=False)',
        'op.alter_column("orders", "note", nullable=True)',
    ),
    "volatile-default": (
        "postgresql",
        'op.add_column("orders", sa.Column("x", sa.Float, server_default=sa.text("random()")))',
        'op.add_column("orders", sa.Column("x", sa.DateTime, server_default=sa.text("now()")))',
    ),
    "foreign-key-not-valid": (
        "postgresql",
        'op.create_foreign_key("fk_c", "orders", "customers", ["customer_id"], ["id"])',
        'op.create_foreign_key("fk_c", "orders", "customers", ["customer_id"], ["id"], '
        "postgresql_not_valid=True)",
    ),
    "check-not-valid": (
        "postgresql", 'op.create_check_constraint("ck_ref", "orders", "ref >= 0")',
        'op.create_check_constraint("ck_ref", "orders", "ref >= 0", postgresql_not_valid=True)',
    ),
    "unique-constraint": (
        "postgresql", 'op.create_unique_constraint("uq_ref", "orders", ["ref"])',
        BLOCK + 'op.create_index("uq_ref", "orders", ["ref"], unique=True, '
        "postgresql_concurrently=True)",
    ),
    "primary-key": (
        "postgresql", 'op.create_primary_key("pk_events", "events", ["id"])',
        BLOCK + 'op.create_index("ux_events", "events", ["id"], unique=True, '
        "postgresql_concurrently=True)",
    ),
    "type-change-rewrite": (
        "postgresql", 'op.alter_column("orders", "note", type_=sa.String(10))',
        'op.alter_column("orders", "note", type_=sa.String(80))',
    ),
    "drop-column": (
        "postgresql mariadb", 'op.drop_column("orders", "note")',
        'op.add_column("orders", sa.Column("x", sa.Integer))',
    ),
    "drop-table": (
        "postgresql mariadb", 'op.drop_table("events")',
        'op.add_column("orders", sa.Column("x", sa.Integer))',
    ),
    "rename-column": (
        "postgresql mariadb",
        'op.alter_column("orders", "note", new_column_name="memo", existing_type=sa.String(40))',
        'op.add_column("orders", sa.Column("x", sa.Integer))',
    ),
    "rename-table": (
        "postgresql mariadb", 'op.rename_table("events", "happenings")',
        'op.add_column("orders", sa.Column("x", sa.Integer))',
    ),
    "enum-recreated": (
        "postgresql",
        'op.recreate_enum_type("status", ["paid", "new"], columns=[("orders", "state")])',
        'op.add_enum_value("status", "void")',
    ),
    "foreign-key-without-index": (
        "postgresql",
        'op.create_foreign_key("fk_c", "orders", "customers", ["customer_id"], ["id"], '
        "postgresql_not_valid=True)",
        'op.create_foreign_key("fk_r", "orders", "customers", ["ref"], ["id"], '
        "postgresql_not_valid=True)",
    ),
    "no-lock-timeout": (
        "postgresql", 'op.add_column("orders", sa.Column("x", sa.Integer))',
        "op.execute(\"SET LOCAL lock_timeout = '5s'\")\n"
        'op.add_column("orders", sa.Column("x", sa.Integer))',
    ),
    "mysql-copy-alter": (
        "mariadb", 'op.alter_column("orders", "note", type_=sa.Text(), existing_nullable=True)',
        'op.add_column("orders", sa.Column("x", sa.Integer))',
    ),
    "sqlite-rebuild": (
        "sqlite", 'op.alter_column("orders", "note", nullable=False)',
        'op.add_column("orders", sa.Column("x", sa.Integer))',
    ),
}  # fmt: skip
URLS = {
    "postgresql": "postgresql+psycopg://u@h/db",
    "mariadb": "mysql+pymysql://u@h/db",
    "sqlite": "sqlite:///app.db",
}
# Not about the table's traffic: a foreign key with no index on a new table is as slow later.
FIRES_ON_NEW_TABLES = {"foreign-key-without-index", "concurrently-in-transaction"}


def _project(tmp_path: Path, dialect: str, body: str, settings: str = "") -> ProjectDir:
    project = make_project(tmp_path / dialect, URLS[dialect], settings)
    base = (
        BASE
        if dialect == "postgresql"
        else BASE.replace('op.create_enum_type("status", ["new", "paid"])\n', "").replace(
            ', name="status", create_type=False', ""
        )
    )
    undo = 'op.drop_table("events")\nop.drop_table("orders")\nop.drop_table("customers")'
    if dialect == "postgresql":
        undo += '\nop.drop_enum_type("status")'
    project.add("a1", None, base, undo)
    project.add("b2", "a1", body)
    return project


def _codes(project: ProjectDir, range_: str) -> list[str]:
    return [f.code for f in lint_project(project.project(), range_).findings]


@pytest.mark.parametrize(
    ("code", "dialect"),
    [(code, d) for code, (dialects, _, _) in sorted(CASES.items()) for d in dialects.split()],
)
def test_each_rule_fires_on_its_case_and_not_on_the_safe_one(
    code: str, dialect: str, tmp_path: Path
) -> None:
    _, risky, safe = CASES[code]
    assert code in _codes(_project(tmp_path / "risky", dialect, risky), "b2")
    assert code not in _codes(_project(tmp_path / "safe", dialect, safe), "b2")
    new_tables = _codes(_project(tmp_path / "new", dialect, risky), ":b2")
    assert (code in new_tables) == (code in FIRES_ON_NEW_TABLES), new_tables


def test_locks_are_held_across_revisions_in_one_transaction(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", URLS["postgresql"], "transaction_per_migration = false")
    project.add("a1", None, BASE)
    project.add("b2", "a1", 'op.drop_column("orders", "note")')
    project.add("c3", "b2", 'op.add_column("customers", sa.Column("x", sa.Integer))')
    project.add("d4", "c3", 'op.add_column("events", sa.Column("y", sa.Integer))')
    report = lint_project(project.project(), "a1:d4")
    held = [f for f in report.findings if f.code == "locks-held-across-revisions"]
    assert [(f.revision, f.message.split(";")[0]) for f in held] == [
        ("b2", "ACCESS EXCLUSIVE on orders is held until the end of the upgrade transaction "
               "(2 more revisions)"),
        ("c3", "ACCESS EXCLUSIVE on customers is held until the end of the upgrade transaction "
               "(1 more revision)"),
    ]  # the last revision's locks end with the transaction anyway  # fmt: skip
    per_revision = make_project(tmp_path / "q", URLS["postgresql"])
    for source in sorted(project.versions.glob("*.py")):
        (per_revision.versions / source.name).write_text(source.read_text())
    codes = [f.code for f in lint_project(per_revision.project(), "a1:d4").findings]
    assert "locks-held-across-revisions" not in codes


def test_add_value_in_a_transaction_only_before_postgresql_12(tmp_path: Path) -> None:
    old = _project(tmp_path / "old", "postgresql", 'op.add_enum_value("status", "void")',
                   "[lint]\ntarget_version = { postgresql = 11 }")  # fmt: skip
    assert "enum-value-in-transaction" in _codes(old, "b2")
    new = _project(tmp_path / "new", "postgresql", 'op.add_enum_value("status", "void")')
    assert "enum-value-in-transaction" not in _codes(new, "b2")
    blocked = _project(tmp_path / "blocked", "postgresql",
                       BLOCK + 'op.add_enum_value("status", "void")',
                       "[lint]\ntarget_version = { postgresql = 11 }")  # fmt: skip
    assert "enum-value-in-transaction" not in _codes(blocked, "b2")


@pytest.mark.parametrize("dialect_name", ["postgresql", "mariadb"], indirect=True)
def test_the_safe_variants_run_on_the_real_server(
    db_url: str, dialect_name: str, tmp_path: Path
) -> None:
    """What the lint proposes is not only quiet but works: every safe variant upgrades."""
    for code, (dialects, _, safe) in sorted(CASES.items()):
        if dialect_name not in dialects.split():
            continue
        project = _project(tmp_path / code, dialect_name, safe)
        (project.root / "distill.toml").write_text(
            (project.root / "distill.toml").read_text().replace(URLS[dialect_name], db_url)
        )
        done = project.cli("upgrade", "head")
        assert done.returncode == 0, f"{code}: {done.stderr}"
        assert project.cli("downgrade", "base").returncode == 0


def test_the_runners_lock_timeout_counts(tmp_path: Path) -> None:
    risky = CASES["no-lock-timeout"][1]
    assert "no-lock-timeout" in _codes(_project(tmp_path / "a", "postgresql", risky), "b2")
    timed = _project(tmp_path / "b", "postgresql", risky, "ddl_lock_timeout = 5")
    assert "no-lock-timeout" not in _codes(timed, "b2")


def test_an_autocommit_block_ends_a_set_local_lock_timeout(tmp_path: Path) -> None:
    """``SET LOCAL`` ends with the transaction the block commits; ``SET`` holds on."""
    after_block = (
        "op.execute(\"SET LOCAL lock_timeout = '5s'\")\n"
        + BLOCK
        + 'op.create_index("ix_note", "orders", ["note"], postgresql_concurrently=True)\n'
        'op.add_column("orders", sa.Column("x", sa.Integer))'
    )
    assert "no-lock-timeout" in _codes(_project(tmp_path / "a", "postgresql", after_block), "b2")
    session = after_block.replace("SET LOCAL", "SET")
    assert "no-lock-timeout" not in _codes(_project(tmp_path / "b", "postgresql", session), "b2")
    inside = BLOCK + "op.execute(\"SET LOCAL lock_timeout = '5s'\")\n" + CASES["no-lock-timeout"][1]
    assert "no-lock-timeout" in _codes(_project(tmp_path / "c", "postgresql", inside), "b2")
    runner = _project(tmp_path / "d", "postgresql", after_block, "ddl_lock_timeout = 5")
    assert "no-lock-timeout" not in _codes(runner, "b2")


def test_a_valid_not_null_check_spares_set_not_null_its_scan(tmp_path: Path) -> None:
    """From PostgreSQL 12 a valid CHECK (col IS NOT NULL) proves SET NOT NULL without a
    scan (tests/lint/test_lock_claims.py reads the server say so); one added NOT VALID
    proves nothing until it is validated."""
    check = 'op.create_check_constraint("ck_note", "orders", "note IS NOT NULL", '
    set_not_null = 'op.alter_column("orders", "note", nullable=False)'
    validate = 'op.execute("ALTER TABLE orders VALIDATE CONSTRAINT ck_note")\n'

    def codes(name: str, body: str, settings: str = "") -> list[str]:
        return _codes(_project(tmp_path / name, "postgresql", body, settings), "b2")

    unvalidated = check + "postgresql_not_valid=True)\n" + set_not_null
    assert "set-not-null" in codes("unvalidated", unvalidated)
    validated = check + "postgresql_not_valid=True)\n" + BLOCK + validate + set_not_null
    assert "set-not-null" not in codes("validated", validated)
    assert "set-not-null" not in codes("valid", check + ")\n" + set_not_null)
    old = "[lint]\ntarget_version = { postgresql = 11 }"
    assert "set-not-null" in codes("old", validated, old)


def test_mariadb_copies_only_where_it_has_no_instant_or_inplace_way(tmp_path: Path) -> None:
    """The claims tests/lint/test_mariadb_claims.py checks on the server, read by the rule;
    before 10.4 a VARCHAR cannot grow from a one-byte to a two-byte length."""

    def codes(name: str, body: str, settings: str = "") -> list[str]:
        return _codes(_project(tmp_path / name, "mariadb", body, settings), "b2")

    copies = {
        "check": 'op.create_check_constraint("ck_ref", "orders", "ref >= 0")',
        "bigint": 'op.alter_column("orders", "ref", type_=sa.BigInteger())',
        "two bytes": 'op.alter_column("orders", "note", type_=sa.String(64))',
    }
    for name, body in copies.items():
        assert "mysql-copy-alter" in codes(name, body), name
    online = {
        "one byte": 'op.alter_column("orders", "note", type_=sa.String(60))',
        "index": 'op.create_index("ix_note", "orders", ["note"])',
        "column": 'op.add_column("orders", sa.Column("x", sa.Integer))',
        "not null": 'op.alter_column("orders", "note", nullable=False)',
    }
    for name, body in online.items():
        assert "mysql-copy-alter" not in codes(name, body), name
    short = 'op.alter_column("orders", "note", type_=sa.String(80))'
    base = BASE.replace("sa.String(40)", "sa.String(20)")
    for version, fires in (('"10.3"', True), ('"10.11"', False)):
        project = make_project(tmp_path / version.strip('"'), URLS["mariadb"],
                               f"[lint]\ntarget_version = {{ mariadb = {version} }}")  # fmt: skip
        project.add("a1", None, base.replace('op.create_enum_type("status", ["new", "paid"])\n', "")
                    .replace(', name="status", create_type=False', ""))  # fmt: skip
        project.add("b2", "a1", short)
        report = lint_project(project.project(), "b2")
        assert report.target == f"mariadb {version.strip(chr(34))}"
        assert ("mysql-copy-alter" in [f.code for f in report.findings]) == fires, version
    message = next(
        f.message
        for f in lint_project(
            _project(tmp_path / "m", "mariadb", copies["check"]).project(), "b2"
        ).findings
        if f.code == "mysql-copy-alter"
    )
    assert message == (
        "op.create_check_constraint('ck_ref', 'orders'): a CHECK constraint is checked by "
        "copying the rows, so MariaDB 11.4 has no INSTANT or INPLACE way: orders is copied "
        "(ALGORITHM=COPY), blocking writes until it is done"
    )


def test_a_mariadb_version_is_a_string(tmp_path: Path) -> None:
    bad = _project(tmp_path / "f", "mariadb", "pass", "[lint]\ntarget_version = { mariadb = 10.6 }")
    done = bad.cli("lint", "b2")
    assert done.returncode == 1
    assert "target_version.mariadb = 10.6: give a dialect" in done.stderr
    assert 'mariadb = "10.11" (a string' in done.stderr


def test_autogenerate_safe_forms_is_true_or_false(tmp_path: Path) -> None:
    bad = _project(tmp_path / "b", "postgresql", "pass", '[lint]\nautogenerate_safe_forms = "yes"')
    done = bad.cli("lint", "b2")
    assert done.returncode == 1
    assert done.stderr.strip().endswith(
        "[lint]: autogenerate_safe_forms = 'yes': say true or false"
    )
    near = _project(tmp_path / "n", "postgresql", "pass", "[lint]\nautogenerate_safe_form = true")
    assert "did you mean 'autogenerate_safe_forms'?" in near.cli("lint", "b2").stderr


def test_the_sql_of_op_execute_gets_the_same_rules(tmp_path: Path) -> None:
    """Raw SQL read as the ops it spells: the findings say where they come from, and only
    the autocommit block is offered as a rewrite (the others would rewrite the SQL)."""

    def found(name: str, sql: str, wrapped: bool = False) -> dict[str, str | None]:
        body = (BLOCK if wrapped else "") + f"op.execute({sql!r})"
        project = _project(tmp_path / name, "postgresql", body)
        return {f.code: f.fix for f in lint_project(project.project(), "b2").findings
                if f.code != "no-lock-timeout"}  # fmt: skip

    index = "CREATE INDEX ix_note ON public.orders (note)"
    assert found("index", index) == {"index-not-concurrent": None}
    concurrent = "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_note ON orders USING btree (note)"
    assert found("concurrent", concurrent) == {"concurrently-in-transaction": "autocommit-block"}
    assert found("in a block", concurrent, wrapped=True) == {
        "concurrent-index-may-be-invalid": None
    }
    fk = "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id)"
    assert found("fk", fk) == {"foreign-key-not-valid": None}
    assert "foreign-key-not-valid" not in found("fk not valid", fk + " NOT VALID")
    assert found("not null", "ALTER TABLE orders ALTER COLUMN note SET NOT NULL") == {
        "set-not-null": None
    }
    several = "ALTER TABLE orders ALTER COLUMN note SET NOT NULL, ADD COLUMN x int"
    assert found("several", several) == {}  # more than one action: not read
    assert found("data", "UPDATE orders SET note = 'x' WHERE note IS NULL") == {}
    project = _project(tmp_path / "message", "postgresql", f"op.execute({index!r})")
    (first,) = [f for f in lint_project(project.project(), "b2").findings
                if f.code == "index-not-concurrent"]  # fmt: skip
    assert first.message.startswith("in op.execute(): CREATE INDEX ix_note holds SHARE on orders")


@pytest.mark.parametrize("dialect_name", ["postgresql"], indirect=True)
def test_the_sql_moved_into_an_autocommit_block_runs(db_url: str, tmp_path: Path) -> None:
    concurrent = "CREATE INDEX CONCURRENTLY ix_note ON orders (note)"
    project = _project(tmp_path / "p", "postgresql", f"op.execute({concurrent!r})")
    settings = project.root / "distill.toml"
    settings.write_text(settings.read_text().replace(URLS["postgresql"], db_url))
    refused = project.cli("upgrade", "head")
    assert refused.returncode == 1 and "cannot run inside a transaction block" in refused.stderr
    assert project.cli("lint", "b2", "--fix").returncode == 0
    assert "concurrently-in-transaction" not in _codes(project, "b2")
    done = project.cli("upgrade", "head")
    assert done.returncode == 0, done.stderr
