"""The lint's MariaDB claims, checked on the real server.

For each op the lint makes a claim about, the op runs on tables with rows with
the claimed ``ALGORITHM`` and ``LOCK`` added to its statement: the server must
accept it, and must refuse the next cheaper algorithm (MariaDB refuses an
algorithm it cannot use rather than quietly copying).  So a claim that an ALTER
is INSTANT, or that it has to COPY, is what the server does, for the version it
is (``lint.mariadb.mariadb_alter`` reads that version).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from distill.ddl.context import OpContext
from distill.lint.mariadb import COPY, INPLACE, INSTANT, NOCOPY, Alter, mariadb_alter
from distill.ops.api import Operations
from distill.ops.base import Op
from distill.runtime.database import create_engine
from distill.schema.reflect import reflect_schema
from tests.conftest import scratch_database_for_module

CHEAPEST_FIRST = [INSTANT, NOCOPY, INPLACE, COPY]

CASES: dict[str, Callable[[Operations], None]] = {
    "add nullable column": lambda op: op.add_column("orders", sa.Column("x", sa.Integer())),
    "add column, not null": lambda op: op.add_column(
        "orders", sa.Column("x", sa.Integer(), nullable=False, server_default="0")
    ),
    "drop column": lambda op: op.drop_column("orders", "note"),
    "rename column": lambda op: op.alter_column(
        "orders", "note", new_column_name="memo", existing_type=sa.String(40)
    ),
    "longer varchar, one length byte": lambda op: op.alter_column(
        "orders", "note", type_=sa.String(60)
    ),
    "longer varchar, two length bytes": lambda op: op.alter_column(
        "orders", "note", type_=sa.String(64)
    ),
    "longer varchar, short values": lambda op: op.alter_column(
        "orders", "code", type_=sa.String(200)
    ),
    "shorter varchar": lambda op: op.alter_column("orders", "note", type_=sa.String(10)),
    "varchar to text": lambda op: op.alter_column("orders", "note", type_=sa.Text()),
    "integer to bigint": lambda op: op.alter_column("orders", "ref", type_=sa.BigInteger()),
    "more numeric precision": lambda op: op.alter_column(
        "orders", "amount", type_=sa.Numeric(14, 2)
    ),
    "enum value added at the end": lambda op: op.alter_column(
        "orders", "state", type_=sa.Enum("new", "paid", "void")
    ),
    "enum values reordered": lambda op: op.alter_column(
        "orders", "state", type_=sa.Enum("paid", "new")
    ),
    "set not null": lambda op: op.alter_column(
        "orders", "note", nullable=False, existing_type=sa.String(40)
    ),
    "drop not null": lambda op: op.alter_column(
        "orders", "code", nullable=True, existing_type=sa.String(20)
    ),
    "set default": lambda op: op.alter_column("orders", "ref", server_default="5"),
    "create index": lambda op: op.create_index("ix_orders_note", "orders", ["note"]),
    "drop index": lambda op: op.drop_index("ix_orders_ref", "orders"),
    "unique": lambda op: op.create_unique_constraint("uq_ref", "orders", ["ref"]),
    "foreign key": lambda op: op.create_foreign_key(
        "fk_orders_customer", "orders", "customers", ["customer_id"], ["id"]
    ),
    "check": lambda op: op.create_check_constraint("ck_ref", "orders", "ref >= 0"),
    "drop foreign key": lambda op: op.drop_constraint("fk_events", "events", type_="foreignkey"),
    "drop check": lambda op: op.drop_constraint("ck_events", "events", type_="check"),
    "drop primary key": lambda op: op.drop_constraint("PRIMARY", "orders", type_="primary"),
    "primary key": lambda op: op.create_primary_key("pk_events", "events", ["id"]),
    "rename table": lambda op: op.rename_table("customers", "clients"),
}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from scratch_database_for_module("mariadb", tmp_path_factory)


def _setup(conn: sa.Connection) -> None:
    for table in ("events", "orders", "customers", "clients"):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    conn.exec_driver_sql("CREATE TABLE customers (id integer PRIMARY KEY) DEFAULT CHARSET=utf8mb4")
    conn.exec_driver_sql(
        "CREATE TABLE orders (id integer PRIMARY KEY, note varchar(40), ref integer,"
        " customer_id integer, amount numeric(10, 2), code varchar(20) NOT NULL DEFAULT 'x',"
        " state enum('new', 'paid'), KEY ix_orders_ref (ref)) DEFAULT CHARSET=utf8mb4"
    )
    conn.exec_driver_sql(
        "CREATE TABLE events (id integer NOT NULL, customer_id integer,"
        " CONSTRAINT fk_events FOREIGN KEY (customer_id) REFERENCES customers (id),"
        " CONSTRAINT ck_events CHECK (id > 0)) DEFAULT CHARSET=utf8mb4"
    )
    conn.exec_driver_sql("INSERT INTO customers VALUES (1), (2)")
    conn.exec_driver_sql("INSERT INTO orders (id, note, ref, customer_id) VALUES (1, 'a', 1, 1)")
    conn.exec_driver_sql("INSERT INTO events VALUES (1, 1)")
    conn.commit()


def _with(statement: str, algorithm: str, lock: str) -> str:
    """``statement`` asking for ``ALGORITHM`` and ``LOCK`` (refused if it cannot)."""
    options = f"ALGORITHM={algorithm}, LOCK={lock}"
    drop = re.match(r"DROP INDEX (\S+) ON (\S+)$", statement)
    if drop:
        return f"ALTER TABLE {drop.group(2)} DROP INDEX {drop.group(1)}, {options}"
    rename = re.match(r"RENAME TABLE (\S+) TO (\S+)$", statement)
    if rename:
        return f"ALTER TABLE {rename.group(1)} RENAME TO {rename.group(2)}, {options}"
    if statement.startswith(("CREATE INDEX", "CREATE UNIQUE INDEX")):
        return f"{statement} {options.replace(',', '')}"
    if statement.startswith("ALTER TABLE"):
        return f"{statement}, {options}"
    return statement


def _runs(url: str, case: str, algorithm: str, lock: str) -> tuple[bool, str]:
    """Whether the case's op runs with ``algorithm`` and ``lock``; the server's refusal."""
    engine = create_engine(url)

    def asking(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> tuple[str, Any]:
        return _with(statement.strip(), algorithm, lock), params

    try:
        with engine.connect() as conn:
            _setup(conn)
            op = _op(conn, case)
            sa.event.listen(engine, "before_cursor_execute", asking, retval=True)
            try:
                op.execute(OpContext(dialect=conn.dialect, connection=conn))
            except sa.exc.DBAPIError as refused:
                return False, str(refused.orig)
            finally:
                sa.event.remove(engine, "before_cursor_execute", asking)
            return True, ""
    finally:
        engine.dispose()


def _op(conn: sa.Connection, case: str) -> Op:
    recorded: list[Op] = []
    CASES[case](
        Operations(OpContext(dialect=conn.dialect, connection=conn), invoke=recorded.append)
    )
    (op,) = recorded
    return op


def _claim(url: str, case: str) -> tuple[Alter, tuple[int, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            _setup(conn)
            info = conn.dialect.server_version_info or ()
            version = tuple(n for n in info if isinstance(n, int))[:2]
            claim = mariadb_alter(_op(conn, case), reflect_schema(conn), version)
    finally:
        engine.dispose()
    assert claim is not None, f"{case}: the lint claims nothing"
    return claim, version


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_algorithm_each_op_gets_is_what_the_lint_says(url: str, case: str) -> None:
    claim, version = _claim(url, case)
    ran, why = _runs(url, case, claim.algorithm, claim.lock)
    assert ran, (
        f"{case}: the lint says {claim.algorithm}, LOCK={claim.lock}; MariaDB {version}: {why}"
    )
    cheaper = CHEAPEST_FIRST[: CHEAPEST_FIRST.index(claim.algorithm)]
    for algorithm in cheaper:
        ran, _ = _runs(url, case, algorithm, "EXCLUSIVE")
        assert not ran, f"{case}: the lint says {claim.algorithm}; MariaDB ran it {algorithm}"
    if claim.lock != "NONE":
        ran, _ = _runs(url, case, claim.algorithm, "NONE")
        assert not ran, f"{case}: the lint says LOCK={claim.lock}; MariaDB ran it LOCK=NONE"
