"""``--sql`` on SQLite writes table rebuilds without a database, and they build what online does.

SQLite changes most of a table by rebuilding it, which needs the table's whole
definition.  Alembic's batch mode asks for ``copy_from=`` with ``--sql``;
Distill reads the table from an in-memory catalog the written SQL has built
(``runtime/offline_catalog.py``).  Each test runs the written SQL with
Python's own ``sqlite3`` on an empty file and compares the result — every
object's SQL in ``sqlite_master`` and the version row — with the database
``distill upgrade``/``downgrade`` builds online from the same revisions.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.projects import ProjectDir, copy_shop, make_project

CUSTOMERS = """
op.create_table(
    "customers",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("note", sa.Text),
)
op.create_table(
    "orders",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.Integer),
)
op.create_index("ix_customers_name", "customers", ["name"])
op.execute("CREATE VIEW customer_names AS SELECT name FROM customers")
op.execute("CREATE TRIGGER orders_touch AFTER INSERT ON orders BEGIN SELECT 1; END")
"""

# Each revision needs a rebuild; the view and the trigger must survive each one.
REVISIONS: list[tuple[str, str, str]] = [
    (
        "r1",
        CUSTOMERS,
        'op.execute("DROP VIEW customer_names")\n'
        'op.drop_table("orders")\nop.drop_table("customers")',
    ),
    (
        "r2",
        """
op.alter_column("customers", "name", type_=sa.String(100), nullable=True)
op.create_check_constraint("ck_customers_note", "customers", "length(note) < 500")
""",
        """
op.drop_constraint("ck_customers_note", "customers", type_="check")
op.alter_column("customers", "name", type_=sa.String(50), nullable=False)
""",
    ),
    (
        "r3",
        """
op.create_foreign_key(
    "fk_orders_customer", "orders", "customers", ["customer_id"], ["id"], ondelete="CASCADE"
)
with op.batch_alter_table("customers") as batch_op:
    batch_op.alter_column("note", new_column_name="remark")
""",
        """
with op.batch_alter_table("customers") as batch_op:
    batch_op.alter_column("remark", new_column_name="note")
op.drop_constraint("fk_orders_customer", "orders", type_="foreignkey")
""",
    ),
    (
        "r4",
        # Raw DDL no replay can read: the catalog ran it, so the rebuild keeps the column.
        """
op.execute("ALTER TABLE orders ADD COLUMN total INTEGER")
op.alter_column("orders", "total", server_default="0", nullable=False, existing_type=sa.Integer)
""",
        'op.drop_column("orders", "total")',
    ),
]


def _project(root: Path) -> ProjectDir:
    project = make_project(root, f"sqlite:///{root}/app.db")
    down: str | None = None
    for rev, upgrade, downgrade in REVISIONS:
        project.add(rev, down, upgrade, downgrade)
        down = rev
    return project


def _ok(project: ProjectDir, *args: str) -> str:
    done = project.cli(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _catalog(path: Path) -> dict[str, object]:
    """What a SQLite file holds: each object's SQL, and the version row."""
    with sqlite3.connect(path) as conn:
        objects = conn.execute(
            "SELECT type, name, sql FROM sqlite_master "
            "WHERE name NOT LIKE 'distill_%' AND name NOT LIKE 'sqlite_%' ORDER BY type, name"
        ).fetchall()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        version = (
            conn.execute("SELECT version_num FROM distill_version").fetchall()
            if "distill_version" in tables
            else None
        )
    conn.close()
    return {"objects": objects, "version": version}


def _run_sql(sql: str, path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)  # the SQL says BEGIN/COMMIT itself
    try:
        conn.executescript(sql)
    finally:
        conn.close()


