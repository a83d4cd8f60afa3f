"""The lint's rules: what in a revision hurts a live database, and what to write instead.

Each rule has a stable code, a default severity and a check that reads one
recorded op with the facts of the run (``Facts``): the dialect and its
version, the schema just before the op, whether the table existed before this
upgrade run (a table created in the same run has no traffic to block), and
whether the op runs inside ``autocommit_block()``.  Run-level rules (locks
held across revisions, no lock timeout, a foreign key without an index) look
at a whole revision.  ``docs/safety.md`` explains every rule and its fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from distill.lint.locks import (
    BLOCKS,
    SHARE,
    TableLock,
    add_column_rewrites,
)
from distill.lint.mariadb import COPY, mariadb_alter
from distill.ops.base import Op
from distill.ops.column import AddColumn, AlterColumn, DropColumn
from distill.ops.constraint import CreateCheck, CreateForeignKey, CreatePrimaryKey, CreateUnique
from distill.ops.enum import AddEnumValue, RecreateEnumType
from distill.ops.index import CreateIndex, DropIndex
from distill.ops.table import DropTable, RenameTable
from distill.schema.model import Schema


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str  # the default: "error" | "warning" | "information"
    summary: str
    fix: str | None = None  # the fix ``distill lint --fix`` and the editor apply


RULES = {
    rule.code: rule
    for rule in (
        Rule(
            "index-not-concurrent",
            "error",
            "CREATE INDEX on an existing table without CONCURRENTLY blocks writes while it builds",
            fix="concurrent-index",
        ),
        Rule(
            "drop-index-not-concurrent",
            "warning",
            "DROP INDEX without CONCURRENTLY waits for, then blocks, every query on the table",
            fix="concurrent-index",
        ),
        Rule(
            "concurrently-in-transaction",
            "error",
            "CONCURRENTLY cannot run inside a transaction: PostgreSQL refuses it",
            fix="autocommit-block",
        ),
        Rule(
            "concurrent-index-may-be-invalid",
            "information",
            "a CONCURRENTLY build that fails leaves an INVALID index behind",
        ),
        Rule(
            "not-null-column-without-default",
            "error",
            "a NOT NULL column without a server default cannot be added to a table with rows",
            fix="split-not-null",
        ),
        Rule("set-not-null", "error", "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE"),
        Rule(
            "volatile-default",
            "warning",
            "a column default computed per row rewrites the whole table",
        ),
        Rule(
            "foreign-key-not-valid",
            "error",
            "a new foreign key is checked against every row while both tables block writes",
            fix="not-valid",
        ),
        Rule(
            "check-not-valid",
            "error",
            "a new CHECK is checked against every row under ACCESS EXCLUSIVE",
            fix="not-valid",
        ),
        Rule(
            "unique-constraint",
            "warning",
            "ADD UNIQUE builds its index under ACCESS EXCLUSIVE; build it CONCURRENTLY, then "
            "ADD CONSTRAINT ... USING INDEX",
        ),
        Rule("primary-key", "warning", "ADD PRIMARY KEY builds its index under ACCESS EXCLUSIVE"),
        Rule(
            "type-change-rewrite",
            "error",
            "this column type change rewrites the whole table under ACCESS EXCLUSIVE",
        ),
        Rule(
            "drop-column",
            "warning",
            "code still running may read the dropped column",
        ),
        Rule(
            "drop-table",
            "warning",
            "code still running may use the dropped table",
        ),
        Rule(
            "rename-column",
            "warning",
            "code still running uses the old column name",
        ),
        Rule(
            "rename-table",
            "warning",
            "code still running uses the old table name",
        ),
        Rule(
            "enum-recreated",
            "warning",
            "recreating an enum type (a value removed or reordered) rewrites every column using it",
        ),
        Rule(
            "enum-value-in-transaction",
            "error",
            "before PostgreSQL 12, ALTER TYPE ... ADD VALUE cannot run inside a transaction",
            fix="autocommit-block",
        ),
        Rule(
            "foreign-key-without-index",
            "warning",
            "no index on the referencing columns: deletes on the referenced table scan this one",
        ),
        Rule(
            "locks-held-across-revisions",
            "warning",
            "the upgrade runs in one transaction, so this revision's locks are held until it ends",
        ),
        Rule(
            "no-lock-timeout",
            "warning",
            "ACCESS EXCLUSIVE on an existing table with no lock timeout: a long query ahead of "
            "it queues every other query behind it",
            fix="lock-timeout",
        ),
        Rule(
            "mysql-copy-alter",
            "warning",
            "this ALTER cannot run INSTANT or INPLACE: MariaDB/MySQL copies the table, blocking "
            "writes",
        ),
        Rule(
            "sqlite-rebuild",
            "information",
            "SQLite has no ALTER for this: the table is copied, under the database's write lock",
        ),
        Rule(
            "unused-ignore",
            "warning",
            "a '# distill: ignore[...]' that suppresses nothing",
        ),
    )
}


@dataclass
class Facts:
    """What the rules know of the run around the op being read."""

    dialect: str  # "postgresql", "mysql", "sqlite"
    version: tuple[int, ...]  # the server version the lint targets: (15,), (10, 11)
    before: Schema  # just before the op
    existing: frozenset[tuple[str | None, str]]  # tables there before this upgrade run
    in_autocommit_block: bool = False
    # The locks the op takes on PostgreSQL (``locks.postgresql_locks``), read once per op.
    locks: tuple[TableLock, ...] = ()

    def live(self, table: str | None, schema: str | None = None) -> bool:
        """Whether ``table`` existed before the run (and so has traffic to block)."""
        return table is not None and (schema, table) in self.existing


@dataclass(frozen=True)
class Hit:
    code: str
    message: str
    fixable: bool = True  # whether the rule's fix applies here (some are for one dialect)


def check_op(op: Op, facts: Facts) -> Iterator[Hit]:
    """Every rule's findings on one op."""
    yield from _contract(op, facts)
    if facts.dialect == "postgresql":
        yield from _postgresql(op, facts)
    elif facts.dialect == "mysql":
        yield from _mysql(op, facts)
    elif facts.dialect == "sqlite":
        yield from _sqlite(op, facts)
    if isinstance(op, AddColumn) and facts.live(op.table_name, op.schema):
        column = op.column
        if not column.nullable and column.server_default is None and column.computed is None:
            yield Hit(
                "not-null-column-without-default",
                f"{op.table_name}.{column.name} is added NOT NULL without a server default: "
                "the upgrade fails if the table has rows; add it nullable, backfill, "
                "then set NOT NULL",
                fixable=facts.dialect == "postgresql",  # the split relies on NOT VALID
            )


