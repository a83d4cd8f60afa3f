"""A SQLite table rebuild keeps what the table had besides rows and columns.

- AUTOINCREMENT and the ``sqlite_sequence`` counter: after deleting the top
  ids of a 100k-row table, every rebuild-causing op leaves the next insert
  above the highest id ever handed out (Alembic's batch mode does not: see
  ``test_alembic_batch_mode_hands_deleted_ids_out_again``).
- The views and triggers that use the table: dropped and created again inside
  the same transaction; refused, before anything ran, when one names a column
  the change removes or renames.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations as AlembicOperations

from distill.ddl.context import OpContext
from distill.errors import OperationError
from distill.ops.api import Operations
from distill.ops.proxy import operations_in_effect
from distill.runtime.database import create_engine
from tests.projects import make_project

ROWS = 100_000
KEPT = 99_990  # ids above this are deleted: the counter stays at ROWS


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    # The runtime's engine: on SQLite it makes DDL transactional, as in a real run.
    made = create_engine(f"sqlite:///{tmp_path}/app.db")
    yield made
    made.dispose()


@pytest.fixture
def conn(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.connect() as connection:
        yield connection
        connection.rollback()


def _ops(conn: sa.Connection) -> Operations:
    return Operations(OpContext(dialect=conn.dialect, connection=conn))


def _items(conn: sa.Connection) -> None:
    """items: AUTOINCREMENT ids 1..100000, the top ten deleted."""
    conn.exec_driver_sql(
        "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(20) NOT NULL, "
        "qty INTEGER, note VARCHAR(20), CONSTRAINT ck_items_qty CHECK (qty >= 0))"
    )
    conn.exec_driver_sql("CREATE TABLE owners (id INTEGER PRIMARY KEY)")
    conn.exec_driver_sql(
        f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS}) "
        "INSERT INTO items (name, qty, note) SELECT 'item ' || i, i % 7, NULL FROM n"
    )
    conn.exec_driver_sql(f"DELETE FROM items WHERE id > {KEPT}")
    conn.commit()


def _next_id(conn: sa.Connection) -> int:
    conn.exec_driver_sql("INSERT INTO items (name, qty) VALUES ('new', 1)")
    return int(conn.exec_driver_sql("SELECT max(id) FROM items").scalar_one())


def _table_sql(conn: sa.Connection, name: str) -> str:
    found = conn.exec_driver_sql(f"SELECT sql FROM sqlite_master WHERE name = '{name}'").scalar()
    return str(found)


def _counter(conn: sa.Connection) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.exec_driver_sql("SELECT name, seq FROM sqlite_sequence")]


def _batch_alter_and_drop(op: Operations) -> None:
    with op.batch_alter_table("items") as batch_op:
        batch_op.alter_column("qty", nullable=False)
        batch_op.drop_column("note")


REBUILDS: dict[str, Callable[[Operations], None]] = {
    "alter_column type_": lambda op: op.alter_column("items", "note", type_=sa.String(200)),
    "alter_column nullable": lambda op: op.alter_column("items", "qty", nullable=False),
    "alter_column server_default": lambda op: op.alter_column("items", "qty", server_default="0"),
    "drop_column": lambda op: op.drop_column("items", "note"),
    "add_column unique": lambda op: op.add_column("items", sa.Column("c", sa.Text, unique=True)),
    "create_unique_constraint": lambda op: op.create_unique_constraint("uq", "items", ["name"]),
    "create_check_constraint": lambda op: op.create_check_constraint("ck_n", "items", "qty < 100"),
    "create_foreign_key": lambda op: (
        op.add_column("items", sa.Column("owner_id", sa.Integer())),
        op.create_foreign_key("fk_owner", "items", "owners", ["owner_id"], ["id"]),
    ),
    "drop_constraint": lambda op: op.drop_constraint("ck_items_qty", "items", type_="check"),
    "batch recreate always": lambda op: _batch_always(op),
    "batch alter and drop": _batch_alter_and_drop,
    "batch rename column": lambda op: _batch_rename(op),
}  # fmt: skip


def _batch_always(op: Operations) -> None:
    with op.batch_alter_table("items", recreate="always"):
        pass


def _batch_rename(op: Operations) -> None:
    with op.batch_alter_table("items") as batch_op:
        batch_op.alter_column("note", new_column_name="remark", type_=sa.Text())


@pytest.mark.parametrize("case", list(REBUILDS))
def test_a_rebuild_keeps_autoincrement_and_its_counter(case: str, conn: sa.Connection) -> None:
    _items(conn)
    ops = _ops(conn)
    with operations_in_effect(ops):
        REBUILDS[case](ops)
    conn.commit()
    assert any(s.startswith("CREATE TABLE _distill_tmp_items") for s in ops.get_context().executed)
    assert "AUTOINCREMENT" in _table_sql(conn, "items")
    assert _counter(conn) == [("items", ROWS)]
    assert conn.exec_driver_sql("SELECT count(*) FROM items").scalar() == KEPT
    assert _next_id(conn) == ROWS + 1  # not KEPT + 1: no deleted id comes back


def test_an_empty_table_keeps_its_counter(conn: sa.Connection) -> None:
    _items(conn)
    conn.exec_driver_sql("DELETE FROM items")
    _ops(conn).drop_column("items", "note")
    assert _counter(conn) == [("items", ROWS)]
    assert _next_id(conn) == ROWS + 1


def test_a_table_without_autoincrement_stays_without(conn: sa.Connection) -> None:
    conn.exec_driver_sql("CREATE TABLE plain (id INTEGER PRIMARY KEY, note VARCHAR(5))")
    conn.exec_driver_sql("INSERT INTO plain VALUES (1, 'a'), (2, 'b')")
    _ops(conn).alter_column("plain", "note", type_=sa.String(50))
    assert "AUTOINCREMENT" not in _table_sql(conn, "plain")
    assert (
        conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'"
        ).scalar()
        == 0
    )


def test_alembic_batch_mode_hands_deleted_ids_out_again(tmp_path: Path) -> None:
    """What real Alembic 1.20 does with the same table, which Distill deliberately betters."""
    outcomes = {}
    for name, options in {
        "plain": {},
        "table_kwargs": {"table_kwargs": {"sqlite_autoincrement": True}},
    }.items():
        engine = sa.create_engine(f"sqlite:///{tmp_path}/{name}.db")
        with engine.connect() as conn:
            _items(conn)
            with AlembicOperations(MigrationContext.configure(conn)).batch_alter_table(
                "items", recreate="always", **options
            ) as batch_op:
                batch_op.alter_column("note", type_=sa.String(200))
            conn.commit()
            outcomes[name] = ("AUTOINCREMENT" in _table_sql(conn, "items"), _next_id(conn))
        engine.dispose()
    # Alembic drops AUTOINCREMENT; told to keep it, it still loses the counter.
    assert outcomes == {"plain": (False, KEPT + 1), "table_kwargs": (True, KEPT + 1)}


def test_offline_rebuild_from_copy_from_carries_the_counter(
    conn: sa.Connection, tmp_path: Path
) -> None:
    from tests.ops.support import offline

    ops, out = offline("sqlite")
    table = sa.Table(
        "items", sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(20), nullable=False),
        sa.Column("qty", sa.Integer), sa.Column("note", sa.String(20)),
        sqlite_autoincrement=True,
    )  # fmt: skip
    with ops.batch_alter_table("items", copy_from=table) as batch_op:
        batch_op.drop_column("note")
    script = "\n".join(out)
    assert "AUTOINCREMENT" in script and "sqlite_sequence" in script
    _items(conn)  # the --sql script, run by hand on a database it was written for
    conn.connection.driver_connection.executescript(f"BEGIN;\n{script}\nCOMMIT;")  # type: ignore[union-attr]
    assert _counter(conn) == [("items", ROWS)]
    assert _next_id(conn) == ROWS + 1


# -- views and triggers -----------------------------------------------------------------


def _with_views_and_triggers(conn: sa.Connection) -> None:
    _items(conn)
    for sql in (
        "CREATE TABLE log (what TEXT)",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, item_id INTEGER)",
        "CREATE VIEW v_items AS SELECT id, name FROM items WHERE qty > 0",
        'CREATE VIEW "v big" AS SELECT * FROM v_items WHERE id > 99000',
        "CREATE TRIGGER trg_items AFTER INSERT ON items BEGIN "
        "INSERT INTO log VALUES ('item ' || new.name); END",
        "CREATE TRIGGER trg_orders AFTER INSERT ON orders BEGIN "
        "UPDATE items SET qty = qty + 1 WHERE id = new.item_id; END",
        "CREATE TRIGGER trg_v_items INSTEAD OF INSERT ON v_items BEGIN "
        "INSERT INTO items (name, qty) VALUES (new.name, 1); END",
    ):
        conn.exec_driver_sql(sql)
    conn.commit()


def _views_and_triggers(conn: sa.Connection) -> dict[str, str]:
    rows = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type IN ('view', 'trigger')"
    )
    return {str(r[0]): str(r[1]) for r in rows}


def test_views_and_triggers_of_a_rebuilt_table_are_kept(
    conn: sa.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    _with_views_and_triggers(conn)
    before = _views_and_triggers(conn)
    seen_in_big = conn.exec_driver_sql('SELECT count(*) FROM "v big"').scalar()
    ops = _ops(conn)
    with caplog.at_level("INFO", logger="distill.rebuild"):
        ops.alter_column("items", "note", type_=sa.String(200))
    conn.commit()
    assert caplog.messages == [
        "rebuilding table 'items': dropped and created again view 'v_items', view 'v big', "
        "trigger 'trg_items', trigger 'trg_orders', trigger 'trg_v_items'"
    ]
    assert _views_and_triggers(conn) == before  # the same text, created again
    executed = ops.get_context().executed
    assert (
        'DROP VIEW IF EXISTS "v big"' in executed and "DROP TRIGGER IF EXISTS trg_items" in executed
    )
    assert conn.exec_driver_sql('SELECT count(*) FROM "v big"').scalar() == seen_in_big
    # Each trigger still fires: on the table, on another table, on the view.
    conn.exec_driver_sql("INSERT INTO v_items (name) VALUES ('via view')")
    conn.exec_driver_sql("INSERT INTO orders VALUES (1, 5)")
    assert conn.exec_driver_sql("SELECT what FROM log").scalars().all() == ["item via view"]
    assert conn.exec_driver_sql("SELECT qty FROM items WHERE id = 5").scalar() == 5 % 7 + 1
    assert _next_id(conn) == ROWS + 2


def test_the_notice_survives_an_env_py_that_configures_logging(
    conn: sa.Connection, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """An Alembic env.py's ``fileConfig(alembic.ini)`` disables loggers it does not
    name; Distill's own notices still come after the project's file was loaded."""
    ini = tmp_path / "alembic.ini"
    ini.write_text(
        "[loggers]\nkeys = root\n[handlers]\nkeys = console\n[formatters]\nkeys = generic\n"
        "[logger_root]\nlevel = WARN\nhandlers = console\n"
        "[handler_console]\nclass = StreamHandler\nargs = (sys.stderr,)\nformatter = generic\n"
        "[formatter_generic]\nformat = %(message)s\n"
    )
    env_py = tmp_path / "env.py"
    env_py.write_text(f"import logging.config\nlogging.config.fileConfig({str(ini)!r})\n")
    import logging

    from distill.scripts.script import load_module

    root_handlers = list(logging.getLogger().handlers)
    try:
        load_module(env_py)
    finally:
        logging.getLogger().handlers[:] = root_handlers
    _with_views_and_triggers(conn)
    with caplog.at_level("INFO", logger="distill.rebuild"):
        _ops(conn).alter_column("items", "note", type_=sa.String(200))
    assert [m for m in caplog.messages if m.startswith("rebuilding table 'items'")]


def test_alembic_batch_mode_fails_on_a_table_a_view_reads(conn: sa.Connection) -> None:
    """Real Alembic 1.20 on the same tables: SQLite's raw error, which Distill avoids."""
    _with_views_and_triggers(conn)
    with (
        pytest.raises(sa.exc.OperationalError, match="error in view v_items: no such table"),
        AlembicOperations(MigrationContext.configure(conn)).batch_alter_table("items") as batch_op,
    ):
        batch_op.alter_column("note", type_=sa.String(200))


