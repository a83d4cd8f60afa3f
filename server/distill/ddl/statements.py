"""Does an ``op.execute()`` statement change the structure a ``Schema`` describes?

Replay cannot run SQL, so it reads the statement: data statements (INSERT,
UPDATE, SELECT, ...) and statements on objects the Schema does not describe
(views, functions, triggers, grants) leave it as it is; anything else —
ALTER/CREATE/DROP of tables, indexes, types, comments, or text this module
does not recognise — makes the replay inexact.  Erring towards "inexact" only
costs a scratch database; erring the other way would hide a difference.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.dml import UpdateBase

_DATA = frozenset({
    "INSERT", "UPDATE", "DELETE", "SELECT", "WITH", "MERGE", "VALUES", "REPLACE", "TRUNCATE",
    "SET", "LOCK", "ANALYZE", "VACUUM", "GRANT", "REVOKE", "NOTIFY", "REFRESH", "CLUSTER",
    "REINDEX", "OPTIMIZE", "FLUSH", "BEGIN", "COMMIT", "SAVEPOINT", "RELEASE",
})  # fmt: skip

# CREATE/ALTER/DROP of these objects does not touch tables, columns, indexes,
# constraints or enum types (unless CASCADE reaches them, checked apart).
_OUTSIDE = re.compile(
    r"^(CREATE|ALTER|DROP)\s+(OR\s+REPLACE\s+)?(TEMP\w*\s+|RECURSIVE\s+|UNLOGGED\s+)?"
    r"(MATERIALIZED\s+VIEW|VIEW|FUNCTION|PROCEDURE|TRIGGER|EXTENSION|SEQUENCE|ROLE|USER"
    r"|POLICY|RULE|AGGREGATE|EVENT)\b"
)
# Quoted text, dollar-quoted bodies and comments: their ";" and words are not SQL.
_NOT_SQL = re.compile(
    r"'(?:[^']|'')*'|\$(\w*)\$.*?\$\1\$|--[^\n]*|/\*.*?\*/",
    re.DOTALL,
)
# Validating a constraint added NOT VALID checks rows; the schema stays as it is.
_VALIDATE = re.compile(r"^ALTER\s+TABLE\s+[^;]+\s+VALIDATE\s+CONSTRAINT\s+\S+$")
# PRAGMAs that only read, or set options of the connection.
_READ_PRAGMA = re.compile(r"^PRAGMA\s+(\w+\.)?\w+\s*(\(\s*\w*\s*\))?$")


# A PostgreSQL identifier as written: quoted (a doubled quote inside), or plain.
SQL_NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'


def structural_statements(statement: str | Executable) -> list[str]:
    """The parts of ``statement`` that may change the schema; empty when none may."""
    if isinstance(statement, (UpdateBase, sa.Select)):
        return []
    if isinstance(statement, sa.TextClause):
        statement = statement.text
    if not isinstance(statement, str):
        # A DDL construct or something exotic: assume it changes structure.
        return [type(statement).__name__]
    return [part for part in _statements(statement) if not _leaves_schema(part)]


def _statements(text: str) -> list[str]:
    bare = _NOT_SQL.sub(_placeholder, text)
    return [" ".join(part.split()) for part in bare.split(";") if part.strip()]


def _placeholder(match: re.Match[str]) -> str:
    # A literal stays a literal (so "SET x = 'a;b'" is one statement); a comment goes.
    return " '' " if match.group(0)[:1] in ("'", "$") else " "


def _leaves_schema(statement: str) -> bool:
    upper = statement.lstrip("( ").upper()
    first = upper.split(None, 1)[0] if upper else ""
    if first == "SELECT":
        # SELECT ... INTO creates a table on PostgreSQL.
        return " INTO " not in f" {upper} " or "INTO @" in upper
    if first == "PRAGMA":
        return bool(_READ_PRAGMA.match(upper))
    if first in _DATA or _VALIDATE.match(upper):
        return True
    return bool(_OUTSIDE.match(upper)) and " CASCADE" not in upper


def shown(text: str, limit: int = 80) -> str:
    """A statement in one line, short enough for a message."""
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 3] + "..."
