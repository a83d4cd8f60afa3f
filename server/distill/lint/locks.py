"""What each op does to a live table on PostgreSQL: the lock it takes, and whether it
reads or rewrites the whole table while holding it.

The claims follow PostgreSQL's documentation of ``ALTER TABLE``, ``CREATE
INDEX`` and the lock modes, and ``tests/lint/test_lock_claims.py`` checks each
one on the real server: it runs the op inside a transaction and reads the locks
its backend holds (``pg_locks``) and whether the table's file changed
(``relfilenode``).  The lint's messages are built from these facts only.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from distill.ops.base import Op
from distill.ops.column import AddColumn, AlterColumn, DropColumn
from distill.ops.constraint import (
    CreateCheck,
    CreateForeignKey,
    CreatePrimaryKey,
    CreateUnique,
    DropConstraint,
)
from distill.ops.index import CreateIndex, DropIndex
from distill.ops.table import DropTable, RenameTable
from distill.schema.model import Column, ColumnType, Schema

ACCESS_EXCLUSIVE = "AccessExclusiveLock"
SHARE = "ShareLock"
SHARE_ROW_EXCLUSIVE = "ShareRowExclusiveLock"
SHARE_UPDATE_EXCLUSIVE = "ShareUpdateExclusiveLock"

# What other sessions cannot do on the table while the lock is held.
BLOCKS = {
    ACCESS_EXCLUSIVE: "reads and writes",
    SHARE: "writes",
    SHARE_ROW_EXCLUSIVE: "writes",
    SHARE_UPDATE_EXCLUSIVE: "other schema changes and VACUUM (not reads or writes)",
}
NAMES = {
    ACCESS_EXCLUSIVE: "ACCESS EXCLUSIVE",
    SHARE: "SHARE",
    SHARE_ROW_EXCLUSIVE: "SHARE ROW EXCLUSIVE",
    SHARE_UPDATE_EXCLUSIVE: "SHARE UPDATE EXCLUSIVE",
}

# Functions whose value differs per row: a column default calling one is computed
# for every existing row, which rewrites the table (a stable one such as now() is not).
VOLATILE = ("random(", "clock_timestamp(", "gen_random_uuid(", "uuid_generate_v", "timeofday(",
            "nextval(", "txid_current(")  # fmt: skip


@dataclass(frozen=True)
class TableLock:
    table: str
    mode: str  # pg_locks.mode, e.g. "AccessExclusiveLock"
    scans: bool = False  # reads every row while holding it (a validation, an index build)
    rewrites: bool = False  # writes the table anew (a new relfilenode)

    @property
    def name(self) -> str:
        return NAMES[self.mode]


def postgresql_locks(
    op: Op, before: Schema, version: tuple[int, ...], unvalidated: Set[str] = frozenset()
) -> list[TableLock]:
    """The locks ``op`` takes on existing tables, on PostgreSQL ``version`` ((major,));
    ``unvalidated`` names the CHECKs added NOT VALID and not validated since."""
    if isinstance(op, CreateIndex):
        concurrent = bool(op.kw.get("postgresql_concurrently"))
        mode = SHARE_UPDATE_EXCLUSIVE if concurrent else SHARE
        return [TableLock(op.table_name, mode, scans=True)]
    if isinstance(op, DropIndex):
        concurrent = bool(op.kw.get("postgresql_concurrently"))
        table = op.table_name or _table_of_index(before, op.index_name)
        mode = SHARE_UPDATE_EXCLUSIVE if concurrent else ACCESS_EXCLUSIVE
        return [TableLock(table, mode)] if table else []
    if isinstance(op, AddColumn):
        return [
            TableLock(op.table_name, ACCESS_EXCLUSIVE, rewrites=add_column_rewrites(op, version))
        ]
    if isinstance(op, AlterColumn):
        return [_alter_column_lock(op, before, version, unvalidated)]
    if isinstance(op, CreateForeignKey):
        valid = not op.kw.get("postgresql_not_valid")
        return [
            TableLock(op.table_name, SHARE_ROW_EXCLUSIVE, scans=valid),
            TableLock(op.referent_table, SHARE_ROW_EXCLUSIVE),
        ]
    if isinstance(op, CreateCheck):
        valid = not op.kw.get("postgresql_not_valid")
        return [TableLock(op.table_name, ACCESS_EXCLUSIVE, scans=valid)]
    if isinstance(op, (CreateUnique, CreatePrimaryKey)):
        return [TableLock(op.table_name, ACCESS_EXCLUSIVE, scans=True)]
    if isinstance(op, (DropColumn, DropConstraint)):
        return [TableLock(op.table_name, ACCESS_EXCLUSIVE)]
    if isinstance(op, DropTable):
        return [TableLock(op.table_name, ACCESS_EXCLUSIVE)]
    if isinstance(op, RenameTable):
        return [TableLock(op.old_name, ACCESS_EXCLUSIVE)]
    return []


def add_column_rewrites(op: AddColumn, version: tuple[int, ...]) -> bool:
    """A default computed per row (or any default before PostgreSQL 11) rewrites the table."""
    default = op.column.server_default
    if default is None:
        return False
    if version < (11,):
        return True
    text = str(getattr(default, "arg", default)).lower()
    return any(function in text for function in VOLATILE)


def _alter_column_lock(
    op: AlterColumn, before: Schema, version: tuple[int, ...], unvalidated: Set[str]
) -> TableLock:
    # From PostgreSQL 12, SET NOT NULL reads no row when a valid CHECK proves it.
    proven = version >= (12,) and proves_not_null(before, op, unvalidated)
    scans = op.nullable is False and not proven
    rewrites = False
    if op.type_ is not None:
        column = column_before(before, op)
        old = column.type if column is not None else None
        rewrites = old is None or type_change_rewrites(old, op.type_, op.postgresql_using)
        scans = scans or rewrites
    return TableLock(op.table_name, ACCESS_EXCLUSIVE, scans=scans, rewrites=rewrites)


_NOT_NULL_CHECK = re.compile(r'^[\s(]*"?(\w+)"?\s+IS\s+NOT\s+NULL[\s)]*$', re.IGNORECASE)


def proves_not_null(before: Schema, op: AlterColumn, unvalidated: Set[str]) -> bool:
    """Whether the table has a valid ``CHECK (column IS NOT NULL)`` for the op's column."""
    table = before.table(op.table_name, op.schema)
    for check in table.checks if table is not None else ():
        found = _NOT_NULL_CHECK.match(check.sqltext)
        if (
            found
            and found.group(1).lower() == op.column_name.lower()
            and str(check.name) not in unvalidated
        ):
            return True
    return False


