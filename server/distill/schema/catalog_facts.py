"""What the database's catalog tells cheaply and read-only: how many rows each table
has, roughly, and which CHECKs are not validated.

The row estimates are for the hover card on a table class and for the lint's
findings (how large a locked table is).  PostgreSQL's ``pg_class.reltuples`` (as of
the last ANALYZE or VACUUM; -1 when never analysed) and MariaDB's
``information_schema.TABLES.TABLE_ROWS`` are estimates the server keeps;
SQLite keeps none unless ANALYZE ran (``sqlite_stat1``), so there the highest
``rowid`` stands in, found in the index without reading the table.  No
``count(*)``: a hover must not scan a large table.

The CHECKs PostgreSQL holds ``NOT VALID`` prove nothing of the rows: ``SET NOT
NULL`` still scans the table behind one, and the lint must know that of checks
that applied revisions added, not only of those it reads being added.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import exc

_POSTGRESQL = sa.text(
    "SELECT c.relname, c.reltuples FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()"
)
_MYSQL = sa.text(
    "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES "
    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'"
)


_UNVALIDATED = sa.text(
    "SELECT c.conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
    "WHERE c.contype = 'c' AND NOT c.convalidated AND n.nspname = current_schema()"
)


@dataclass(frozen=True)
class CatalogFacts:
    rows: Mapping[str, int] = field(default_factory=dict)  # table -> estimated rows
    unvalidated_checks: frozenset[str] = frozenset()  # names of CHECKs added NOT VALID


def catalog_facts(conn: sa.Connection) -> CatalogFacts:
    return CatalogFacts(row_estimates(conn), unvalidated_checks(conn))


def unvalidated_checks(conn: sa.Connection) -> frozenset[str]:
    """The names of the CHECKs not validated yet (only PostgreSQL has such)."""
    if conn.dialect.name != "postgresql":
        return frozenset()
    try:
        return frozenset(str(name) for name in conn.execute(_UNVALIDATED).scalars())
    except exc.DBAPIError:
        return frozenset()  # no rights on the catalog: the lint knows what it reads


def row_estimates(conn: sa.Connection) -> dict[str, int]:
    """Table name -> its estimated rows; tables with no estimate are left out."""
    rows: list[tuple[str, int | None]]
    try:
        if conn.dialect.name == "postgresql":
            rows = [(r[0], r[1]) for r in conn.execute(_POSTGRESQL)]
        elif conn.dialect.name == "mysql":
            rows = [(r[0], r[1]) for r in conn.execute(_MYSQL)]
        elif conn.dialect.name == "sqlite":
            rows = _sqlite(conn)
        else:
            return {}
    except exc.DBAPIError:
        return {}  # no rights on the catalog: the card simply says nothing of rows
    return {str(name): int(count) for name, count in rows if count is not None and count >= 0}


def _sqlite(conn: sa.Connection) -> list[tuple[str, int | None]]:
    names = conn.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).scalars()
    analysed = dict(_analysed(conn))
    found: list[tuple[str, int | None]] = []
    for name in names:
        if name in analysed:
            found.append((name, analysed[name]))
            continue
        quoted = '"' + name.replace('"', '""') + '"'
        with contextlib.suppress(exc.DBAPIError):  # WITHOUT ROWID: no cheap estimate
            found.append((name, conn.exec_driver_sql(f"SELECT max(rowid) FROM {quoted}").scalar()))
    return found


def _analysed(conn: sa.Connection) -> list[tuple[str, int]]:
    try:
        stats = conn.exec_driver_sql("SELECT tbl, stat FROM sqlite_stat1")
    except exc.DBAPIError:
        return []  # no ANALYZE ever ran
    return [(table, int(stat.split()[0])) for table, stat in stats if stat.split()[0].isdigit()]
