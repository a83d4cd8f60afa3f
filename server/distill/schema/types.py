"""A SQLAlchemy type, declared or reflected, as a neutral ``ColumnType`` for one dialect.

The family comes from the generic SQLAlchemy type the type is (or, for a user's
``TypeDecorator``, the type it stores as on that dialect), so that a model's
``String(50)`` and a reflected ``VARCHAR(50)`` land in the same family.  The SQL
is what DDL for that dialect would say; the Python is how a revision writes it.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import CompileError

from distill.schema.model import ColumnType
from distill.schema.pyexpr import dialect_class, type_expression

TypeEngine = sa.types.TypeEngine[Any]

# Checked in order: a subclass comes before its base (Enum is a String, Text is a
# String, Float is a Numeric, BigInteger is an Integer).  A dialect's own classes
# are named by (dialect, class): no type of a dialect whose package was never
# imported can exist, so those entries are read only once it is (importing a
# dialect's package costs 5-15 ms, and a command needs one).
_FAMILIES: tuple[tuple[tuple[type | tuple[str, str], ...], str], ...] = (
    ((sa.Enum,), "enum"),
    ((sa.Boolean,), "boolean"),
    ((sa.ARRAY,), "array"),
    ((sa.JSON,), "json"),
    ((sa.Uuid,), "uuid"),
    ((sa.Interval, ("postgresql", "INTERVAL")), "interval"),
    ((sa.BigInteger,), "bigint"),
    ((sa.SmallInteger,), "smallint"),
    ((sa.Integer,), "integer"),
    ((("mysql", "SET"),), "other"),  # a String by inheritance, but a set of values
    ((sa.Text,), "text"),
    ((("mysql", "TINYTEXT"), ("mysql", "MEDIUMTEXT"), ("mysql", "LONGTEXT")), "text"),
    ((sa.String,), "string"),
    ((sa.Float,), "float"),
    ((sa.Numeric,), "numeric"),
    ((sa.DateTime,), "datetime"),
    ((sa.Date,), "date"),
    ((sa.Time,), "time"),
    ((sa.LargeBinary, sa.BINARY, sa.VARBINARY), "binary"),
    ((("mysql", "TINYBLOB"), ("mysql", "MEDIUMBLOB"), ("mysql", "LONGBLOB")), "binary"),
)


@functools.cache
def _families(loaded: frozenset[str]) -> tuple[tuple[tuple[type, ...], str], ...]:
    """The family table for the dialect packages ``loaded``."""
    table = []
    for entries, family in _FAMILIES:
        classes = tuple(
            cls
            for entry in entries
            if (cls := entry if isinstance(entry, type) else dialect_class(*entry)) is not None
        )
        if classes:
            table.append((classes, family))
    return tuple(table)


def column_type(type_: TypeEngine, dialect: sa.Dialect) -> ColumnType:
    """``type_`` as the given dialect would create it."""
    type_ = sa.types.to_instance(type_)
    key = _memo_key(type_, dialect)
    if key is None:
        return _column_type(type_, dialect)
    found = _MEMO.get(key)
    if found is None:
        if len(_MEMO) >= _MEMO_SIZE:
            _MEMO.clear()
        found = _MEMO[key] = _column_type(type_, dialect)
    return found


# Most columns of a project share a handful of types (Integer, String(64),
# DateTime...); building each one's SQL and Python anew was a third of the
# time to read a large project's models.  A type is memoised only when its
# whole state is plain values, so two equal keys are two equal types.
_MEMO: dict[tuple[object, ...], ColumnType] = {}
_MEMO_SIZE = 4096
# Exact types: a str subclass such as quoted_name carries more than its text.
# Classes count too: SQLAlchemy caches e.g. ``_type_affinity`` on the instance.
_PLAIN = frozenset({str, int, float, bool, type(None), type})


def _memo_key(type_: TypeEngine, dialect: sa.Dialect) -> tuple[object, ...] | None:
    # ``dispatch`` is SQLAlchemy's event machinery (a Boolean or Enum attached to
    # a table gets one), not part of what the type is.
    state = {k: v for k, v in vars(type_).items() if k != "dispatch"}
    if not all(type(value) in _PLAIN for value in state.values()):
        return None
    dialect_key = (type(dialect), getattr(dialect, "is_mariadb", False),
                   dialect.server_version_info)  # fmt: skip
    return (type(type_), dialect_key, *sorted(state.items()))


def _column_type(type_: TypeEngine, dialect: sa.Dialect) -> ColumnType:
    stored = stored_type(type_, dialect)
    imports: set[str] = set()
    python = type_expression(type_, imports)
    family = _family(stored)
    item = None
    if isinstance(stored, sa.ARRAY):
        item = column_type(stored.item_type, dialect)
    return ColumnType(
        family=family,
        sql=_compile(type_, dialect),
        python=python,
        imports=tuple(sorted(imports)),
        length=_length(stored, dialect),
        precision=_int_attribute(stored, "precision"),
        scale=_int_attribute(stored, "scale"),
        timezone=_timezone(stored),
        enum_name=_enum_name(stored, dialect),
        enum_values=tuple(stored.enums) if isinstance(stored, sa.Enum) else (),
        item=item,
    )


def stored_type(type_: TypeEngine, dialect: sa.Dialect) -> TypeEngine:
    """The type whose shape reaches the database: variant chosen, decorators unwrapped."""
    type_ = sa.types.to_instance(type_)
    variants: dict[str, TypeEngine] = getattr(type_, "_variant_mapping", {})
    type_ = variants.get(dialect.name, type_)
    seen = 0
    # sa.Interval is a decorator inside SQLAlchemy, but to the user it is a type
    # of its own (stored as DATETIME where no INTERVAL exists).
    while isinstance(type_, sa.types.TypeDecorator) and not isinstance(type_, sa.Interval):
        if seen == 10:  # a decorator that decorates itself; stop rather than loop
            break
        # load_dialect_impl is the documented hook a decorator uses to pick its
        # storage per dialect; it returns the impl itself by default.
        type_ = sa.types.to_instance(type_.load_dialect_impl(dialect))
        variants = getattr(type_, "_variant_mapping", {})
        type_ = variants.get(dialect.name, type_)
        seen += 1
    return type_


def _family(type_: TypeEngine) -> str:
    loaded = frozenset(
        d for d in ("mysql", "postgresql") if f"sqlalchemy.dialects.{d}" in sys.modules
    )
    for classes, family in _families(loaded):
        if isinstance(type_, classes):
            return family
    return "other"


def _compile(type_: TypeEngine, dialect: sa.Dialect) -> str:
    try:
        return type_.compile(dialect=dialect)
    except CompileError:
        # A type this dialect cannot create (ARRAY on SQLite, a PostgreSQL-only
        # type elsewhere): create_all would fail here; keep a readable name.
        return str(getattr(type_, "__visit_name__", type(type_).__name__)).upper()


def _int_attribute(type_: TypeEngine, name: str) -> int | None:
    value = getattr(type_, name, None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _length(type_: TypeEngine, dialect: sa.Dialect) -> int | None:
    # A native enum (PostgreSQL type, MySQL ENUM) has no length of its own; the
    # length SQLAlchemy computes for it only matters when it becomes a VARCHAR.
    mysql_enum = dialect_class("mysql", "ENUM")
    if isinstance(type_, sa.Enum) and (
        _native(type_, dialect) or (mysql_enum is not None and isinstance(type_, mysql_enum))
    ):
        return None
    return _int_attribute(type_, "length")


def _timezone(type_: TypeEngine) -> bool | None:
    if isinstance(type_, (sa.DateTime, sa.Time)) and not isinstance(type_, sa.Interval):
        return bool(type_.timezone)
    return None


def _native(type_: TypeEngine, dialect: sa.Dialect) -> bool:
    return isinstance(type_, sa.Enum) and type_.native_enum and dialect.supports_native_enum


def _enum_name(type_: TypeEngine, dialect: sa.Dialect) -> str | None:
    # Only PostgreSQL keeps an enum as a named type of its own; MySQL's ENUM is
    # inline in the column and a non-native enum is a plain VARCHAR.
    if dialect.name == "postgresql" and _native(type_, dialect):
        name = getattr(type_, "name", None)
        return name if isinstance(name, str) else None
    return None