def test_upgrade_sql_from_base_builds_what_upgrade_builds(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    sql = _ok(project, "upgrade", "head", "--sql")
    assert not (project.root / "app.db").exists()  # the catalog is in memory, nothing on disk
    assert sql.count("CREATE TABLE _distill_tmp_") >= 4
    assert "DROP VIEW IF EXISTS customer_names" in sql and "CREATE VIEW customer_names" in sql
    _run_sql(sql, tmp_path / "offline.db")
    _ok(project, "upgrade", "head")
    online = _catalog(project.root / "app.db")
    assert _catalog(tmp_path / "offline.db") == online
    assert online["version"] == [("r4",)]
    # the raw ALTER's column is in the rebuilt table
    assert any("total" in str(sql) for _, name, sql in online["objects"] if name == "orders")  # type: ignore[union-attr]


def test_each_revision_alone_as_show_sql_gives_it(tmp_path: Path) -> None:
    """The editor's Show SQL asks for ``prev:rev``; run one range at a time, the
    file follows the online database revision by revision, up and back down."""
    project = _project(tmp_path / "p")
    offline = tmp_path / "offline.db"
    previous = "base"
    for rev, *_ in REVISIONS:
        sql = _ok(project, "upgrade", f"{previous}:{rev}" if previous != "base" else rev, "--sql")
        _run_sql(sql, offline)
        _ok(project, "upgrade", rev)
        assert _catalog(offline) == _catalog(project.root / "app.db"), rev
        previous = rev
    for (rev, *_), (below, *_) in zip(
        reversed(REVISIONS), reversed([("base",), *REVISIONS[:-1]]), strict=True
    ):
        _run_sql(_ok(project, "downgrade", f"{rev}:{below}", "--sql"), offline)
        _ok(project, "downgrade", below)
        assert _catalog(offline) == _catalog(project.root / "app.db"), f"{rev} -> {below}"


def test_downgrade_sql_from_head_to_base(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    _ok(project, "upgrade", "head")
    shutil.copy(project.root / "app.db", tmp_path / "offline.db")
    _run_sql(_ok(project, "downgrade", "r4:r1", "--sql"), tmp_path / "offline.db")
    _ok(project, "downgrade", "r1")
    assert _catalog(tmp_path / "offline.db") == _catalog(project.root / "app.db")


def test_the_example_project_whole_history_offline(tmp_path: Path) -> None:
    """examples/shop, SQLite: its third revision adds a UNIQUE constraint (a rebuild)."""
    shop = copy_shop(tmp_path / "shop")
    project = ProjectDir(shop, "sqlite:///shop.db")
    sql = _ok(project, "upgrade", "head", "--sql")
    assert "CREATE TABLE _distill_tmp_customers" in sql
    assert "CONSTRAINT uq_customers_email UNIQUE (email)" in sql
    _run_sql(sql, tmp_path / "offline.db")
    _ok(project, "upgrade", "head")
    assert _catalog(tmp_path / "offline.db") == _catalog(shop / "shop.db")
    head = _ok(project, "heads").split()[0]
    down_sql = _ok(project, "downgrade", f"{head}:base", "--sql")
    _run_sql(down_sql, tmp_path / "offline.db")
    _ok(project, "downgrade", "base")
    assert _catalog(tmp_path / "offline.db") == _catalog(shop / "shop.db")


def test_a_failing_data_statement_leaves_the_catalog_usable(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    project.add(
        "r5",
        "r4",
        # legacy_totals was made outside the migrations: only the real database has it.
        'op.execute("UPDATE legacy_totals SET n = 0")\n'
        'op.create_unique_constraint("uq_customers_name", "customers", ["name"])',
    )
    sql = _ok(project, "upgrade", "r4:r5", "--sql")
    assert "UPDATE legacy_totals SET n = 0;" in sql
    assert "CONSTRAINT uq_customers_name UNIQUE (name)" in sql


@pytest.mark.parametrize(
    ("upgrade", "said"),
    [
        (
            'op.execute("CREATE INDEX ix_legacy ON legacy_totals (n)")\n'
            'op.create_unique_constraint("uq_customers_name", "customers", ["name"])',
            "the statement CREATE INDEX ix_legacy ON legacy_totals (n) failed there "
            "(no such table: main.legacy_totals)",
        ),
        (
            'op.create_unique_constraint("uq_legacy_n", "legacy_totals", ["n"])',
            "table 'legacy_totals' does not exist; with --sql Distill knows the tables the "
            "revisions create, and none creates it",
        ),
    ],
    ids=["structure-only-the-database-knows", "table-made-outside-the-migrations"],
)
def test_what_the_catalog_cannot_know_is_one_line_naming_copy_from(
    tmp_path: Path, upgrade: str, said: str
) -> None:
    project = _project(tmp_path / "p")
    project.add("r5", "r4", upgrade)
    done = project.cli("upgrade", "r4:r5", "--sql")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("distill: error: upgrade of revision r5 ")
    assert said in lines[0]
    assert "copy_from=sa.Table(...)" in lines[0]
    assert not (project.root / "app.db").exists()


def test_copy_from_still_wins_and_needs_no_catalog(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    project.add(
        "r5",
        "r4",
        'op.execute("CREATE INDEX ix_legacy ON legacy_totals (n)")\n'
        'stated = sa.Table("customers", sa.MetaData(), '
        'sa.Column("id", sa.Integer, primary_key=True), '
        'sa.Column("name", sa.String(100)), sa.Column("remark", sa.Text))\n'
        'with op.batch_alter_table("customers", copy_from=stated) as batch_op:\n'
        '    batch_op.create_unique_constraint("uq_customers_name", ["name"])',
    )
    sql = _ok(project, "upgrade", "r4:r5", "--sql")
    assert "CONSTRAINT uq_customers_name UNIQUE (name)" in sql


# -- against real Alembic 1.20 -------------------------------------------------------------

BATCH_REVISIONS = [
    (
        "a1a1a1a1a1a1",
        None,
        """
op.create_table(
    "accounts",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(50), nullable=False),
    sa.Column("plan", sa.String(10)),
)
op.create_table("invoices", sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("account_id", sa.Integer))
""",
        'op.drop_table("invoices")\nop.drop_table("accounts")',
    ),
    (
        "b2b2b2b2b2b2",
        "a1a1a1a1a1a1",
        """
with op.batch_alter_table("accounts") as batch_op:
    batch_op.alter_column("email", type_=sa.String(200))
    batch_op.create_unique_constraint("uq_accounts_email", ["email"])
    batch_op.create_check_constraint("ck_accounts_plan", "plan IN ('free', 'paid')")
with op.batch_alter_table("invoices") as batch_op:
    batch_op.create_foreign_key("fk_invoices_account", "accounts", ["account_id"], ["id"])
""",
        """
with op.batch_alter_table("invoices") as batch_op:
    batch_op.drop_constraint("fk_invoices_account", type_="foreignkey")
with op.batch_alter_table("accounts") as batch_op:
    batch_op.drop_constraint("ck_accounts_plan", type_="check")
    batch_op.drop_constraint("uq_accounts_email", type_="unique")
    batch_op.alter_column("email", type_=sa.String(50))
""",
    ),
    (
        "c3c3c3c3c3c3",
        "b2b2b2b2b2b2",
        """
with op.batch_alter_table("accounts") as batch_op:
    batch_op.alter_column("email", new_column_name="contact")
    batch_op.alter_column("plan", server_default="free")
""",
        """
with op.batch_alter_table("accounts") as batch_op:
    batch_op.alter_column("plan", server_default=None)
    batch_op.alter_column("contact", new_column_name="email")
""",
    ),
]


def _alembic_project(root: Path, url: str) -> Path:
    from tests.alembic_projects import alembic_init, revision_script, set_ini, write

    alembic_init(root)
    set_ini(root / "alembic.ini", "sqlalchemy.url", url)
    for rev, down, upgrade, downgrade in BATCH_REVISIONS:
        text = revision_script(rev, down, f"step {rev[:2]}", upgrade, downgrade)
        write(root / "alembic" / "versions" / f"{rev}_step.py", text)
    return root


def test_alembic_batch_history_offline_builds_what_alembic_builds_online(tmp_path: Path) -> None:
    """Alembic needs a database (or copy_from) for batch --sql on SQLite; Distill does not.

    Deliberately better (docs/alembic.md): the SQL Distill writes, run on an
    empty file, builds the schema and version row real Alembic builds online.
    """
    from tests.alembic_projects import differences, run_alembic, run_distill, snapshot

    online = _alembic_project(tmp_path / "online", f"sqlite:///{tmp_path}/alembic.db")
    assert run_alembic(online, ["upgrade", "head"]).returncode == 0
    refused = run_alembic(online, ["upgrade", "head", "--sql"])
    assert refused.returncode != 0
    assert "requires a live database connection with which to reflect" in refused.stderr

    offline = _alembic_project(tmp_path / "offline", f"sqlite:///{tmp_path}/unused.db")
    written = run_distill(offline, ["upgrade", "head", "--sql"])
    assert written.returncode == 0, written.report()
    _run_sql(written.output_of("upgrade"), tmp_path / "distill.db")
    assert not (tmp_path / "unused.db").exists()
    alembic, distill = (snapshot(f"sqlite:///{tmp_path}/{n}.db") for n in ("alembic", "distill"))
    assert differences(alembic, distill) == []

    assert run_alembic(online, ["downgrade", "a1a1a1a1a1a1"]).returncode == 0
    back = run_distill(offline, ["downgrade", "c3c3c3c3c3c3:a1a1a1a1a1a1", "--sql"])
    assert back.returncode == 0, back.report()
    _run_sql(back.output_of("downgrade"), tmp_path / "distill.db")
    alembic, distill = (snapshot(f"sqlite:///{tmp_path}/{n}.db") for n in ("alembic", "distill"))
    assert differences(alembic, distill) == []
