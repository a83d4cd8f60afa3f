"""MySQL and MariaDB: ALTER ... MODIFY/CHANGE needs the whole column definition.

MySQL has no "change only the nullability" clause: ``MODIFY`` restates the
column, and whatever is not restated (default, comment, NOT NULL) is lost.
Alembic therefore asks users for ``existing_type``/``existing_nullable``/...;
when we are online the live column is read instead, so a forgotten
``existing_*`` argument cannot silently drop a default.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from distill.ddl.alteration import ColumnAlteration
from distill.ddl.common import alter_table, column_spec, default_sql, quote
from distill.errors import OperationError

if TYPE_CHECKING:
    from distill.ddl.context import OpContext


@dataclass
class LiveColumn:
    type: Any
    nullable: bool
    server_default: Any  # None for no default
    comment: str | None
    autoincrement: bool


def reflect_column(conn: Connection, table: str, column: str, schema: str | None) -> LiveColumn:
    for col in sa.inspect(conn).get_columns(table, schema=schema):
        if col["name"] == column:
            default = col.get("default")
            return LiveColumn(
                col["type"],
                bool(col["nullable"]),
                None if default is None or default.upper() == "NULL" else sa.text(default),
                col.get("comment"),
                bool(col.get("autoincrement", False)),
            )
    raise OperationError(f"table {table!r} has no column {column!r}; check the names")


def _existing(ctx: OpContext, change: ColumnAlteration) -> LiveColumn:
    if ctx.as_alembic:
        return _as_alembic(ctx, change)
    given = _stated(change)
    if ctx.is_offline:
        needed = [
            arg
            for arg, missing in (
                ("existing_type", change.type_ is None and change.existing_type is None),
                ("existing_nullable", change.nullable is None and change.existing_nullable is None),
                (
                    "existing_server_default",
                    change.server_default is False and change.existing_server_default is False,
                ),
            )
            if missing
        ]
        if needed:
            raise OperationError(
                f"op.alter_column({change.table_name!r}, {change.column_name!r}) on MySQL/MariaDB "
                f"restates the whole column and with --sql it cannot be read; pass "
                f"{', '.join(needed)}"
            )
        return given
    live = reflect_column(ctx.connection, change.table_name, change.column_name, change.schema)
    # What the script states wins over what the database says.
    return LiveColumn(
        change.existing_type if change.existing_type is not None else live.type,
        change.existing_nullable if change.existing_nullable is not None else live.nullable,
        live.server_default
        if change.existing_server_default is False
        else change.existing_server_default,
        change.existing_comment if change.existing_comment is not None else live.comment,
        live.autoincrement,
    )


def _stated(change: ColumnAlteration) -> LiveColumn:
    """The column as the script states it, unstated parts as MySQL takes them."""
    return LiveColumn(
        change.existing_type,
        change.existing_nullable if change.existing_nullable is not None else True,
        None if change.existing_server_default is False else change.existing_server_default,
        change.existing_comment,
        change.existing_autoincrement,
    )


def _as_alembic(ctx: OpContext, change: ColumnAlteration) -> LiveColumn:
    """What Alembic restates: only the ``existing_*`` arguments given, so an unstated
    NOT NULL, default or comment is lost — and said, since it is rarely meant.

    Alembic refuses a MODIFY without ``existing_type``; the live type is used instead
    (a better answer, docs/alembic.md)."""
    stated = _stated(change)
    if ctx.is_offline:
        if change.type_ is None and change.existing_type is None:
            raise OperationError(
                f"op.alter_column({change.table_name!r}, {change.column_name!r}) on MySQL/MariaDB "
                "restates the whole column and with --sql it cannot be read; pass existing_type"
            )
        return stated
    live = reflect_column(ctx.connection, change.table_name, change.column_name, change.schema)
    checks = (
        (change.nullable is None and stated.nullable and not live.nullable,
         "makes it NULL", "existing_nullable=False"),
        (change.server_default is False and stated.server_default is None
         and live.server_default is not None, "drops its default", "existing_server_default=..."),
        (change.comment is False and stated.comment is None and live.comment is not None,
         "drops its comment", "existing_comment=..."),
        (not stated.autoincrement and live.autoincrement,
         "drops AUTO_INCREMENT", "existing_autoincrement=True"),
    )  # fmt: skip
    lost = [(what, keep) for is_lost, what, keep in checks if is_lost]
    if lost:
        ctx.warnings.append(
            f"warning: op.alter_column({change.table_name!r}, {change.column_name!r}) restates the "
            f"column as Alembic's MODIFY does, which {', '.join(w for w, _ in lost)}; pass "
            f"{', '.join(k for _, k in lost)} to keep it"
        )
    return replace(stated, type=stated.type if stated.type is not None else live.type)


def alter_column(ctx: OpContext, change: ColumnAlteration) -> list[Any]:
    d = ctx.dialect
    col = quote(d, change.column_name)
    restates = (
        change.type_ is not None or change.nullable is not None or change.comment is not False
    )
    if not restates and change.new_column_name is None:
        if change.server_default is False:
            return []
        default = default_sql(d, change.server_default)
        clause = "DROP DEFAULT" if default is None else f"SET DEFAULT {default}"
        return [alter_table(d, change.table_name, change.schema, f"ALTER COLUMN {col} {clause}")]
    if not restates and change.server_default is False and not ctx.as_alembic:
        # A rename alone keeps the column as it is (Alembic's CHANGE COLUMN restates it).
        assert change.new_column_name is not None
        new = quote(d, change.new_column_name)
        return [alter_table(d, change.table_name, change.schema, f"RENAME COLUMN {col} TO {new}")]
    old = _existing(ctx, change)
    column = sa.Column(
        change.new_column_name or change.column_name,
        change.type_ if change.type_ is not None else old.type,
        nullable=change.nullable if change.nullable is not None else old.nullable,
        server_default=old.server_default
        if change.server_default is False
        else change.server_default,
        comment=old.comment if change.comment is False else change.comment,
        primary_key=old.autoincrement,
        autoincrement=old.autoincrement,
    )
    sa.Table(change.table_name, sa.MetaData(), column, schema=change.schema)
    if change.new_column_name is not None:
        clause = f"CHANGE COLUMN {col} {column_spec(d, column)}"
    else:
        clause = f"MODIFY {column_spec(d, column)}"
    return [alter_table(d, change.table_name, change.schema, clause)]


def constraint_type(conn: Connection, table: str, name: str, schema: str | None) -> str:
    """Which kind of constraint ``name`` is, for DROP FOREIGN KEY/INDEX/CHECK."""
    inspector = sa.inspect(conn)
    kinds = (
        ("foreignkey", inspector.get_foreign_keys),
        ("unique", inspector.get_unique_constraints),
        ("check", inspector.get_check_constraints),
    )
    for kind, get in kinds:
        if any(item["name"] == name for item in get(table, schema=schema)):
            return kind
    if name == "PRIMARY":
        return "primary"
    raise OperationError(
        f"table {table!r} has no constraint named {name!r}; check the name, or pass type_="
    )


def index_table(conn: Connection, name: str, schema: str | None) -> str:
    """The table an index belongs to: MySQL's DROP INDEX needs it."""
    rows = conn.execute(
        sa.text(
            "SELECT DISTINCT table_name FROM information_schema.statistics "
            "WHERE index_name = :name AND table_schema = COALESCE(:schema, DATABASE())"
        ),
        {"name": name, "schema": schema},
    ).all()
    if len(rows) != 1:
        where = "no table" if not rows else "several tables"
        raise OperationError(f"index {name!r} is on {where}; pass table_name= to op.drop_index()")
    return str(rows[0][0])


def drop_constraint(
    ctx: OpContext, table: str, name: str, kind: str, schema: str | None, if_exists: bool
) -> Any:
    # Written out rather than sa.schema.DropConstraint: that ignores IF EXISTS here.
    d = ctx.dialect
    exists = "IF EXISTS " if if_exists else ""
    if kind == "primary":
        clause = "DROP PRIMARY KEY"
    elif kind == "foreignkey":
        clause = f"DROP FOREIGN KEY {exists}{quote(d, name)}"
    elif kind == "unique":
        clause = f"DROP INDEX {exists}{quote(d, name)}"
    elif ctx.is_mariadb:
        clause = f"DROP CONSTRAINT {exists}{quote(d, name)}"
    else:
        clause = f"DROP CHECK {quote(d, name)}"
    return alter_table(d, table, schema, clause)