def test_a_view_selecting_star_follows_a_dropped_column(conn: sa.Connection) -> None:
    _items(conn)
    conn.exec_driver_sql("CREATE VIEW v_all AS SELECT * FROM items")
    _ops(conn).drop_column("items", "note")
    names = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(v_all)")]
    assert names == ["id", "name", "qty"]


@pytest.mark.parametrize(
    ("obj", "change", "message"),
    [
        (
            "CREATE VIEW v_notes AS SELECT id, note FROM items",
            lambda op: op.drop_column("items", "note"),
            "view 'v_notes' uses column 'note' of table 'items', which this change removes",
        ),
        (
            "CREATE TRIGGER trg_note AFTER UPDATE ON items BEGIN SELECT new.note; END",
            lambda op: op.drop_column("items", "note"),
            "trigger 'trg_note' uses column 'note' of table 'items', which this change removes",
        ),
        (
            "CREATE TRIGGER trg_note AFTER UPDATE ON items BEGIN SELECT new.note; END",
            _batch_rename,
            "trigger 'trg_note' uses column 'note' of table 'items', which this change renames "
            "to 'remark'",
        ),
    ],
)
def test_a_view_or_trigger_using_a_vanishing_column_is_refused_before_anything_ran(
    obj: str, change: Callable[[Operations], None], message: str, conn: sa.Connection
) -> None:
    _items(conn)
    conn.exec_driver_sql(obj)
    conn.commit()
    ops = _ops(conn)
    with pytest.raises(OperationError) as raised, operations_in_effect(ops):
        change(ops)
    assert message in str(raised.value) and "op.execute('DROP " in str(raised.value)
    assert "\n" not in str(raised.value)
    assert ops.get_context().executed == []