def _postgresql(op: Op, facts: Facts) -> Iterator[Hit]:
    table = getattr(op, "table_name", None)
    live = facts.live(table, getattr(op, "schema", None))
    locks = facts.locks
    if isinstance(op, CreateIndex):
        concurrent = bool(op.kw.get("postgresql_concurrently"))
        if concurrent and not facts.in_autocommit_block:
            yield Hit(
                "concurrently-in-transaction",
                f"CREATE INDEX CONCURRENTLY {op.index_name} runs inside the revision's "
                "transaction, which PostgreSQL refuses; put it in "
                "'with op.get_context().autocommit_block():'",
            )
        elif concurrent and live:
            yield Hit(
                "concurrent-index-may-be-invalid",
                f"if building {op.index_name} CONCURRENTLY fails, an INVALID index stays: "
                "'DROP INDEX CONCURRENTLY IF EXISTS' it before trying again",
            )
        elif live:
            yield Hit(
                "index-not-concurrent",
                f"CREATE INDEX {op.index_name} holds SHARE on {table}, blocking "
                f"{BLOCKS[SHARE]} while it reads every row; pass "
                "postgresql_concurrently=True "
                "inside an autocommit_block()",
            )
    elif isinstance(op, DropIndex) and locks and facts.live(locks[0].table):
        concurrent = bool(op.kw.get("postgresql_concurrently"))
        if concurrent and not facts.in_autocommit_block:
            yield Hit(
                "concurrently-in-transaction",
                f"DROP INDEX CONCURRENTLY {op.index_name} runs inside the revision's "
                "transaction, which PostgreSQL refuses; put it in an autocommit_block()",
            )
        elif not concurrent:
            yield Hit(
                "drop-index-not-concurrent",
                f"DROP INDEX {op.index_name} holds ACCESS EXCLUSIVE on {locks[0].table}; "
                "pass postgresql_concurrently=True inside an autocommit_block()",
            )
    elif isinstance(op, AddColumn) and live and add_column_rewrites(op, facts.version):
        yield Hit(
            "volatile-default",
            f"{table}.{op.column.name}'s default is computed for every existing row: the "
            f"table is rewritten under ACCESS EXCLUSIVE; add the column without it, then "
            "set the default and backfill in batches",
        )
    elif isinstance(op, AlterColumn) and live:
        yield from _alter_column(op, locks)
    elif isinstance(op, CreateForeignKey) and live and not op.kw.get("postgresql_not_valid"):
        yield Hit(
            "foreign-key-not-valid",
            f"foreign key {op.name or ''} on {table} is checked against every row while "
            f"{table} and {op.referent_table} block writes; add it with "
            "postgresql_not_valid=True, then VALIDATE CONSTRAINT in a later step",
        )
    elif isinstance(op, CreateCheck) and live and not op.kw.get("postgresql_not_valid"):
        yield Hit(
            "check-not-valid",
            f"CHECK {op.name or ''} on {table} is checked against every row under ACCESS "
            "EXCLUSIVE; add it with postgresql_not_valid=True, then VALIDATE CONSTRAINT",
        )
    elif isinstance(op, CreateUnique) and live:
        yield Hit(
            "unique-constraint",
            f"UNIQUE {op.name or ''} on {table} builds its index under ACCESS EXCLUSIVE; "
            "create the unique index CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX",
        )
    elif isinstance(op, CreatePrimaryKey) and live:
        yield Hit(
            "primary-key",
            f"PRIMARY KEY on {table} builds its index under ACCESS EXCLUSIVE; create the "
            "unique index CONCURRENTLY, then ADD PRIMARY KEY USING INDEX",
        )
    elif isinstance(op, RecreateEnumType) and any(facts.live(t, op.schema) for t, _ in op.columns):
        yield Hit(
            "enum-recreated",
            f"recreating enum type {op.name} rewrites {', '.join(t for t, _ in op.columns)}",
        )
    elif isinstance(op, AddEnumValue) and facts.version < (12,) and not facts.in_autocommit_block:
        yield Hit(
            "enum-value-in-transaction",
            f"ALTER TYPE {op.name} ADD VALUE cannot run in a transaction before "
            "PostgreSQL 12; put it in an autocommit_block()",
        )


