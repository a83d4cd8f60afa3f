"""SQLite -> Tables in four queries per schema, however many tables there are.

SQLAlchemy's Inspector runs several PRAGMAs per table.  SQLite also offers
every PRAGMA as a table-valued function (``pragma_table_xinfo(name)``), so one
SELECT joining ``sqlite_master`` with such a function reads that PRAGMA for all
tables at once.  What no PRAGMA says (constraint names, CHECK text, generated
expressions, DEFERRABLE, index expressions) comes from the CREATE statements
``sqlite_master`` keeps, parsed by ``sqlite_ddl``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite.base import ischema_names

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
from distill.schema.sqlite_ddl import (
    ParsedForeignKey,
    ParsedTable,
    parse_create_index,
    parse_create_table,
)
from distill.schema.types import column_type

Row = Any  # a result row; its fields are read by position


def reflect_sqlite(
    conn: sa.Connection, schema: str | None, keep: Callable[[str], bool]
) -> list[Table]:
    queries = _Queries(conn.dialect, schema)
    master = conn.exec_driver_sql(queries.master()).all()
    table_sql = {r[1]: r[3] or "" for r in master if r[0] == "table" and keep(r[1])}
    index_sql = {r[1]: r[3] for r in master if r[0] == "index" and r[3]}
    columns = _rows_by_table(conn.exec_driver_sql(queries.columns(), queries.params).all())
    indexes = _rows_by_table(conn.exec_driver_sql(queries.indexes(), queries.params).all())
    fks = _rows_by_table(conn.exec_driver_sql(queries.foreign_keys(), queries.params).all())
    primary_keys = {name: _pk_columns(columns.get(name, [])) for name in table_sql}
    tables = []
    for name, sql in table_sql.items():
        parsed = parse_create_table(sql)
        pk_columns = primary_keys[name]
        tables.append(
            Table(
                name=name,
                schema=schema,
                columns=tuple(
                    _column(r, parsed, pk_columns, conn.dialect) for r in columns.get(name, [])
                ),
                primary_key=PrimaryKey(pk_columns, parsed.pk_name) if pk_columns else None,
                foreign_keys=_foreign_keys(fks.get(name, []), parsed, primary_keys),
                indexes=_indexes(indexes.get(name, []), index_sql),
                uniques=_uniques(indexes.get(name, []), parsed),
                checks=_by_name(CheckConstraint(text, n) for n, text in parsed.checks),
                comment=None,  # SQLite has no comments
                sqlite_autoincrement=parsed.autoincrement,
            )
        )
    return tables


class _Queries:
    """The SELECTs, for the main database or an attached one."""

    def __init__(self, dialect: sa.Dialect, schema: str | None) -> None:
        prefix = f"{dialect.identifier_preparer.quote_identifier(schema)}." if schema else ""
        self.master_table = f"{prefix}sqlite_master"
        self.params = (schema or "main",)

    def master(self) -> str:
        # sqlite_% are SQLite's own tables (sqlite_sequence, sqlite_stat1).
        return (
            f"SELECT type, name, tbl_name, sql FROM {self.master_table} "
            "WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        )

    def _tables(self) -> str:
        return (
            f"FROM {self.master_table} AS m "
            "{join} WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        )

    def columns(self) -> str:
        join = "JOIN pragma_table_xinfo(m.name, ?) AS p"
        return (
            'SELECT m.name, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk, p.hidden '
            + self._tables().format(join=join)
            + " ORDER BY m.name, p.cid"
        )

    def indexes(self) -> str:
        # Only key columns (key = 1); the rest of xinfo's rows are the rowid tail.
        join = "JOIN pragma_index_list(m.name, ?1) AS il JOIN pragma_index_xinfo(il.name, ?1) AS ii"
        return (
            'SELECT m.name, il.name, il."unique", il.origin, il.partial, '
            'ii.seqno, ii.cid, ii.name, ii."desc" '
            + self._tables().format(join=join)
            + " AND ii.key = 1 ORDER BY m.name, il.name, ii.seqno"
        )

    def foreign_keys(self) -> str:
        join = "JOIN pragma_foreign_key_list(m.name, ?) AS fk"
        return (
            'SELECT m.name, fk.id, fk.seq, fk."table", fk."from", fk."to", '
            "fk.on_update, fk.on_delete "
            + self._tables().format(join=join)
            + " ORDER BY m.name, fk.id, fk.seq"
        )


def _rows_by_table(rows: Sequence[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        out[row[0]].append(row)
    return out


def _pk_columns(column_rows: list[Row]) -> tuple[str, ...]:
    # The pk field is the column's 1-based position in the key, 0 outside it.
    in_key = sorted((r[6], r[2]) for r in column_rows if r[6])
    return tuple(name for _, name in in_key)


# -- columns ----------------------------------------------------------------------------


def _column(
    row: Row, parsed: ParsedTable, pk_columns: tuple[str, ...], dialect: sa.Dialect
) -> Column:
    _, _, name, declared, notnull, default, _, hidden = row
    # An INTEGER PRIMARY KEY is the rowid: SQLite numbers it itself.
    rowid = pk_columns == (name,) and (declared or "").strip().upper() == "INTEGER"
    computed = None
    if hidden in (2, 3):  # 2: VIRTUAL, 3: STORED generated column
        computed = Computed(parsed.computed.get(name, ""), persisted=hidden == 3)
    return Column(
        name=name,
        type=column_type(sqlite_type(declared or ""), dialect),
        nullable=not notnull and not rowid,
        server_default=default,
        autoincrement=True if rowid else None,
        computed=computed,
    )


_DECLARED = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_ ]*?)\s*(?:\(([^)]*)\))?\s*$")


def sqlite_type(declared: str) -> sa.types.TypeEngine[Any]:
    """A declared type text as the SQLAlchemy type SQLite's dialect would reflect."""
    match = _DECLARED.match(declared)
    if not match:
        return _affinity(declared)
    name = match.group(1).upper()
    args = [int(a) for a in (match.group(2) or "").split(",") if a.strip().lstrip("-").isdigit()]
    cls = ischema_names.get(name) or ischema_names.get(name.split()[0])
    if cls is None:
        return _affinity(name)
    try:
        return sa.types.to_instance(cls(*args))
    except TypeError:  # arguments the type does not take, e.g. DATETIME(6)
        return sa.types.to_instance(cls)


