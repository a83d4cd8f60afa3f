"""SQLAlchemy ``MetaData`` -> ``Schema``: what ``metadata.create_all()`` builds on a dialect.

Everything is decided as the dialect's own DDL compiler decides it (``ddl_facts``):
constraint names through the naming convention and truncated as the DDL would,
server defaults as the SQL text the DDL would emit, type-bound CHECK constraints
(``Boolean``/``Enum(create_constraint=True)``) only where the dialect creates
them, comments only where the dialect stores them, primary-key names not at all
on MySQL/MariaDB (which call every primary key PRIMARY).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.compiler import DDLCompiler

from distill.schema.ddl_facts import (
    constraint_name,
    ddl_compiler,
    dialect_flavour,
    index_options,
    is_created,
    schema_dialect_name,
    sql_text,
)
from distill.schema.model import (
    CheckConstraint,
    Column,
    Computed,
    EnumType,
    ForeignKey,
    Identity,
    Index,
    PrimaryKey,
    Schema,
    Table,
    UniqueConstraint,
    sorted_tables,
)
from distill.schema.types import column_type, stored_type


def schema_from_metadata(
    metadata: sa.MetaData, dialect: sa.Dialect, *, schemas: Sequence[str | None] = (None,)
) -> Schema:
    """The schema ``metadata.create_all()`` would build on ``dialect``, for ``schemas``."""
    wanted = set(schemas)
    tables = [schema_table(t, dialect) for t in metadata.tables.values() if t.schema in wanted]
    enums: dict[tuple[str | None, str], EnumType] = {}
    if dialect.name == "postgresql":
        for table in metadata.tables.values():
            if table.schema in wanted:
                enums.update(_native_enums(table, dialect))
    return Schema(
        dialect=schema_dialect_name(dialect),
        tables=sorted_tables(tables),
        enums=tuple(enums[key] for key in sorted(enums, key=lambda k: (k[0] or "", k[1]))),
        flavour=dialect_flavour(dialect),
    )


def _native_enums(table: sa.Table, dialect: sa.Dialect) -> dict[tuple[str | None, str], EnumType]:
    found = {}
    for column in table.columns:
        stored = stored_type(column.type, dialect)
        if not isinstance(stored, sa.Enum):
            continue  # checked first: converting every column's type again doubled the cost
        ctype = column_type(column.type, dialect)
        if ctype.enum_name:
            schema = stored.schema
            found[(schema, ctype.enum_name)] = EnumType(
                name=ctype.enum_name, values=ctype.enum_values, schema=schema
            )
    return found


# -- one table --------------------------------------------------------------------------


def schema_table(table: sa.Table, dialect: sa.Dialect) -> Table:
    compiler = ddl_compiler(dialect)
    created = [c for c in table.constraints if is_created(c, compiler)]
    return Table(
        name=table.name,
        schema=table.schema,
        columns=tuple(schema_column(c, dialect, compiler) for c in table.columns),
        primary_key=_primary_key(table, dialect),
        foreign_keys=_sorted(
            _foreign_key(c, dialect) for c in created if isinstance(c, sa.ForeignKeyConstraint)
        ),
        indexes=tuple(
            sorted((_index(i, dialect, compiler) for i in table.indexes), key=lambda i: i.name)
        ),
        uniques=_sorted(
            UniqueConstraint(tuple(col.name for col in c.columns), constraint_name(c, dialect))
            for c in created
            if isinstance(c, sa.UniqueConstraint) and not isinstance(c, sa.PrimaryKeyConstraint)
        ),
        checks=_sorted(_checks(table, created, dialect, compiler)),
        comment=table.comment if dialect.supports_comments else None,
        sqlite_autoincrement=dialect.name == "sqlite" and _sqlite_autoincrement(table),
    )


def _sqlite_autoincrement(table: sa.Table) -> bool:
    """Whether SQLAlchemy writes AUTOINCREMENT into this table's CREATE TABLE.

    It does for ``sqlite_autoincrement=True`` only on a one-column integer key
    that is not also a foreign key; otherwise the option is silently ignored.
    """
    if not table.dialect_options["sqlite"]["autoincrement"]:
        return False
    key = list(table.primary_key.columns)
    return (
        len(key) == 1
        and issubclass(key[0].type._type_affinity or type(None), sa.Integer)
        and not key[0].foreign_keys
    )


def schema_column(
    column: sa.Column[Any], dialect: sa.Dialect, compiler: DDLCompiler | None = None
) -> Column:
    compiler = compiler or ddl_compiler(dialect)
    identity = column.identity if dialect.supports_identity_columns else None
    ctype = column_type(column.type, dialect)
    return Column(
        name=column.name,
        type=ctype,
        nullable=bool(column.nullable),
        server_default=compiler.get_column_default_string(column),
        comment=column.comment if dialect.supports_comments else None,
        autoincrement=_autoincrement(column, ctype.sql, identity, dialect),
        computed=_computed(column, compiler),
        identity=_identity(identity) if identity is not None else None,
    )


def _autoincrement(
    column: sa.Column[Any], sql: str, identity: sa.Identity | None, dialect: sa.Dialect
) -> bool | None:
    """True when the database numbers the column itself, as reflection reports it."""
    if identity is not None:
        return True
    table = getattr(column, "table", None)
    if not isinstance(table, sa.Table) or table.autoincrement_column is not column:
        return None
    # SQLite numbers only an INTEGER PRIMARY KEY (the rowid); SQLAlchemy still
    # calls a BIGINT key its autoincrement column but emits no AUTOINCREMENT.
    if dialect.name == "sqlite" and sql.upper() != "INTEGER":
        return None
    return True


def _computed(column: sa.Column[Any], compiler: DDLCompiler) -> Computed | None:
    if column.computed is None:
        return None
    return Computed(sql_text(column.computed.sqltext, compiler), column.computed.persisted)


def _identity(identity: sa.Identity) -> Identity:
    return Identity(
        always=bool(identity.always), start=identity.start, increment=identity.increment
    )


def _primary_key(table: sa.Table, dialect: sa.Dialect) -> PrimaryKey | None:
    pk = table.primary_key
    if not pk.columns:
        return None
    # MySQL/MariaDB call every primary key PRIMARY, whatever name the DDL gives.
    name = None if schema_dialect_name(dialect) == "mysql" else constraint_name(pk, dialect)
    return PrimaryKey(tuple(c.name for c in pk.columns), name)


def _foreign_key(fk: sa.ForeignKeyConstraint, dialect: sa.Dialect) -> ForeignKey:
    targets = [_target(element) for element in fk.elements]
    ref_schema, ref_table = targets[0][0], targets[0][1]
    return ForeignKey(
        columns=tuple(element.parent.name for element in fk.elements),
        ref_table=ref_table,
        ref_columns=tuple(t[2] for t in targets),
        name=constraint_name(fk, dialect),
        ref_schema=ref_schema,
        ondelete=fk.ondelete.upper() if fk.ondelete else None,
        onupdate=fk.onupdate.upper() if fk.onupdate else None,
        # NOT DEFERRABLE is what every dialect does unasked; only "deferrable" is news.
        deferrable=fk.deferrable or None,
        initially=fk.initially.upper() if fk.initially else None,
    )


def _target(element: sa.ForeignKey) -> tuple[str | None, str, str]:
    """(schema, table, column) the foreign key points at."""
    try:
        column = element.column
    except sa.exc.NoReferenceError:
        # The referred table is not in this MetaData; its spec still names it.
        parts = element.target_fullname.split(".")
        schema = ".".join(parts[:-2]) or None
        return schema, parts[-2], parts[-1]
    table = column.table
    assert isinstance(table, sa.Table)
    return table.schema, table.name, column.name


def schema_index(index: sa.Index, dialect: sa.Dialect) -> Index:
    """One index as the dialect creates it, without converting its table's columns."""
    return _index(index, dialect, ddl_compiler(dialect))


