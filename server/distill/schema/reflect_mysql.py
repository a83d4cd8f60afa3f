"""MariaDB -> Tables in five information_schema queries per schema.

SQLAlchemy's MySQL dialect has no bulk reflection: its ``get_multi_*`` methods
run ``SHOW CREATE TABLE`` once per table.  information_schema has every fact
needed for all tables at once, so this reads it directly.  The column
defaults are read as MariaDB (10.2.7+) reports them — string literals quoted,
``NULL`` for no default — which is the form its SHOW CREATE TABLE uses too.

Two MariaDB artefacts are taken back to what the model said:
- a JSON column is stored as LONGTEXT with a column CHECK ``json_valid(col)``;
  it is reported as JSON and the CHECK is dropped;
- a foreign key on columns no index starts with gets an index MariaDB creates
  itself, named after the constraint; that index is dropped.
BOOLEAN, stored as TINYINT(1), is left as TINYINT(1): nothing in the catalog
tells a boolean from a one-digit integer.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects.mysql.base import ischema_names

from distill.schema.ddl_facts import index_options
from distill.schema.model import (
    CheckConstraint,
    Column,
    Computed,
    ForeignKey,
    Index,
    PrimaryKey,
    Table,
    UniqueConstraint,
)
from distill.schema.types import column_type

Row = Any

_TABLES = """
SELECT TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES
WHERE TABLE_SCHEMA = %(schema)s AND TABLE_TYPE = 'BASE TABLE'
"""
_COLUMNS = """
SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA,
       COLUMN_COMMENT, GENERATION_EXPRESSION
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %(schema)s
ORDER BY TABLE_NAME, ORDINAL_POSITION
"""
_INDEXES = """
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %(schema)s
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
"""
_FOREIGN_KEYS = """
SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA,
       k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME
 AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
