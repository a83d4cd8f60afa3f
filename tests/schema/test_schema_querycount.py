"""Reflection costs a fixed number of queries, whatever the number of tables."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from distill.schema.reflect import reflect_schema


def _add_tables(metadata: sa.MetaData, start: int, stop: int) -> None:
    for i in range(start, stop):
        sa.Table(
            f"t{i:03d}",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(40), nullable=False, comment="a name"),
            sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id", ondelete="CASCADE")),
            sa.Column("code", sa.String(10), unique=True),
            sa.Index(f"ix_t{i:03d}_name", "name"),
            # Not on id: MariaDB refuses a CHECK on an AUTO_INCREMENT column.
            sa.CheckConstraint("parent_id > 0", name=f"ck_t{i:03d}_parent"),
            comment="a table",
        )


def _count_reflection(engine: sa.Engine, exclude: Any = None) -> tuple[int, int]:
    """(statements run, tables found) by one reflect_schema on a fresh connection."""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    with engine.connect() as conn:
        sa.event.listen(conn, "before_cursor_execute", count)
        schema = reflect_schema(conn, exclude=exclude)
        sa.event.remove(conn, "before_cursor_execute", count)
    return len(statements), len(schema.tables)


@pytest.mark.parametrize("exclude", [None, lambda name: name.endswith("7")], ids=["all", "some"])
def test_query_count_does_not_grow_with_tables(
    engine: sa.Engine, dialect_name: str, exclude: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    metadata = sa.MetaData()
    sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True))
    _add_tables(metadata, 0, 5)
    metadata.create_all(engine)
    # The first reflection through a dialect also looks up PostgreSQL's btree
    # access method, once, and caches it on the dialect: not a per-table cost.
    _count_reflection(engine)
    few, found_few = _count_reflection(engine, exclude)
    _add_tables(metadata, 5, 50)
    metadata.create_all(engine)
    many, found_many = _count_reflection(engine, exclude)

    expected = (6, 51) if exclude is None else (6, 46)  # t007, t017, ... t047 left out
    assert (found_few, found_many) == expected
    assert few == many, f"{dialect_name}: {few} queries for 5 tables, {many} for 50"
    with capsys.disabled():
        print(
            f"\n[{dialect_name}] reflect_schema: {few} queries for {found_few} tables, "
            f"{many} for {found_many}"
        )