def _index(index: sa.Index, dialect: sa.Dialect, compiler: DDLCompiler) -> Index:
    columns: list[str] = []
    flags: list[bool] = []
    for expression in index.expressions:
        if isinstance(expression, sa.Column):
            columns.append(expression.name)
            flags.append(False)
        else:
            columns.append(sql_text(expression, compiler))
            flags.append(True)
    name = constraint_name(index, dialect)
    assert name is not None, "an Index always has a name"
    return Index(
        name=name,
        columns=tuple(columns),
        expressions=tuple(flags),
        unique=bool(index.unique),
        dialect_options=index_options(
            index.dialect_kwargs.items(),
            dialect,
            [c for c, e in zip(columns, flags, strict=True) if not e],
            compiler,
        ),
    )


def _checks(
    table: sa.Table, created: list[Any], dialect: sa.Dialect, compiler: DDLCompiler
) -> Iterable[CheckConstraint]:
    for item in created:
        if isinstance(item, sa.CheckConstraint):
            yield CheckConstraint(sql_text(item.sqltext, compiler), constraint_name(item, dialect))
    # A check given inside a Column(...) is rendered with the column, not the table.
    for column in table.columns:
        for item in column.constraints:
            if isinstance(item, sa.CheckConstraint) and is_created(item, compiler):
                yield CheckConstraint(
                    sql_text(item.sqltext, compiler), constraint_name(item, dialect)
                )


def _sorted(items: Iterable[Any]) -> tuple[Any, ...]:
    # Constraints have no meaningful order; sort by name, unnamed ones by content.
    return tuple(sorted(items, key=lambda c: (c.name or "", repr(c))))


__all__ = [
    "dialect_flavour",
    "schema_column",
    "schema_dialect_name",
    "schema_from_metadata",
    "schema_table",
]
