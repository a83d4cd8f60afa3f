"""The neutral schema: what a database's structure is, as plain frozen data.

Models, live databases and replayed migrations all become a ``Schema`` for one
dialect, so that comparing any two of them is comparing values — no SQLAlchemy
objects, no user classes, nothing bound to a connection.  Everything here is
hashable and pickles as plain data: the sandbox's children hand a Schema to
the language server that way, through an allow-list unpickler that accepts
this module's classes only (``sandbox/protocol.py``), and the replay cache
keeps it so.

Conventions that keep comparisons exact:
- names are as the database stores them (no quoting);
- SQL fragments (defaults, check conditions, computed expressions, index
  expressions) are kept as text exactly as their source gave them; the
  comparison normalises them, not the builders;
- tuples keep their meaningful order (columns of a table, of an index, of a
  key); collections whose order means nothing are sorted by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ColumnType:
    """A column type three ways: family to compare, SQL to show, Python to render."""

    family: str  # see FAMILIES
    sql: str  # compiled for the schema's dialect, e.g. "VARCHAR(255)"
    python: str  # render expression, e.g. "sa.String(length=255)"
    imports: tuple[str, ...] = ()  # import lines ``python`` needs beyond "import sqlalchemy as sa"
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    timezone: bool | None = None
    enum_name: str | None = None  # a named (PostgreSQL native) enum type
    enum_values: tuple[str, ...] = ()
    item: ColumnType | None = None  # element type of an ARRAY


FAMILIES = frozenset({
    "integer", "smallint", "bigint", "boolean", "string", "text", "numeric", "float",
    "date", "datetime", "time", "interval", "binary", "json", "uuid", "enum", "array", "other",
})  # fmt: skip


@dataclass(frozen=True)
class Computed:
    sqltext: str
    persisted: bool | None = None


@dataclass(frozen=True)
class Identity:
    always: bool = False
    start: int | None = None
    increment: int | None = None


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    nullable: bool = True
    server_default: str | None = None  # SQL text of the default, None for none
    comment: str | None = None
    autoincrement: bool | None = None  # None: the dialect's default behaviour
    computed: Computed | None = None
    identity: Identity | None = None


@dataclass(frozen=True)
class PrimaryKey:
    columns: tuple[str, ...]
    name: str | None = None


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    name: str | None = None
    ref_schema: str | None = None
    ondelete: str | None = None  # upper-case, e.g. "CASCADE"; None for the default
    onupdate: str | None = None
    deferrable: bool | None = None
    initially: str | None = None


@dataclass(frozen=True)
class Index:
    name: str
    # Each element is a column name, or an expression's SQL text when the
    # matching flag in ``expressions`` is true (same length as ``columns``).
    columns: tuple[str, ...]
    expressions: tuple[bool, ...] = ()
    unique: bool = False
    # Dialect options that change what the index is, as sorted (key, text)
    # pairs, e.g. (("postgresql_where", "active"),).
    dialect_options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class UniqueConstraint:
    columns: tuple[str, ...]
    name: str | None = None


@dataclass(frozen=True)
class CheckConstraint:
    sqltext: str
    name: str | None = None


@dataclass(frozen=True)
class EnumType:
    """A named enum type that exists on its own (PostgreSQL CREATE TYPE)."""

    name: str
    values: tuple[str, ...]
    schema: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    schema: str | None = None
    primary_key: PrimaryKey | None = None
    foreign_keys: tuple[ForeignKey, ...] = ()
    indexes: tuple[Index, ...] = ()
    uniques: tuple[UniqueConstraint, ...] = ()
    checks: tuple[CheckConstraint, ...] = ()
    comment: str | None = None
    # SQLite's PRIMARY KEY AUTOINCREMENT: ids are never handed out again.
    sqlite_autoincrement: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.schema, self.name)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Schema:
    dialect: str  # "sqlite" | "postgresql" | "mysql" (MariaDB is "mysql")
    tables: tuple[Table, ...] = ()
    enums: tuple[EnumType, ...] = ()
    # Facts about how the schema was obtained that a comparison must know,
    # e.g. "mariadb" for a MySQL-dialect schema read from MariaDB.
    flavour: str | None = None
    _by_key: dict[tuple[str | None, str], Table] = field(
        default_factory=dict, compare=False, repr=False, hash=False
    )

    def __post_init__(self) -> None:
        # A caller that already holds the lookup for these tables passes it in
        # (replay changes one table per op; rebuilding it each time was quadratic).
        if not self._by_key:
            self._by_key.update({t.key: t for t in self.tables})

    def table(self, name: str, schema: str | None = None) -> Table | None:
        return self._by_key.get((schema, name))


def sorted_tables(tables: list[Table] | tuple[Table, ...]) -> tuple[Table, ...]:
    """Tables in the canonical order a Schema keeps them: by schema, then name."""
    return tuple(sorted(tables, key=lambda t: table_order(t.key)))


def table_order(key: tuple[str | None, str]) -> tuple[str, str]:
    """The sort key of a table's (schema, name) key in a Schema's table order."""
    return (key[0] or "", key[1])
