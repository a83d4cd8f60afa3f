"""``distill check``: do the models, the migrations and the database agree?

Two pairs are compared, and each difference says which pair it is in:

- models vs migrations: model changes no revision captures yet;
- migrations vs database: revisions not applied yet, and changes made to the
  database by hand (its schema against what its own revision should give).

A database that cannot be reached leaves the second pair out with a note, so
``check`` also works in CI with no database at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from distill.autogen.compare import Options, compare
from distill.autogen.generate import (
    compared_schemas,
    migration_schema,
    model_schema,
    options_for,
    target_dialect,
)
from distill.autogen.renames import possible_renames
from distill.config import Config
from distill.errors import DistillError
from distill.schema.model import Schema
from distill.scripts.graph import RevisionGraph

MODELS_MIGRATIONS = "models vs migrations"
MIGRATIONS_DATABASE = "migrations vs database"


@dataclass(frozen=True)
class Difference:
    pair: str
    code: str
    message: str
    table: str | None = None
    name: str | None = None


@dataclass
class Report:
    differences: list[Difference] = field(default_factory=list)
    database: str = "not compared"  # "compared", or why not

    @property
    def ok(self) -> bool:
        return not self.differences

    def lines(self) -> list[str]:
        return [f"{d.pair}: {d.message}" for d in self.differences]

    def to_json(self) -> str:
        return json.dumps(
            {
                "ok": self.ok,
                "database": self.database,
                "differences": [d.__dict__ for d in self.differences],
            },
            indent=2,
        )


def check(
    graph: RevisionGraph,
    config: Config,
    notify: Callable[[str], None],
    read_heads: Callable[[], tuple[str, ...]],
) -> Report:
    dialect = target_dialect(config)
    options = options_for(config)
    report = Report()
    notify = _once(notify)  # head and the database's revision may replay the same notes
    head_schema = migration_schema(graph, config, dialect, notify)
    changes = compare(head_schema, model_schema(config, dialect), options)
    for change in changes:
        report.differences.append(Difference(
            MODELS_MIGRATIONS, change.code, change.describe("migrations", "models"),
            change.table, change.name,
        ))  # fmt: skip
    for rename in possible_renames(changes):
        report.differences.append(Difference(
            MODELS_MIGRATIONS, "possible-rename",
            f"{rename.what}: possible rename; to keep the data, generate it with "
            f"'distill revision --autogenerate --rename {rename.argument}'",
        ))  # fmt: skip
    try:
        current = read_heads()
    except DistillError as error:
        report.database = str(error)
        notify(f"note: the database was not compared: {error}")
        return report
    report.database = "compared"
    pending = graph.upgrade_steps(current, "heads")
    if pending:
        at = ", ".join(current) or "base"
        report.differences.append(Difference(
            MIGRATIONS_DATABASE, "database.behind",
            f"database is at {at}, {len(pending)} revision(s) behind head; "
            "run 'distill upgrade head'",
        ))  # fmt: skip
    report.differences += _hand_made(graph, config, notify, current, options, head_schema)
    return report


def _hand_made(
    graph: RevisionGraph,
    config: Config,
    notify: Callable[[str], None],
    current: tuple[str, ...],
    options: Options,
    head_schema: Schema,
) -> list[Difference]:
    """The database against the schema its own revision should have."""
    from distill.runtime.database import connect, create_engine
    from distill.schema.reflect import reflect_schema

    dialect = target_dialect(config)
    if not current:
        expected = Schema(dialect.name)
    elif set(current) == set(graph.heads):
        expected = head_schema  # replayed once already: at head they are the same schema
    elif len(current) == 1:
        expected = migration_schema(graph, config, dialect, notify, target=current[0])
    else:
        notify("note: the database is at several revisions that are not all heads; "
               "its schema was not compared by hand-made changes")  # fmt: skip
        return []
    own = {config.version_table, config.history_table}
    schemas = compared_schemas(config)
    engine = create_engine(config.require_url())
    try:
        with connect(engine) as conn:
            actual = reflect_schema(conn, schemas=schemas, exclude=lambda name: name in own)
    finally:
        engine.dispose()
    return [
        Difference(MIGRATIONS_DATABASE, change.code,
                   change.describe("database", "migrations"), change.table, change.name)
        for change in compare(actual, expected, options)
    ]  # fmt: skip


def _once(notify: Callable[[str], None]) -> Callable[[str], None]:
    said: set[str] = set()

    def once(text: str) -> None:
        if text not in said:
            said.add(text)
            notify(text)

    return once
