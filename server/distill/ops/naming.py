"""The naming convention ops build their constraints and indexes under.

Alembic builds every table, constraint and index of ``op.*`` on a MetaData
carrying the naming convention of env.py's ``target_metadata``, so an unnamed
``sa.UniqueConstraint("name")`` is created as ``uq_<table>_name`` and a later
revision drops it by that name — and a given name is rewritten too where the
convention spells ``%(constraint_name)s`` (``op.drop_constraint("pos", "t",
type_="check")`` drops ``ck_t_pos``; ``op.f()`` exempts a name).  Distill's ops
do the same: each op that names something carries the convention it was
written under (``Operations`` fills it in from the ``OpContext``), so running,
replaying and reversing it agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

import sqlalchemy as sa

NamingConvention: TypeAlias = Mapping[str, Any]
# A convention, or how to find it when first needed (a Distill project imports its models).
ConventionSource: TypeAlias = "NamingConvention | Callable[[], NamingConvention | None] | None"

# What a bare MetaData() has: the same as having no convention of one's own.
_DEFAULT = dict(sa.MetaData().naming_convention)


def convention_of(target: object) -> NamingConvention | None:
    """The convention of a ``target_metadata``, as Alembic reads it: a MetaData's own
    ``naming_convention``; none for a list of MetaData or SQLAlchemy's default."""
    if not isinstance(target, sa.MetaData):
        return None
    convention = dict(target.naming_convention)
    return None if convention == _DEFAULT else convention


def metadata_for(convention: NamingConvention | None) -> sa.MetaData:
    """A MetaData to build an op's objects on."""
    return sa.MetaData(naming_convention=dict(convention)) if convention else sa.MetaData()


def dropped_constraint_name(
    name: str, kind: str | None, table_name: str, convention: NamingConvention | None
) -> str:
    """The name ``op.drop_constraint(name, table, type_=kind)`` drops.

    A convention that spells ``%(constraint_name)s`` for that kind rewrites the
    given name, as it did when the constraint was created; without ``type_``
    no kind's convention applies (Alembic's behaviour, checked in the tests).
    """
    if not convention or kind is None or isinstance(name, sa.sql.elements.conv):
        return name
    con: sa.Constraint
    if kind == "unique":
        con = sa.UniqueConstraint(name=name)
    elif kind == "check":
        con = sa.CheckConstraint(sa.true(), name=name)
    elif kind == "foreignkey":
        con = sa.ForeignKeyConstraint([], [], name=name)
    else:
        con = sa.PrimaryKeyConstraint(name=name)
    sa.Table(table_name, metadata_for(convention)).append_constraint(con)
    return str(con.name)


def dropped_index_name(
    name: str, table_name: str | None, convention: NamingConvention | None
) -> str:
    """The name ``op.drop_index(name)`` drops: rewritten like a constraint's, above."""
    if not convention or isinstance(name, sa.sql.elements.conv):
        return name
    table = sa.Table(table_name or "_distill_unknown", metadata_for(convention))
    column: sa.Column[Any] = sa.Column("_distill_column", sa.types.NullType())
    table.append_column(column)
    index = sa.Index(name, column)  # attached through the column: the convention applies
    return str(index.name)


def created_name(item: sa.Constraint | sa.Index) -> str | None:
    """The name ``item`` gets in a SQLite rebuild: its own, or the one its
    table's naming convention makes (SQLite truncates no names)."""
    if item.name is None:
        return None
    from sqlalchemy.dialects import sqlite

    from distill.schema.ddl_facts import constraint_name

    return constraint_name(item, sqlite.dialect())
