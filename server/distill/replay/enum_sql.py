"""PostgreSQL enum-type statements in ``op.execute()``, read back as the ops they are.

Alembic has no enum-type ops, so revisions of Alembic projects — Distill's own
autogenerate writes them so, see ``autogen.alembic_runnable`` — change enum
types with ``op.execute("ALTER TYPE status ADD VALUE 'x'")``.  Reading those
few exact forms keeps the replay exact (no scratch database on every check);
any other text is left to ``replay_sql``, which calls it inexact.
"""

from __future__ import annotations

import re

from distill.ddl.statements import SQL_NAME
from distill.ops.base import Op
from distill.ops.enum import AddEnumValue, CreateEnumType, DropEnumType

_NAME = SQL_NAME
_TYPE = rf"(?:(?P<schema>{_NAME})\s*\.\s*)?(?P<name>{_NAME})"
_LITERAL = r"'(?:[^']|'')*'"

_ADD_VALUE = re.compile(
    rf"ALTER\s+TYPE\s+{_TYPE}\s+ADD\s+VALUE\s+(?P<ine>IF\s+NOT\s+EXISTS\s+)?(?P<value>{_LITERAL})"
    rf"(?:\s+(?P<where>BEFORE|AFTER)\s+(?P<anchor>{_LITERAL}))?",
    re.IGNORECASE,
)
_CREATE = re.compile(
    rf"CREATE\s+TYPE\s+{_TYPE}\s+AS\s+ENUM\s*\(\s*(?P<values>{_LITERAL}(?:\s*,\s*{_LITERAL})*)?\s*\)",
    re.IGNORECASE,
)
_DROP = re.compile(rf"DROP\s+TYPE\s+{_TYPE}", re.IGNORECASE)


def enum_op_of(statement: str) -> Op | None:
    """The op one statement of these forms is; None for any other text."""
    text = statement.strip().rstrip(";").strip()
    if match := _ADD_VALUE.fullmatch(text):
        anchor = _literal(match["anchor"]) if match["anchor"] else None
        where = (match["where"] or "").upper()
        return AddEnumValue(
            _name(match["name"]),
            _literal(match["value"]),
            _schema(match),
            before=anchor if where == "BEFORE" else None,
            after=anchor if where == "AFTER" else None,
            if_not_exists=bool(match["ine"]),
        )
    if match := _CREATE.fullmatch(text):
        values = re.findall(_LITERAL, match["values"] or "")
        return CreateEnumType(_name(match["name"]), [_literal(v) for v in values], _schema(match))
    if match := _DROP.fullmatch(text):
        return DropEnumType(_name(match["name"]), _schema(match))
    return None


def _schema(match: re.Match[str]) -> str | None:
    return _name(match["schema"]) if match["schema"] else None


def _name(token: str) -> str:
    # Unquoted names fold to lower case in PostgreSQL; quoted ones are kept.
    if token.startswith('"'):
        return token[1:-1].replace('""', '"')
    return token.lower()


def _literal(token: str) -> str:
    return token[1:-1].replace("''", "'")