def test_a_view_broken_through_another_view_is_refused(conn: sa.Connection) -> None:
    _items(conn)
    conn.exec_driver_sql("CREATE VIEW v_all AS SELECT * FROM items")
    conn.exec_driver_sql("CREATE VIEW v_notes AS SELECT note FROM v_all")
    conn.commit()
    with pytest.raises(
        OperationError,
        match=r"view 'v_notes' no longer works once table 'items' is rebuilt "
        r"\(no such column: note\)",
    ):
        _ops(conn).drop_column("items", "note")
    conn.rollback()
    assert "note" in [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(items)")]
    assert set(_views_and_triggers(conn)) == {"v_all", "v_notes"}


def test_upgrade_with_a_view_over_a_rebuilt_table(tmp_path: Path) -> None:
    """Through the CLI: kept views work; a refused one is one line, nothing applied."""
    url = f"sqlite:///{tmp_path}/app.db"
    project = make_project(tmp_path / "p", url)
    project.add("r1", None, """
        op.create_table("items", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("note", sa.String(20)), sqlite_autoincrement=True)
        op.execute("CREATE VIEW v_items AS SELECT id FROM items")
        op.execute("INSERT INTO items (id, note) VALUES (7, 'x')")
        op.execute("DELETE FROM items")
    """)  # fmt: skip
    project.add("r2", "r1", 'op.alter_column("items", "note", type_=sa.String(200))')
    project.add("r3", "r2", 'op.execute("CREATE VIEW v_notes AS SELECT note FROM items")')
    project.add("r4", "r3", 'op.drop_column("items", "note")')
    done = project.cli("upgrade", "r3")
    assert done.returncode == 0, done.stderr
    refused = project.cli("upgrade", "head")
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert lines[-1].startswith("distill: error: upgrade of revision r4 (")
    assert "view 'v_notes' uses column 'note' of table 'items'" in lines[-1]
    assert "Traceback" not in refused.stderr
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM distill_version").scalar() == "r3"
        assert _counter(conn) == [("items", 7)]
        assert "AUTOINCREMENT" in _table_sql(conn, "items")
        assert conn.exec_driver_sql("SELECT count(*) FROM v_items").scalar() == 0
    engine.dispose()


# -- the schema model knows AUTOINCREMENT -------------------------------------------------


def _autoincrement_models() -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table(
        "items", metadata,
        sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.String(200)),
        sqlite_autoincrement=True,
    )  # fmt: skip
    sa.Table(
        "plain", metadata,
        sa.Column("id", sa.Integer, primary_key=True), sa.Column("a", sa.Integer),
        sqlite_autoincrement=True,
    )  # fmt: skip
    sa.Table(
        "codes", metadata,
        sa.Column("id", sa.String(10), primary_key=True),
        sqlite_autoincrement=True,  # ignored by SQLAlchemy: the key is not an integer
    )  # fmt: skip
    return metadata


