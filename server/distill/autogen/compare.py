"""Two schemas in, the list of changes that turns the first into the second.

Each ``Change`` is a value a person can read (``describe``), a program can act
on (``code`` is stable; ``old``/``new`` hold the schema items), and the
renderer turns into ``op.*`` calls.  Matching is by what identifies a thing in
the database: tables and columns by name, indexes and named checks by name,
foreign keys and unique constraints by their columns (their names are often
generated), the primary key by its columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from distill.autogen.equivalence import defaults_equivalent, normalize_sql, types_equivalent
from distill.schema.model import (
    Column,
    ForeignKey,
    Index,
    Schema,
    Table,
    UniqueConstraint,
)


@dataclass(frozen=True)
class Change:
    code: str  # e.g. "column.added"; see describe() for every code
    table: str | None
    schema: str | None = None
    name: str | None = None  # the column, index, constraint or enum concerned
    old: Any = None  # the item as it is now (None when added)
    new: Any = None  # the item as it should be (None when removed)
    # For a column alteration: the whole column as it is now, whose other
    # attributes an ALTER must restate (MariaDB) or a downgrade restores.
    column: Column | None = None
    # For "enum.values": the (table, column) pairs that use the type now, which a
    # recreation of the type converts.
    users: tuple[tuple[str, str], ...] = ()

    @property
    def where(self) -> str:
        if self.code.startswith("enum."):
            return f"{self.schema}.{self.name}" if self.schema else str(self.name)
        table = f"{self.schema}.{self.table}" if self.schema else (self.table or "")
        return f"{table}.{self.name}" if self.name and self.code.startswith("column") else table

    def describe(self, now: str = "database", wanted: str = "models") -> str:
        """One line such as ``users.phone: column in models, not in database``."""
        kind, _, what = self.code.partition(".")
        label = {"fk": "foreign key", "pk": "primary key", "unique": "unique constraint",
                 "check": "check constraint"}.get(kind, kind)  # fmt: skip
        named = f" {self.name}" if self.name and kind not in ("table", "column", "enum") else ""
        if what == "added":
            return f"{self.where}: {label}{named} in {wanted}, not in {now}"
        if what == "removed":
            return f"{self.where}: {label}{named} in {now}, not in {wanted}"
        old, new = _show(self.code, self.old), _show(self.code, self.new)
        if old == new and self.code == "column.type":
            # Same SQL, other values (a non-native Enum): the values are the difference.
            old, new = _type_in_full(self.old), _type_in_full(self.new)
        return f"{self.where}: {label}{named} {what} {old} -> {new}"


def _show(code: str, value: Any) -> str:
    if code == "column.type":
        return str(value.sql)
    if code == "column.nullable":
        return "NULL" if value else "NOT NULL"
    if code in ("column.default", "column.comment", "table.comment"):
        return "none" if value is None else str(value)
    if code == "table.autoincrement":
        return "AUTOINCREMENT" if value else "none"
    if code == "enum.values":
        return "(" + ", ".join(value) + ")"
    if code.endswith(".renamed"):
        return str(value.name)
    if code == "pk.columns":
        return "(" + ", ".join(value.columns) + ")" if value else "none"
    return str(value)


def _type_in_full(value: Any) -> str:
    values = getattr(value, "enum_values", None)
    if values:
        return f"{value.sql} (" + ", ".join(values) + ")"
    return str(value.python)


# (kind, name, table name, reflected, the schema item) -> keep?
Include = Callable[[str, str | None, str | None, bool, Any], bool]


def _keep_all(
    _kind: str, _name: str | None, _table: str | None, _reflected: bool, _item: Any
) -> bool:
    return True


@dataclass(frozen=True)
class Options:
    compare_type: bool = True
    compare_server_default: bool = True
    # (kind, name or None, table name or None, reflected, item) -> keep?  kind is
    # "table", "column", "index", "unique", "fk", "check" or "enum", as
    # Alembic's include_object; the name is None for an unnamed constraint.
    # ``reflected``: the item is from ``now`` (the migrations' or database's
    # side), not from ``wanted`` (the models, in autogenerate and check).
    include: Include | None = None


def compare(now: Schema, wanted: Schema, options: Options = Options()) -> list[Change]:
    """What must change in ``now`` for it to equal ``wanted``, tables in name order."""
    dialect = wanted.dialect
    keep = options.include or _keep_all
    changes: list[Change] = list(_enums(now, wanted))
    now_tables = {t.key: t for t in now.tables if keep("table", t.name, None, True, t)}
    wanted_tables = {t.key: t for t in wanted.tables if keep("table", t.name, None, False, t)}
    for key in sorted(wanted_tables.keys() - now_tables.keys(), key=_sort_key):
        table = wanted_tables[key]
        changes.append(Change("table.added", table.name, table.schema, new=table))
    for key in sorted(now_tables.keys() - wanted_tables.keys(), key=_sort_key):
        table = now_tables[key]
        changes.append(Change("table.removed", table.name, table.schema, old=table))
    for key in sorted(now_tables.keys() & wanted_tables.keys(), key=_sort_key):
        if now_tables[key] == wanted_tables[key]:
            continue  # nothing to find; most tables are equal, and the editor compares often
        changes += _table(now_tables[key], wanted_tables[key], dialect, options, keep)
    return changes


def table_changes(now: Table, wanted: Table, dialect: str, options: Options) -> list[Change]:
    """What must change in one table (``wanted``'s name is used throughout)."""
    return _table(now, wanted, dialect, options, options.include or _keep_all)


def column_changes(
    table: Table, now: Column, wanted: Column, dialect: str, options: Options
) -> list[Change]:
    """Type, nullable, default and comment changes of one column, named as ``wanted``."""
    return [
        Change(code, table.name, table.schema, wanted.name, old, new, column=now)
        for code, old, new in _column(now, wanted, dialect, options)
    ]


def _sort_key(key: tuple[str | None, str]) -> tuple[str, str]:
    return (key[0] or "", key[1])


def _enums(now: Schema, wanted: Schema) -> Iterator[Change]:
    have = {(e.schema, e.name): e for e in now.enums}
    want = {(e.schema, e.name): e for e in wanted.enums}
    for key in sorted(want.keys() - have.keys(), key=_sort_key):
        yield Change("enum.added", None, key[0], key[1], new=want[key])
    for key in sorted(have.keys() - want.keys(), key=_sort_key):
        yield Change("enum.removed", None, key[0], key[1], old=have[key])
    for key in sorted(have.keys() & want.keys(), key=_sort_key):
        old, new = have[key], want[key]
        if old.values != new.values:
            users = tuple(
                (table.name, column.name)
                for table in now.tables
                if table.schema == key[0]
                for column in table.columns
                if column.type.enum_name == key[1]
            )
            yield Change("enum.values", None, key[0], key[1], old.values, new.values, users=users)


def _table(
    now: Table,
    wanted: Table,
    dialect: str,
    options: Options,
    keep: Include,
) -> list[Change]:
    found: list[Change] = []

    def add(code: str, name: str | None = None, old: Any = None, new: Any = None) -> None:
        found.append(Change(code, wanted.name, wanted.schema, name, old, new))

    have = {c.name: c for c in now.columns if keep("column", c.name, now.name, True, c)}
    want = {c.name: c for c in wanted.columns if keep("column", c.name, now.name, False, c)}
    for column in wanted.columns:
        if column.name in want and column.name not in have:
            add("column.added", column.name, new=column)
    for column in now.columns:
        if column.name in have and column.name not in want:
            add("column.removed", column.name, old=column)
    for column in wanted.columns:
        if column.name in have and column.name in want:
            current = have[column.name]
            for code, old, new in _column(current, column, dialect, options):
                found.append(Change(code, wanted.name, wanted.schema, column.name, old, new,
                                    column=current))  # fmt: skip
    old_pk = now.primary_key.columns if now.primary_key else ()
    new_pk = wanted.primary_key.columns if wanted.primary_key else ()
    if old_pk != new_pk:
        add("pk.columns", None, now.primary_key, wanted.primary_key)
    found += _keyed(now, wanted, "index", _indexes(now, dialect), _indexes(wanted, dialect), keep)
    found += _keyed(now, wanted, "unique", _uniques(now, dialect), _uniques(wanted, dialect), keep)
    found += _keyed(now, wanted, "fk", _foreign_keys(now), _foreign_keys(wanted), keep)
    have_checks = _named_checks(now)
    if any(c.name is None for c in wanted.checks):
        # An unnamed check gets a name from the database, which nothing in the
        # models can match: don't report database-named checks as extra.
        have_checks = {k: v for k, v in have_checks.items() if k in _named_checks(wanted)}
    found += _keyed(now, wanted, "check", have_checks, _named_checks(wanted), keep)
    if dialect != "sqlite" and (now.comment or None) != (wanted.comment or None):
        add("table.comment", None, now.comment, wanted.comment)
    if dialect == "sqlite" and now.sqlite_autoincrement != wanted.sqlite_autoincrement:
        # Without it SQLite hands deleted ids out again; Alembic does not compare it.
        add("table.autoincrement", None, now.sqlite_autoincrement, wanted.sqlite_autoincrement)
    return found


def _column(
    now: Column, wanted: Column, dialect: str, options: Options
) -> Iterator[tuple[str, Any, Any]]:
    if options.compare_type and not types_equivalent(now.type, wanted.type, dialect):
        yield "column.type", now.type, wanted.type
    if now.nullable != wanted.nullable:
        yield "column.nullable", now.nullable, wanted.nullable
    if (
        options.compare_server_default
        and now.computed is None
        and wanted.computed is None
        and not defaults_equivalent(now.server_default, wanted.server_default, wanted.type.family)
    ):
        yield "column.default", now.server_default, wanted.server_default
    if dialect != "sqlite" and (now.comment or None) != (wanted.comment or None):
        yield "column.comment", now.comment, wanted.comment


# -- items matched by a key: what identifies them in the database ---------------------

Keyed = dict[tuple[Any, ...], tuple[str, Any]]  # key -> (display name, item)


def _keyed(
    now: Table,
    wanted: Table,
    kind: str,
    have: Keyed,
    want: Keyed,
    keep: Include,
) -> Iterator[Change]:
    def kept(items: Keyed, reflected: bool) -> Keyed:
        # The hook gets the real name, None for an unnamed constraint (as
        # Alembic's does), not the "(columns)" shown to the user.
        return {k: v for k, v in items.items() if keep(kind, v[1].name, now.name, reflected, v[1])}

    have, want = kept(have, True), kept(want, False)
    for key in sorted(want.keys() - have.keys(), key=repr):
        name, item = want[key]
        yield Change(f"{kind}.added", wanted.name, wanted.schema, name, new=item)
    for key in sorted(have.keys() - want.keys(), key=repr):
        name, item = have[key]
        yield Change(f"{kind}.removed", now.name, now.schema, name, old=item)


def _indexes(table: Table, dialect: str) -> Keyed:
    fk_backing = {fk.columns for fk in table.foreign_keys} if dialect == "mysql" else set()
    unique_backing = {u.columns for u in table.uniques}
    keyed: Keyed = {}
    for index in table.indexes:
        # MariaDB makes an index for every foreign key and every unique
        # constraint; those are the constraints' own, not indexes to compare.
        if index.columns in fk_backing and not index.unique:
            continue
        if index.unique and (index.columns in unique_backing or dialect == "mysql"):
            continue  # on MariaDB a unique index IS a unique constraint: compared as one
        elements = tuple(
            normalize_sql(c) if is_expression else c
            for c, is_expression in zip(
                index.columns, index.expressions or (False,) * len(index.columns), strict=True
            )
        )
        options = tuple((k, normalize_sql(v)) for k, v in index.dialect_options)
        keyed[(index.name, elements, index.unique, options)] = (index.name, index)
    return keyed


def _uniques(table: Table, dialect: str) -> Keyed:
    keyed: Keyed = {(u.columns,): (u.name or _columns_name(u), u) for u in table.uniques}
    if dialect == "mysql":
        for index in table.indexes:
            if index.unique:
                unique = UniqueConstraint(index.columns, index.name)
                keyed.setdefault((index.columns,), (index.name, unique))
    return keyed


def _foreign_keys(table: Table) -> Keyed:
    return {_fk_key(fk): (fk.name or _columns_name(fk), fk) for fk in table.foreign_keys}


def _fk_key(fk: ForeignKey) -> tuple[Any, ...]:
    def action(value: str | None) -> str | None:
        # What a database reports for "no action" differs; all mean the default.
        return (
            None if value is None or value.upper() in ("NO ACTION", "RESTRICT") else value.upper()
        )

    return (
        fk.columns,
        fk.ref_schema,
        fk.ref_table,
        fk.ref_columns,
        action(fk.ondelete),
        action(fk.onupdate),
        bool(fk.deferrable),
        (fk.initially or "").upper() or None,
    )


def _named_checks(table: Table) -> Keyed:
    # Only named checks: unnamed ones get database-made names that nothing
    # in the models can match, and their SQL text is reformatted on reflection.
    return {(c.name,): (c.name, c) for c in table.checks if c.name}


def _columns_name(item: UniqueConstraint | ForeignKey | Index) -> str:
    return "(" + ", ".join(item.columns) + ")"