def type_change_rewrites(old: ColumnType, new: object, using: str | None) -> bool:
    """Whether changing a column from ``old`` to ``new`` rewrites the table.

    Binary-compatible changes do not: a longer (or unlimited) VARCHAR, VARCHAR
    to TEXT, and a NUMERIC with more precision at the same scale.  Anything else,
    and any USING, does."""
    if using:
        return True
    from sqlalchemy.dialects import postgresql

    new_type: Any = sa.types.to_instance(new)  # type: ignore[call-overload]
    sql = str(new_type.compile(dialect=postgresql.dialect())).upper()  # type: ignore[no-untyped-call]
    new_length = getattr(new_type, "length", None)
    if old.family in ("string", "text") and sql.startswith(("VARCHAR", "TEXT")):
        if sql.startswith("TEXT") or new_length is None:
            return old.sql.upper().startswith("CHAR(")  # CHAR pads: it is not binary-compatible
        return old.family == "text" or old.length is None or new_length < old.length
    if old.family == "numeric" and sql.startswith(("NUMERIC", "DECIMAL")):
        precision, scale = getattr(new_type, "precision", None), getattr(new_type, "scale", None)
        if precision is None and scale is None:
            return False  # unconstrained NUMERIC holds every value as it is
        return not (
            old.precision is not None
            and precision is not None
            and precision >= old.precision
            and (scale or 0) == (old.scale or 0)
        )
    return sql != old.sql.upper()


def column_before(before: Schema, op: AlterColumn) -> Column | None:
    """The column ``op`` alters, as the schema before it has it."""
    table = before.table(op.table_name, op.schema)
    return table.column(op.column_name) if table is not None else None


def _table_of_index(schema: Schema, name: str) -> str | None:
    return next((t.name for t in schema.tables for i in t.indexes if i.name == name), None)
