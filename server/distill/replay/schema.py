"""What every op's symbolic replay shares: finding tables, replacing them, SQL names.

Replay works on frozen ``Schema`` values, so each change builds a new Table
and a new Schema; the helpers here keep that to one line per change.  When a
change cannot be known without the database — a table that is not in the
replayed schema, a constraint name the script takes from the database — the
op raises ``InexactReplay`` instead of guessing; the replay records the reason
and carries on from the best schema it has.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from functools import cache

import sqlalchemy as sa

from distill.schema.model import Schema, Table, sorted_tables, table_order


class InexactReplay(Exception):
    """The op's effect cannot be known from the script alone.

    ``schema`` is the best result still known (e.g. a batch whose other
    changes did apply); None means the schema is unchanged.
    """

    def __init__(self, reason: str, schema: Schema | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.schema = schema


@cache
def dialect_for(name: str, flavour: str | None = None) -> sa.Dialect:
    """A dialect to compile types and defaults with, when the caller gave none."""
    # Imported here: each dialect's package costs 5-15 ms, and a command needs one.
    from sqlalchemy.dialects import mysql, postgresql, sqlite

    dialect: sa.Dialect
    if name == "postgresql":
        dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    elif name == "mysql":
        dialect = mysql.dialect()
        # Set on connect from the server version; nothing connects here.
        dialect.is_mariadb = flavour == "mariadb"
    else:
        dialect = sqlite.dialect()
    return dialect


def require_table(schema: Schema, name: str, table_schema: str | None, what: str) -> Table:
    table = schema.table(name, table_schema)
    if table is None:
        where = f"{table_schema}.{name}" if table_schema else name
        raise InexactReplay(
            f"{what}: table {where!r} is not in the replayed schema (created outside op.* calls?)"
        )
    return table


def with_tables(schema: Schema, tables: Iterable[Table]) -> Schema:
    # Built anew rather than dataclasses.replace(): replace() would hand the
    # old Schema's lookup dict to the new one.
    return Schema(
        dialect=schema.dialect,
        tables=sorted_tables(list(tables)),
        enums=schema.enums,
        flavour=schema.flavour,
    )


def put_table(schema: Schema, table: Table, replacing: Table | None = None) -> Schema:
    """``schema`` with ``table`` in place of ``replacing`` (or of the table with its key)."""
    return _edited(schema, (replacing or table).key, table)


def without_table(schema: Schema, table: Table) -> Schema:
    return _edited(schema, table.key, None)


def _edited(schema: Schema, gone: tuple[str | None, str], new: Table | None) -> Schema:
    # Replay makes one such edit per op, thousands for a large project: the
    # tables stay sorted by bisection and the lookup is copied, not rebuilt,
    # so an edit costs no comparison of whole tables and no re-sort.
    tables = list(schema.tables)
    lookup = dict(schema._by_key)
    if lookup.pop(gone, None) is not None:
        del tables[bisect.bisect_left(tables, table_order(gone), key=_order)]
    if new is not None:
        tables.insert(bisect.bisect_left(tables, _order(new), key=_order), new)
        lookup[new.key] = new
    return Schema(
        dialect=schema.dialect,
        tables=tuple(tables),
        enums=schema.enums,
        flavour=schema.flavour,
        _by_key=lookup,
    )


def _order(table: Table) -> tuple[str, str]:
    return table_order(table.key)


def mentions(sql: str, name: str) -> bool:
    """True when ``sql`` names the identifier ``name`` (bare or quoted)."""
    return rename_word(sql, name, "\0") != sql


def rename_word(sql: str, old: str, new: str) -> str:
    # Whole identifiers only: renaming "id" must leave "user_id" alone.
    pattern = rf'(?<![\w"`]){re.escape(old)}(?![\w"`])|"{re.escape(old)}"|`{re.escape(old)}`'
    return re.sub(pattern, new.replace("\\", "\\\\"), sql)


def renamed(names: tuple[str, ...], old: str, new: str) -> tuple[str, ...]:
    return tuple(new if n == old else n for n in names)
