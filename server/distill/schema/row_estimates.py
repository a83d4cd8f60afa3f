"""How many rows each table has, roughly: the catalog's estimate, read-only and cheap.

For the hover card on a table class.  PostgreSQL's ``pg_class.reltuples`` (as of
the last ANALYZE or VACUUM; -1 when never analysed) and MariaDB's
``information_schema.TABLES.TABLE_ROWS`` are estimates the server keeps;
SQLite keeps none unless ANALYZE ran (``sqlite_stat1``), so there the highest
``rowid`` stands in, found in the index without reading the table.  No
``count(*)``: a hover must not scan a large table.
"""

from __future__ import annotations

import contextlib

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
