"""Helpers of the ops tests (no tests, no fixtures here: those are in conftest.py):
looking at the result, a table to work on, an offline ``op``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from distill.ddl.context import OpContext
from distill.ops.api import Operations


def columns(conn: sa.Connection, table: str) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in sa.inspect(conn).get_columns(table)}


def rows(conn: sa.Connection, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(sa.text(sql)).all()]


def type_name(column: dict[str, Any]) -> str:
    return type(column["type"]).__name__.upper()


def users(ops: Operations) -> sa.Table:
    return ops.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("email", sa.String(100)),
    )


def offline(dialect_name: str) -> tuple[Operations, list[str]]:
    """Operations writing SQL text, as ``--sql`` does."""
    from sqlalchemy.dialects import mysql, postgresql, sqlite

    dialects = {
        "sqlite": sqlite.dialect(),
        "postgresql": postgresql.dialect(),
        "mysql": mysql.dialect(),
        "mariadb": mysql.dialect(is_mariadb=True),
    }
    out: list[str] = []
    ctx = OpContext(dialect=dialects[dialect_name], connection=None, write_sql=out.append)
    return Operations(ctx), out
