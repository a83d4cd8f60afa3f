"""Fixtures of the ops tests: a connection per test, on a database of its own, and an
``op`` on it wrapped in an OpContext as the runtime does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from distill.ddl.context import OpContext
from distill.ops.api import Operations
from distill.runtime.database import create_engine


@pytest.fixture
def conn(db_url: str) -> Iterator[sa.Connection]:
    # The runtime's engine: on SQLite it makes DDL transactional, as in a real run.
    engine = create_engine(db_url)
    with engine.connect() as connection:
        yield connection
        connection.rollback()
    engine.dispose()


@pytest.fixture
def ops(conn: sa.Connection) -> Operations:
    return Operations(OpContext(dialect=conn.dialect, connection=conn))