def test_models_database_and_replay_agree_on_autoincrement(tmp_path: Path) -> None:
    """The replay follows what each rebuild does to AUTOINCREMENT, as the database shows it."""
    from distill.autogen.compare import compare
    from distill.replay.recorder import replay
    from distill.schema.from_metadata import schema_from_metadata
    from distill.schema.reflect import reflect_schema

    url = f"sqlite:///{tmp_path}/app.db"
    project = make_project(tmp_path / "p", url)
    project.add("r1", None, """
        op.create_table("items", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("note", sa.String(20)), sqlite_autoincrement=True)
        op.create_table("plain", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("a", sa.Integer))
        op.create_table("codes", sa.Column("id", sa.Integer, primary_key=True),
                        sqlite_autoincrement=True)
    """)  # fmt: skip
    project.add("r2", "r1", """
        op.alter_column("items", "note", type_=sa.String(200))
        with op.batch_alter_table("plain", table_kwargs={"sqlite_autoincrement": True}) as b:
            b.alter_column("a", nullable=True, existing_nullable=False)
        op.alter_column("codes", "id", type_=sa.String(10))
    """)  # fmt: skip
    done = project.cli("upgrade", "head")
    assert done.returncode == 0, done.stderr
    dialect = sa.create_engine("sqlite://").dialect
    replayed = replay(project.project().graph, dialect, "heads")
    assert replayed.exact, replayed.reasons
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        reflected = reflect_schema(conn, exclude=lambda name: name.startswith("distill_"))
    engine.dispose()
    models = schema_from_metadata(_autoincrement_models(), dialect)
    flags = {
        side: {t.name: t.sqlite_autoincrement for t in schema.tables}
        for side, schema in {
            "database": reflected,
            "replay": replayed.schema,
            "models": models,
        }.items()
    }
    wanted = {"items": True, "plain": True, "codes": False}
    assert flags == {"database": wanted, "replay": wanted, "models": wanted}
    assert compare(reflected, replayed.schema) == [] and compare(reflected, models) == []


