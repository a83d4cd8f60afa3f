"""The raw SQL of ``op.execute()`` read as the ops it spells, so the same rules apply.

Only statements with one unambiguous reading are taken (PostgreSQL's spelling):
``CREATE [UNIQUE] INDEX [CONCURRENTLY]``, ``DROP INDEX [CONCURRENTLY]``, and
``ALTER TABLE`` with one action of ``ADD [CONSTRAINT c] FOREIGN KEY ... [NOT
VALID]``, ``ADD [CONSTRAINT c] CHECK (...) [NOT VALID]``, ``ADD [CONSTRAINT c]
UNIQUE (...)``, ``ALTER [COLUMN] c SET NOT NULL`` and ``ADD [COLUMN] c type
[DEFAULT ...] [NOT NULL]``.  Anything else is left alone: a wrong reading would
be a wrong finding.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from distill.ddl.statements import SQL_NAME, structural_statements
from distill.ops.base import Op
from distill.ops.column import AddColumn, AlterColumn
from distill.ops.constraint import CreateCheck, CreateForeignKey, CreateUnique
from distill.ops.index import CreateIndex, DropIndex

_NAME = SQL_NAME
_QUALIFIED = rf"(?:({_NAME})\.)?({_NAME})"
_COLUMNS = r"\(([^()]*)\)"

_CREATE_INDEX = re.compile(
    rf"^CREATE (UNIQUE )?INDEX (CONCURRENTLY )?(?:IF NOT EXISTS )?(?:({_NAME}) )?"
    rf"ON (?:ONLY )?{_QUALIFIED}(?: USING \w+)? ?{_COLUMNS}",
    re.IGNORECASE,
)
_DROP_INDEX = re.compile(
    rf"^DROP INDEX (CONCURRENTLY )?(?:IF EXISTS )?{_QUALIFIED}(?: CASCADE| RESTRICT)?$",
    re.IGNORECASE,
)
_ALTER_TABLE = re.compile(rf"^ALTER TABLE (?:IF EXISTS )?(?:ONLY )?{_QUALIFIED} (.+)$", re.I)
_CONSTRAINT = rf"ADD (?:CONSTRAINT ({_NAME}) )?"
_FOREIGN_KEY = re.compile(
    rf"^{_CONSTRAINT}FOREIGN KEY ?{_COLUMNS} REFERENCES {_QUALIFIED} ?{_COLUMNS}(.*)$", re.I
)
_CHECK = re.compile(rf"^{_CONSTRAINT}CHECK ?\((.*)\)( NOT VALID)?$", re.IGNORECASE)
_UNIQUE = re.compile(rf"^{_CONSTRAINT}UNIQUE ?{_COLUMNS}$", re.IGNORECASE)
_SET_NOT_NULL = re.compile(rf"^ALTER (?:COLUMN )?({_NAME}) SET NOT NULL$", re.IGNORECASE)
_ADD_COLUMN = re.compile(rf"^ADD (?:COLUMN )?(?:IF NOT EXISTS )?({_NAME}) (.+)$", re.IGNORECASE)
_DEFAULT = re.compile(
    r"\bDEFAULT (.+?)(?= NOT NULL| NULL| CONSTRAINT| CHECK| REFERENCES| PRIMARY| UNIQUE|$)",
    re.IGNORECASE,
)


def ops_of_sql(sql: Any) -> list[Op]:
    """The ops ``op.execute(sql)`` spells, as far as they can be read without doubt."""
    found: list[Op] = []
    for statement in structural_statements(sql):
        op = _op_of(statement)
        if op is not None:
            found.append(op)
    return found


def _op_of(statement: str) -> Op | None:
    index = _CREATE_INDEX.match(statement)
    if index:
        unique, concurrently, name, schema, table, columns = index.groups()
        return CreateIndex(_unquoted(name) or "(unnamed)", _unquoted(table) or "",
                           _names(columns), schema=_schema(schema), unique=bool(unique),
                           kw={"postgresql_concurrently": bool(concurrently)})  # fmt: skip
    drop = _DROP_INDEX.match(statement)
    if drop:
        concurrently, schema, name = drop.groups()
        return DropIndex(_unquoted(name) or "", schema=_schema(schema),
                         kw={"postgresql_concurrently": bool(concurrently)})  # fmt: skip
    alter = _ALTER_TABLE.match(statement)
    if alter is None or _top_level_comma(alter.group(3)):
        return None
    schema, table = _schema(alter.group(1)), _unquoted(alter.group(2)) or ""
    return _alter_action(alter.group(3), table, schema)


def _alter_action(action: str, table: str, schema: str | None) -> Op | None:
    fk = _FOREIGN_KEY.match(action)
    if fk:
        name, local, referent_schema, referent, remote, rest = fk.groups()
        return CreateForeignKey(
            _unquoted(name), table, _unquoted(referent) or "", _names(local), _names(remote),
            schema=schema, referent_schema=_schema(referent_schema),
            kw={"postgresql_not_valid": "NOT VALID" in rest.upper()},
        )  # fmt: skip
    check = _CHECK.match(action)
    if check:
        name, condition, not_valid = check.groups()
        return CreateCheck(_unquoted(name), table, condition, schema=schema,
                           kw={"postgresql_not_valid": bool(not_valid)})  # fmt: skip
    unique = _UNIQUE.match(action)
    if unique:
        return CreateUnique(_unquoted(unique.group(1)), table, _names(unique.group(2)),
                            schema=schema)  # fmt: skip
    not_null = _SET_NOT_NULL.match(action)
    if not_null:
        return AlterColumn(table, _unquoted(not_null.group(1)) or "", nullable=False,
                           schema=schema)  # fmt: skip
    column = _ADD_COLUMN.match(action)
    if column and not column.group(2).upper().startswith(("CONSTRAINT ", "PRIMARY", "FOREIGN")):
        definition = column.group(2)
        default = _DEFAULT.search(definition)
        new = sa.Column(
            _unquoted(column.group(1)) or "",
            sa.types.NullType(),
            nullable="NOT NULL" not in definition.upper(),
            server_default=sa.text(default.group(1)) if default else None,
        )
        return AddColumn(table, new, schema=schema)
    return None


def _top_level_comma(text: str) -> bool:
    depth = 0
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            return True
    return False


def _names(columns: str) -> list[str]:
    return [_unquoted(c.strip()) or "" for c in columns.split(",") if c.strip()]


def _schema(name: str | None) -> str | None:
    """The schema a name is qualified with; ``public`` is the default one, as unqualified."""
    schema = _unquoted(name)
    return None if schema == "public" else schema


def _unquoted(name: str | None) -> str | None:
    """``"Name"`` as it is written; an unquoted name as PostgreSQL folds it."""
    if name is None:
        return None
    return name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()