def _affinity(name: str) -> sa.types.TypeEngine[Any]:
    # SQLite's documented rules for a type name it does not know, in its order.
    upper = name.upper()
    if "INT" in upper:
        return sa.INTEGER()
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return sa.TEXT()
    if "BLOB" in upper or not upper.strip():
        return sa.types.NullType()
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return sa.REAL()
    return sa.NUMERIC()


# -- keys, indexes, constraints ---------------------------------------------------------


def _foreign_keys(
    rows: list[Row], parsed: ParsedTable, primary_keys: dict[str, tuple[str, ...]]
) -> tuple[ForeignKey, ...]:
    grouped: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row[1]].append(row)
    out = []
    for fk_rows in grouped.values():
        ref_table = fk_rows[0][3]
        columns = tuple(r[4] for r in fk_rows)
        ref_columns = tuple(r[5] for r in fk_rows)
        if any(c is None for c in ref_columns):
            # "REFERENCES parent" with no columns means the parent's primary key.
            ref_columns = primary_keys.get(ref_table, ref_columns)
        match = _parsed_fk(parsed, columns, ref_table)
        out.append(
            ForeignKey(
                columns=columns,
                ref_table=ref_table,
                ref_columns=tuple(ref_columns),
                name=match.name if match else None,
                ondelete=_rule(fk_rows[0][7]),
                onupdate=_rule(fk_rows[0][6]),
                deferrable=(match.deferrable or None) if match else None,
                initially=match.initially if match else None,
            )
        )
    return _by_name(out)


def _parsed_fk(
    parsed: ParsedTable, columns: tuple[str, ...], ref_table: str
) -> ParsedForeignKey | None:
    for fk in parsed.foreign_keys:
        if fk.columns == columns and fk.ref_table.lower() == ref_table.lower():
            return fk
    return None


def _rule(value: str | None) -> str | None:
    return None if not value or value.upper() == "NO ACTION" else value.upper()


def _index_groups(rows: list[Row]) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row[1]].append(row)
    return grouped


def _indexes(rows: list[Row], index_sql: dict[str, str]) -> tuple[Index, ...]:
    out = []
    for name, index_rows in _index_groups(rows).items():
        if index_rows[0][3] != "c":  # "pk" and "u" are the key and unique constraints
            continue
        parsed = parse_create_index(index_sql.get(name, ""))
        columns: list[str] = []
        flags: list[bool] = []
        for row in index_rows:
            seqno, cid, column, desc = row[5], row[6], row[7], row[8]
            written = parsed.elements[seqno] if seqno < len(parsed.elements) else ""
            if cid >= 0 and not desc:
                columns.append(column)
                flags.append(False)
            else:  # an expression (cid -2) or a DESC column: as written
                columns.append(written or str(column))
                flags.append(True)
        options = (("sqlite_where", parsed.where),) if index_rows[0][4] and parsed.where else ()
        out.append(Index(name, tuple(columns), tuple(flags), bool(index_rows[0][2]), options))
    return tuple(sorted(out, key=lambda i: i.name))


def _uniques(rows: list[Row], parsed: ParsedTable) -> tuple[UniqueConstraint, ...]:
    out = []
    names = {columns: name for name, columns in parsed.uniques}
    for index_rows in _index_groups(rows).values():
        if index_rows[0][3] == "u":
            columns = tuple(r[7] for r in index_rows)
            # The index is SQLite's sqlite_autoindex_*; the constraint's own name is in the DDL.
            out.append(UniqueConstraint(columns, names.get(columns)))
    return _by_name(out)


def _by_name(items: Any) -> tuple[Any, ...]:
    return tuple(sorted(items, key=lambda c: (c.name or "", repr(c))))