def test_autogenerate_writes_sqlite_autoincrement_as_alembic_does() -> None:
    from alembic.autogenerate import render_python_code
    from alembic.operations import ops as alembic_ops

    from distill.autogen.compare import compare
    from distill.autogen.plan import downgrade_ops, upgrade_ops
    from distill.schema.from_metadata import schema_from_metadata
    from distill.schema.model import Schema

    metadata = _autoincrement_models()
    dialect = sa.create_engine("sqlite://").dialect
    changes = compare(Schema("sqlite"), schema_from_metadata(metadata, dialect))
    upgrade = upgrade_ops(changes, "sqlite")
    rendered = {op.table_name: op.render(set()) for op in upgrade if op.op_name == "create_table"}
    by_alembic = {
        name: render_python_code(
            alembic_ops.UpgradeOps([alembic_ops.CreateTableOp.from_table(metadata.tables[name])])
        )
        for name in ("items",)
    }
    assert "sqlite_autoincrement=True" in rendered["items"]
    assert "sqlite_autoincrement=True" in by_alembic["items"]
    # The key of "codes" cannot carry it: the database would not have it, Distill does not write it.
    assert "sqlite_autoincrement" not in rendered["codes"]
    downgrade = downgrade_ops(upgrade)
    recreated = [op.reverse().render(set()) for op in downgrade if op.op_name == "drop_table"]
    assert sum("sqlite_autoincrement=True" in text for text in recreated) == 2


def test_autogenerate_puts_back_an_autoincrement_the_database_lost(conn: sa.Connection) -> None:
    """A table Alembic's batch mode rebuilt: compare sees it, the op made restores it."""
    from distill.autogen.compare import compare
    from distill.autogen.plan import downgrade_ops, upgrade_ops
    from distill.schema.from_metadata import schema_from_metadata
    from distill.schema.reflect import reflect_schema

    metadata = sa.MetaData()
    sa.Table(
        "items", metadata, sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("note", sa.String(20)), sqlite_autoincrement=True,
    )  # fmt: skip
    conn.exec_driver_sql("CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, note VARCHAR(20))")
    conn.exec_driver_sql("INSERT INTO items (id) VALUES (1), (2), (3)")
    models = schema_from_metadata(metadata, conn.dialect)
    changes = compare(reflect_schema(conn), models)
    assert [c.describe() for c in changes] == ["items: table autoincrement none -> AUTOINCREMENT"]
    upgrade = upgrade_ops(changes, "sqlite")
    assert [op.render(set()) for op in upgrade] == [
        'with op.batch_alter_table("items", recreate="always", '
        'table_kwargs={"sqlite_autoincrement": True}) as batch_op:\n    pass'
    ]
    ops = _ops(conn)
    for op in upgrade:
        op.execute(ops.get_context())
    assert compare(reflect_schema(conn), models) == []
    assert _counter(conn) == [("items", 3)]  # the ids handed out before are not known
    for op in downgrade_ops(upgrade):
        op.execute(ops.get_context())
    assert "AUTOINCREMENT" not in _table_sql(conn, "items")
    assert [c.code for c in compare(reflect_schema(conn), models)] == ["table.autoincrement"]
