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
from typing import TYPE_CHECKING

from distill.autogen.compare import compare
from distill.autogen.generate import (
    migration_schema,
    model_schema,
    options_for,
    reflect_database,
    target_dialect,
)
from distill.autogen.renames import possible_renames
from distill.config import Config
from distill.errors import DistillError
from distill.runtime.plan import require_known_heads
from distill.schema.model import Schema
from distill.scripts.graph import RevisionGraph

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

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
    engine: Callable[[], Engine | Connection],
) -> Report:
    dialect = target_dialect(config)
    options = options_for(config)
    report = Report()
    notify = _once(notify)  # head and the database's revision may replay the same notes
    head_schema = migration_schema(graph, config, dialect, notify)
    changes = compare(head_schema, model_schema(config, dialect), options)
    try:
        current: tuple[str, ...] | None
        current, actual = _read_database(config, read_heads, engine)
    except DistillError as error:
        current, actual = None, Schema(dialect.name)
        report.database = str(error)
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
    if current is None:
        notify(f"note: the database was not compared: {report.database}")
        return report
    report.database = "compared"
    require_known_heads(graph, current, config)
    pending = graph.upgrade_steps(current, "heads")
    if pending:
        at = ", ".join(current) or "base"
        report.differences.append(Difference(
            MIGRATIONS_DATABASE, "database.behind",
            f"database is at {at}, {len(pending)} revision(s) behind head; "
            "run 'distill upgrade head'",
        ))  # fmt: skip
    expected = expected_schema(
        graph, current, head_schema,
        lambda target: migration_schema(graph, config, dialect, notify, target=target),
    )  # fmt: skip
    if expected is None:
        notify("note: the database is at several revisions that are not all heads; "
               "its schema was not compared by hand-made changes")  # fmt: skip
    else:
        report.differences += [
            Difference(MIGRATIONS_DATABASE, change.code,
                       change.describe("database", "migrations"), change.table, change.name)
            for change in compare(actual, expected, options)
        ]  # fmt: skip
    return report


def _read_database(
    config: Config,
    read_heads: Callable[[], tuple[str, ...]],
    engine: Callable[[], Engine | Connection],
) -> tuple[tuple[str, ...], Schema]:
    """The applied revisions and the live schema."""
    current = read_heads()
    return current, reflect_database(config, engine)


def expected_schema(
    graph: RevisionGraph,
    current: tuple[str, ...],
    head: Schema,
    replay: Callable[[str], Schema],
) -> Schema | None:
    """The schema the database's own revision gives, to find changes made by hand.

    ``replay`` builds one revision's schema; None when the database is at several
    revisions that are not all heads (or at one no file defines).
    """
    if not current:
        return Schema(head.dialect, flavour=head.flavour)
    if set(current) == set(graph.heads):
        return head  # replayed once already: at head they are the same schema
    if len(current) == 1 and current[0] in graph.revisions:
        return replay(current[0])
    return None


def _once(notify: Callable[[str], None]) -> Callable[[str], None]:
    said: set[str] = set()

    def once(text: str) -> None:
        if text not in said:
            said.add(text)
            notify(text)

    return once
