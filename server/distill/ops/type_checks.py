"""The CHECK constraints a column type brings: ``Enum``/``Boolean(create_constraint=True)``.

SQLAlchemy adds such a CHECK to CREATE TABLE by itself, named after the type
(or by the naming convention).  An ALTER has no such help: changing the type
of a column must drop the old type's CHECK and add the new one's, or rows
with a new enum value are refused by the old CHECK; adding a column must add
its type's CHECK as well.  Where the database keeps no such CHECK (a native
enum or boolean) the list is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from distill.ddl.context import NamingConvention
from distill.ops.naming import metadata_for
from distill.schema.ddl_facts import constraint_name, ddl_compiler, is_created, sql_text


@dataclass(frozen=True)
class TypeCheck:
    name: str | None  # None: the type has no name and no convention names it
    sqltext: str  # as the dialect writes it in DDL
    constraint: sa.CheckConstraint  # on a stub table, ready for ADD CONSTRAINT


def type_checks(
    table_name: str,
    schema: str | None,
    column_name: str,
    type_: Any,
    dialect: sa.Dialect,
    convention: NamingConvention | None,
) -> list[TypeCheck]:
    """The CHECKs a column ``column_name`` of ``type_`` has on ``dialect``."""
    if type_ is None:
        return []
    type_ = sa.types.to_instance(type_)
    if not isinstance(type_, sa.types.SchemaType):
        return []
    # A copy: attaching a type to a column registers it there.
    column: sa.Column[Any] = sa.Column(column_name, type_.copy())  # type: ignore[no-untyped-call]
    table = sa.Table(table_name, metadata_for(convention), column, schema=schema)
    compiler = ddl_compiler(dialect)
    return [
        TypeCheck(constraint_name(con, dialect), sql_text(con.sqltext, compiler), con)
        for con in table.constraints
        if isinstance(con, sa.CheckConstraint) and is_created(con, compiler)
    ]


def without_own_check(type_: Any) -> Any:
    """``type_`` minus the CHECK it would add to a table (a rebuild states it itself)."""
    if not isinstance(type_, sa.types.SchemaType) or not getattr(type_, "create_constraint", False):
        return type_
    copy = type_.copy()  # type: ignore[no-untyped-call]
    copy.create_constraint = False
    return copy


def drop_names(checks: Sequence[TypeCheck]) -> list[str]:
    """The names to drop; an unnamed type CHECK cannot be found by name and stays."""
    return [check.name for check in checks if check.name is not None]
