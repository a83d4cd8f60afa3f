"""How MariaDB runs each op's ALTER on a live InnoDB table: the cheapest ``ALGORITHM``
it allows, and the ``LOCK`` that goes with it.

``INSTANT`` changes only metadata; ``NOCOPY`` and ``INPLACE`` build indexes or
rebuild the table while reads and writes go on (``LOCK=NONE``); ``COPY`` copies
the table row by row and blocks writes until it is done, which is what the lint
warns about.  ``tests/lint/test_mariadb_claims.py`` runs every op it makes a
claim about on the real server with ``ALGORITHM=...`` and ``LOCK=...`` added
(MariaDB refuses an algorithm it cannot use) and compares.  What changed with
versions follows MariaDB's knowledge base ("InnoDB Online DDL Operations"):
``ADD COLUMN`` is instant from 10.3, ``DROP COLUMN`` from 10.4, and from 10.4 a
``VARCHAR`` whose stored length fits in one byte may grow into two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from distill.lint.locks import column_before
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
from distill.ops.table import RenameTable
from distill.schema.model import ColumnType, Schema

INSTANT, NOCOPY, INPLACE, COPY = "INSTANT", "NOCOPY", "INPLACE", "COPY"
# utf8mb4, the usual character set (Debian's default): four bytes a character.  The
# lint does not know a column's character set; it assumes this one.
BYTES_PER_CHARACTER = 4


@dataclass(frozen=True)
class Alter:
    algorithm: str  # INSTANT | NOCOPY | INPLACE | COPY
    lock: str = "NONE"  # the least LOCK= it allows: NONE lets reads and writes go on
    why: str = ""  # for COPY: what makes it copy


def mariadb_alter(op: Op, before: Schema, version: tuple[int, ...]) -> Alter | None:
    """How MariaDB ``version`` runs ``op`` on an existing table; None: not an ALTER."""
    if isinstance(op, AddColumn):
        return Alter(INSTANT if version >= (10, 3) else INPLACE)
    if isinstance(op, DropColumn):
        return Alter(INSTANT if version >= (10, 4) else INPLACE)
    if isinstance(op, AlterColumn):
        return _alter_column(op, before, version)
    if isinstance(op, (CreateIndex, DropIndex, CreateUnique)):
        return Alter(NOCOPY)
    if isinstance(op, CreatePrimaryKey):
        return Alter(INPLACE)
    if isinstance(op, CreateForeignKey):
        return Alter(COPY, "SHARED", "a foreign key added with foreign_key_checks on")
    if isinstance(op, CreateCheck):
        return Alter(COPY, "SHARED", "a CHECK constraint is checked by copying the rows")
    if isinstance(op, DropConstraint):
        if op.type_ == "primary":
            return Alter(COPY, "SHARED", "dropping the primary key rebuilds the clustered index")
        # A foreign key's own index, which MariaDB made for it, goes with it (NOCOPY).
        return Alter(NOCOPY if op.type_ in ("unique", "foreignkey") else INSTANT)
    if isinstance(op, RenameTable):
        return Alter(INSTANT, "EXCLUSIVE")  # for as long as it takes to change the name
    return None


def _alter_column(op: AlterColumn, before: Schema, version: tuple[int, ...]) -> Alter:
    old = column_before(before, op)
    if op.type_ is not None:
        why = _type_change_copies(old.type, op.type_, version) if old else "a type change"
        if why:
            return Alter(COPY, "SHARED", why)
    if op.nullable is not None and (old is None or op.nullable != old.nullable):
        return Alter(INPLACE)  # the table is rebuilt, online
    return Alter(INSTANT)  # a rename, a default, a comment


def _type_change_copies(old: ColumnType, new: Any, version: tuple[int, ...]) -> str:
    """Why changing a column from ``old`` to ``new`` copies the table; "" when it does not."""
    from sqlalchemy.dialects import mysql

    new_type: Any = sa.types.to_instance(new)
    sql = str(new_type.compile(dialect=mysql.dialect())).upper()
    if sql == old.sql.upper():
        return ""
    new_length = getattr(new_type, "length", None)
    if old.sql.upper().startswith("VARCHAR") and sql.startswith("VARCHAR"):
        if old.length is None or new_length is None or new_length < old.length:
            return f"{old.sql} to {sql} is not a longer VARCHAR"
        if _varchar_grows_in_place(old.length, new_length, version):
            return ""
        return (
            f"{old.sql} to {sql} takes the stored length from one byte to two "
            f"({BYTES_PER_CHARACTER} bytes a character, utf8mb4)"
        )
    values = tuple(getattr(new_type, "enums", ()) or ())
    if old.family == "enum" and values[: len(old.enum_values)] == old.enum_values:
        return ""  # values added at the end
    return f"{old.sql} to {sql} changes how every row is stored"


def _varchar_grows_in_place(old: int, new: int, version: tuple[int, ...]) -> bool:
    old_bytes, new_bytes = old * BYTES_PER_CHARACTER, new * BYTES_PER_CHARACTER
    if new_bytes <= 255 or old_bytes >= 256:
        return True  # the length prefix stays one byte, or was two already
    # From 10.4 a column whose values are all shorter than 128 bytes keeps one-byte
    # prefixes that a two-byte column reads as they are.
    return version >= (10, 4) and old_bytes <= 127
