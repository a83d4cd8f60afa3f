"""What an ``ALTER COLUMN`` changes, as plain values the dialect functions read.

The op (``ops.column.AlterColumn``) is what a script asked for; this is the
part the DDL needs, frozen, so ``ddl`` never sees an op.  ``False`` means "not
given" for defaults and comments, where ``None`` means "none" (Alembic's rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ColumnAlteration:
    table_name: str
    column_name: str
    schema: str | None = None
    type_: Any = None
    nullable: bool | None = None
    server_default: Any = False
    comment: Any = False
    new_column_name: str | None = None
    existing_type: Any = None
    existing_nullable: bool | None = None
    existing_server_default: Any = False
    existing_comment: str | None = None
    existing_autoincrement: bool = False
    postgresql_using: str | None = None