def _alter_column(op: AlterColumn, locks: tuple[TableLock, ...]) -> Iterator[Hit]:
    (lock,) = locks
    if lock.rewrites:
        yield Hit(
            "type-change-rewrite",
            f"{op.table_name}.{op.column_name}: this type change rewrites {op.table_name} "
            "under ACCESS EXCLUSIVE (blocking reads and writes); add a new column, "
            "backfill it, and switch over",
        )
    elif op.nullable is False and lock.scans:
        yield Hit(
            "set-not-null",
            f"SET NOT NULL on {op.table_name}.{op.column_name} scans every row under "
            "ACCESS EXCLUSIVE; add CHECK (... IS NOT NULL) NOT VALID, VALIDATE it, then "
            "SET NOT NULL (PostgreSQL 12+ then skips the scan)",
        )


def _contract(op: Op, facts: Facts) -> Iterator[Hit]:
    """Changes that break code still running against the old schema ("contract" steps)."""
    if isinstance(op, DropColumn) and facts.live(op.table_name, op.schema):
        yield Hit(
            "drop-column",
            f"dropping {op.table_name}.{op.column_name}: code still "
            "running may read it; stop using it in a release before this one",
        )
    elif isinstance(op, DropTable) and facts.live(op.table_name, op.schema):
        yield Hit("drop-table", f"dropping table {op.table_name}: code still running may use it")
    elif isinstance(op, RenameTable) and facts.live(op.old_name, op.schema):
        yield Hit(
            "rename-table",
            f"renaming {op.old_name} to {op.new_name}: code still running uses the old name",
        )
    elif (
        isinstance(op, AlterColumn) and op.new_column_name and facts.live(op.table_name, op.schema)
    ):
        yield Hit(
            "rename-column",
            f"renaming {op.table_name}.{op.column_name} to "
            f"{op.new_column_name}: code still running uses the old name",
        )


def table_of(op: Op) -> str | None:
    """The table an op changes (a rename's: its old name)."""
    name = getattr(op, "table_name", None) or getattr(op, "old_name", None)
    return name if isinstance(name, str) else None


def _mysql(op: Op, facts: Facts) -> Iterator[Hit]:
    table = table_of(op)
    if not facts.live(table, getattr(op, "schema", None)):
        return
    alter = mariadb_alter(op, facts.before, facts.version)
    if alter is not None and alter.algorithm == COPY:
        server = "MariaDB" if facts.version >= (10,) else "MySQL"  # MySQL is 5.x to 9.x
        version = ".".join(map(str, facts.version))
        yield Hit(
            "mysql-copy-alter",
            f"{op.describe()}: {alter.why}, so {server} {version} has no INSTANT or INPLACE "
            f"way: {table} is copied (ALGORITHM=COPY), blocking writes until it is done",
        )


def _sqlite(op: Op, facts: Facts) -> Iterator[Hit]:
    from distill.ops.base import TableChange

    if not isinstance(op, TableChange) or not facts.live(op.table_name, op.schema):
        return
    if isinstance(op, (AlterColumn, CreateForeignKey, CreateCheck, CreateUnique, CreatePrimaryKey)):
        yield Hit(
            "sqlite-rebuild",
            f"{op.describe()} rebuilds {op.table_name}: every row is "
            "copied while the database is locked for writing",
        )