WHERE k.TABLE_SCHEMA = %(schema)s
ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
"""
_CHECKS = """
SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE, LEVEL
FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %(schema)s
"""


def reflect_mysql(
    conn: sa.Connection, schema: str | None, keep: Callable[[str], bool]
) -> list[Table]:
    database = schema if schema is not None else conn.exec_driver_sql("SELECT DATABASE()").scalar()
    params = {"schema": database}

    def rows(sql: str) -> dict[str, list[Row]]:
        return _by_table(conn.exec_driver_sql(sql, params).all())

    comments = {r[0]: r[1] for r in conn.exec_driver_sql(_TABLES, params).all() if keep(r[0])}
    columns, indexes, fks, checks = (
        rows(_COLUMNS),
        rows(_INDEXES),
        rows(_FOREIGN_KEYS),
        rows(_CHECKS),
    )
    tables = []
    for name, comment in comments.items():
        json_columns = _json_columns(checks.get(name, []))
        foreign_keys = _foreign_keys(fks.get(name, []), database)
        index_rows = _index_groups(indexes.get(name, []))
        pk_rows = index_rows.pop("PRIMARY", [])
        tables.append(
            Table(
                name=name,
                schema=schema,
                columns=tuple(
                    _column(r, json_columns, conn.dialect) for r in columns.get(name, [])
                ),
                primary_key=PrimaryKey(tuple(r[3] for r in pk_rows)) if pk_rows else None,
                foreign_keys=foreign_keys,
                indexes=_indexes(index_rows, foreign_keys, conn.dialect),
                uniques=_by_name(
                    UniqueConstraint(tuple(r[3] for r in group), index_name)
                    for index_name, group in index_rows.items()
                    if not group[0][2]
                ),
                checks=_by_name(
                    CheckConstraint(r[2], r[1])
                    for r in checks.get(name, [])
                    if not _is_json_check(r)
                ),
                comment=comment or None,
            )
        )
    return tables


def _by_table(rows: Sequence[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        out[row[0]].append(row)
    return out


# -- columns ----------------------------------------------------------------------------


def _column(row: Row, json_columns: set[str], dialect: sa.Dialect) -> Column:
    _, name, declared, is_nullable, default, extra, comment, generated = row
    extra = (extra or "").lower()
    type_ = mysql.JSON() if name in json_columns else mysql_type(declared)
    computed = None
    if generated:
        computed = Computed(generated, persisted="stored" in extra or "persistent" in extra)
    return Column(
        name=name,
        type=column_type(type_, dialect),
        nullable=is_nullable == "YES",
        # MariaDB writes "NULL" for a column without a default; a string 'NULL'
        # would be quoted.  A generated column's default is its expression.
        server_default=None if default in (None, "NULL") or computed else default,
        comment=comment or None,
        autoincrement=True if "auto_increment" in extra else None,
        computed=computed,
    )


_DECLARED = re.compile(r"^(\w+)(?:\((.*)\))?\s*(.*)$", re.DOTALL)
_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_TIME_TYPES = (mysql.DATETIME, mysql.TIME, mysql.TIMESTAMP)


def mysql_type(declared: str) -> sa.types.TypeEngine[Any]:
    """A COLUMN_TYPE text (``int(11) unsigned``, ``enum('a','b')``) as a SQLAlchemy type."""
    match = _DECLARED.match(declared.strip())
    if not match:
        return sa.types.NullType()
    name, args, rest = match.group(1).lower(), match.group(2) or "", match.group(3).lower()
    cls = cast("type[sa.types.TypeEngine[Any]] | None", ischema_names.get(name))
    if cls is None:
        return sa.types.NullType()
    if issubclass(cls, (mysql.ENUM, mysql.SET)):
        return cls(*(v.replace("''", "'") for v in _QUOTED.findall(args)))
    numbers = [int(a) for a in args.split(",") if a.strip().isdigit()]
    kw: dict[str, Any] = {}
    if issubclass(cls, _TIME_TYPES):
        kw, numbers = ({"fsp": numbers[0]} if numbers else {}), []
    if issubclass(cls, (sa.Integer, sa.Numeric)):
        kw.update({flag: True for flag in ("unsigned", "zerofill") if flag in rest.split()})
    try:
        return cls(*numbers, **kw)
    except TypeError:  # arguments this type does not take
        return cls()


def _json_columns(check_rows: list[Row]) -> set[str]:
    return {r[1] for r in check_rows if _is_json_check(r)}


def _is_json_check(row: Row) -> bool:
    # MariaDB's JSON: a column-level CHECK named after the column, json_valid(`col`).
    _, name, clause, level = row
    return bool(level == "Column" and clause.replace(" ", "") == f"json_valid(`{name}`)")


# -- keys and indexes -------------------------------------------------------------------


def _foreign_keys(rows: list[Row], database: str | None) -> tuple[ForeignKey, ...]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row[1]].append(row)
    return _by_name(
        ForeignKey(
            columns=tuple(r[2] for r in group),
            ref_table=group[0][4],
            ref_columns=tuple(r[5] for r in group),
            name=name,
            ref_schema=None if group[0][3] == database else group[0][3],
            ondelete=_rule(group[0][7]),
            onupdate=_rule(group[0][6]),
        )
        for name, group in grouped.items()
    )


def _rule(value: str | None) -> str | None:
    # information_schema says RESTRICT when no rule was given (MariaDB's default).
    if not value or value.upper() in ("RESTRICT", "NO ACTION"):
        return None
    return value.upper()


def _index_groups(rows: list[Row]) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row[1]].append(row)
    return grouped


def _indexes(
    groups: dict[str, list[Row]], foreign_keys: tuple[ForeignKey, ...], dialect: sa.Dialect
) -> tuple[Index, ...]:
    implicit = {(fk.name, fk.columns) for fk in foreign_keys}
    out = []
    for name, group in groups.items():
        columns = tuple(r[3] for r in group)
        if not group[0][2]:
            continue  # a unique key: reported as a unique constraint
        if (name, columns) in implicit:
            continue  # made by MariaDB for a foreign key, not by the model
        options: dict[str, Any] = {}
        lengths = {r[3]: r[4] for r in group if r[4] is not None}
        if lengths:
            options["mysql_length"] = lengths
        if group[0][5] in ("FULLTEXT", "SPATIAL"):
            options["mysql_prefix"] = group[0][5]
        out.append(
            Index(
                name=name,
                columns=columns,
                expressions=(False,) * len(columns),
                unique=False,
                dialect_options=index_options(options.items(), dialect, columns),
            )
        )
    return tuple(sorted(out, key=lambda i: i.name))


def _by_name(items: Any) -> tuple[Any, ...]:
    return tuple(sorted(items, key=lambda c: (c.name or "", repr(c))))
