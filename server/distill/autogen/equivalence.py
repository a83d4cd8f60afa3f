"""When two spellings of a type or a default mean the same thing on a dialect.

A declared ``String(50)`` comes back from the database as ``VARCHAR(50)``, a
``Boolean`` from MariaDB as ``TINYINT(1)``, a default ``'new'`` from PostgreSQL
as ``'new'::character varying``.  None of those is a change, and a tool that
reports them teaches its users to ignore its reports; so every comparison of
types and defaults goes through these rules, per dialect.
"""

from __future__ import annotations

import re

from distill.schema.model import ColumnType

_INTEGERS = {"integer", "smallint", "bigint"}


def types_equivalent(a: ColumnType, b: ColumnType, dialect: str) -> bool:
    """True when a column of type ``a`` needs no ALTER to become type ``b``."""
    fa, fb = _effective_family(a, dialect), _effective_family(b, dialect)
    if fa != fb:
        return False
    if fa in ("string", "binary"):
        if a.family == b.family == "enum" and a.enum_values != b.enum_values:
            return False  # both declared: the values are the contract, whatever the length
        if dialect == "sqlite" and "enum" in (a.family, b.family):
            return True  # SQLite does not enforce the VARCHAR length a non-native Enum gets
        return _length(a) == _length(b)
    if fa == "numeric":
        return _same_if_both(a.precision, b.precision) and _same_if_both(a.scale, b.scale)
    if fa in ("datetime", "time"):
        # Only PostgreSQL stores a time zone flag; elsewhere both read back naive.
        return dialect != "postgresql" or bool(a.timezone) == bool(b.timezone)
    if fa == "enum":
        if dialect == "postgresql" and a.enum_name is not None and b.enum_name is not None:
            # A named type's values belong to the type, compared once as enum.values;
            # the column only names it.
            return a.enum_name == b.enum_name
        return a.enum_values == b.enum_values and _same_if_both(a.enum_name, b.enum_name)
    if fa == "array":
        return (
            a.item is not None and b.item is not None and types_equivalent(a.item, b.item, dialect)
        )
    if fa == "other":
        return _sql_words(a.sql) == _sql_words(b.sql)
    return True  # integers (display widths ignored), text, float, date, json, uuid, ...


def _effective_family(t: ColumnType, dialect: str) -> str:
    family = t.family
    if dialect == "mysql":
        # MariaDB/MySQL have no BOOLEAN: it is TINYINT(1); and MariaDB stores
        # JSON as LONGTEXT (with a json_valid check the reflection drops).
        if family == "integer" and _sql_words(t.sql) in ("TINYINT(1)", "BOOL", "BOOLEAN"):
            return "boolean"
        if family == "text" and _sql_words(t.sql) == "LONGTEXT" and t.python.endswith("JSON()"):
            return "json"
    if family == "uuid" and dialect != "postgresql":
        return "string"  # Uuid is CHAR(32) where the database has no UUID type
    if family == "interval" and dialect != "postgresql":
        return "datetime"  # stored as a timestamp offset from the epoch
    if family == "enum" and (dialect == "sqlite" or t.length is not None):
        # A non-native Enum (always on SQLite; native_enum=False elsewhere) is
        # a VARCHAR of its longest value; only a native one has no length.
        return "string"
    if family in _INTEGERS and dialect == "sqlite":
        return "integer"  # SQLite has one integer type whatever the declaration
    return family


def _length(t: ColumnType) -> int | None:
    return 32 if t.family == "uuid" else t.length  # Uuid as CHAR(32)


def _same_if_both(a: object, b: object) -> bool:
    return a is None or b is None or a == b


def _sql_words(sql: str) -> str:
    return " ".join(sql.upper().split())


# -- server defaults ------------------------------------------------------------------

_CAST = re.compile(r"::[a-z_][a-z0-9_ ]*(?:\[\])?(?:\(\d+(?:,\s*\d+)?\))?", re.IGNORECASE)
_NOW = re.compile(
    r"^(now\(\)|current_timestamp(\(\))?|localtimestamp(\(\))?|transaction_timestamp\(\))$",
    re.IGNORECASE,
)
_TRUE, _FALSE = {"true", "1", "'1'", "'t'", "'true'"}, {"false", "0", "'0'", "'f'", "'false'"}


def defaults_equivalent(a: str | None, b: str | None, family: str) -> bool:
    """True when two server-default SQL texts give the same value."""
    return normalize_default(a, family) == normalize_default(b, family)


def normalize_default(text: str | None, family: str) -> str | None:
    """A canonical spelling of a server default, for comparison only."""
    if text is None:
        return None
    value = _CAST.sub("", text.strip())
    value = _strip_parentheses(value.strip())
    if value.upper() == "NULL":
        return None
    if _NOW.match(value):
        return "current_timestamp"
    lowered = value.lower()
    if family == "boolean" or (family in _INTEGERS and lowered in _TRUE | _FALSE):
        if lowered in _TRUE:
            return "true"
        if lowered in _FALSE:
            return "false"
    if family in (*_INTEGERS, "numeric", "float") and _is_quoted(value):
        value = value[1:-1]  # '5' and 5 are the same number
    if family in (*_INTEGERS, "numeric", "float"):
        try:
            return repr(float(value))
        except ValueError:
            return lowered
    if _is_quoted(value):
        return "'" + value[1:-1].replace("''", "'") + "'"
    if family in ("string", "text", "enum"):
        return "'" + value + "'"  # MariaDB reflects string defaults unquoted
    return lowered


def _strip_parentheses(value: str) -> str:
    while value.startswith("(") and value.endswith(")") and _balanced(value[1:-1]):
        value = value[1:-1].strip()
    return value


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _is_quoted(value: str) -> bool:
    return len(value) >= 2 and value[0] == value[-1] == "'"


def normalize_sql(text: str) -> str:
    """SQL text as compared: casts, outer parentheses, quoting, case and spacing dropped.

    Databases echo expressions back reformatted (``lower(name)`` becomes
    ``lower((name)::text)`` on PostgreSQL, gains backticks on MariaDB).
    """
    value = _CAST.sub("", text)
    value = value.replace('"', "").replace("`", "")
    value = _strip_parentheses(" ".join(value.split()))
    return value.replace("(", " ( ").replace(")", " ) ").lower().replace(" ", "")
