"""The three schemas of a project, and where they disagree.

A project has three schemas: the **models'** (its ``MetaData``), the
**migrations'** (its revisions replayed to the heads, or to the database's
revision), and the **database's** (reflected).  Three pairs can disagree:

- models vs migrations: model changes no revision captures yet (what a new
  revision would hold), and which of them look like renames;
- migrations vs database: revisions not applied yet, or a database at a
  revision no file defines;
- database vs its own revision: changes made to the database by hand.

``drift`` says all of it, for ``distill check`` (``check`` below) and for the
language server, which builds the models and replays the revisions in its
sandbox and hands the results in.  A database that cannot be read leaves the
last two pairs out with the reason, so ``check`` also works in CI without one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from distill.autogen.compare import Change, Options, compare
from distill.autogen.renames import PossibleRename, possible_renames
from distill.config import Config
from distill.errors import DistillError
from distill.runtime.plan import require_known_heads
from distill.schema.model import Schema
from distill.scripts.graph import RevisionGraph
from distill.scripts.plans import upgrade_steps

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

MODELS_MIGRATIONS = "models vs migrations"
MIGRATIONS_DATABASE = "migrations vs database"


@dataclass(frozen=True)
class Database:
    """The database as read: its revisions and its reflected schema."""

    current: tuple[str, ...]
    schema: Schema


@dataclass(frozen=True)
class ProjectDrift:
    model_changes: tuple[Change, ...]  # compare(migrations at head, models)
    renames: tuple[PossibleRename, ...]  # drop+add pairs among them that look like renames
    current: tuple[str, ...] | None  # the database's revisions; None: not read
    database_problem: str | None  # why the database was not read
    unknown: tuple[str, ...] = ()  # of ``current``, those no revision file defines
    pending: tuple[str, ...] = ()  # revisions an upgrade to the heads applies
    # compare(database, the schema its own revision gives); None when that schema
    # is not known (several revisions that are not all heads, or an unknown one)
    hand_made: tuple[Change, ...] | None = None
    # At head, and the models made the same changes as the database: a revision of
    # the models, stamped as applied, keeps the database exactly as it is.
    models_made_the_same: bool = False


class HandMadeMemo:
    """The last database-vs-revision comparison: both sides change far less often than
    the models do (on a database refresh, on a new revision), so keystrokes reuse it."""

    def __init__(self) -> None:
        self._kept: tuple[Schema, Schema, list[Change]] | None = None

    def compare(self, actual: Schema, expected: Schema, options: Options) -> list[Change]:
        kept = self._kept
        if kept is not None and kept[0] is actual and kept[1] == expected:
            return kept[2]
        found = compare(actual, expected, options)
        self._kept = (actual, expected, found)
        return found


def drift(
    graph: RevisionGraph,
    model_changes: Sequence[Change],
    database: Database | str,
    head: Schema | None,
    replay: Callable[[str], Schema],
    options: Options,
    memo: HandMadeMemo | None = None,
) -> ProjectDrift:
    """Where models, migrations and database disagree.

    ``database``: as read, or why it could not be; ``head``: the migrations at
    the heads (None: not known, so no hand-made changes are looked for);
    ``replay``: the migrations at one revision (called only when the database is
    at a single revision that is not the heads).
    """
    changes, renames = tuple(model_changes), tuple(possible_renames(model_changes))
    if isinstance(database, str):
        return ProjectDrift(changes, renames, None, database)
    current = database.current
    unknown = tuple(c for c in current if c not in graph.revisions)
    pending = tuple(upgrade_steps(graph, current, "heads"))
    expected = None if head is None else expected_schema(graph, current, head, replay)
    if expected is None or head is None:
        return ProjectDrift(changes, renames, current, None, unknown, pending)
    hand_made = (memo or HandMadeMemo()).compare(database.schema, expected, options)
    same = (
        bool(hand_made)
        and expected is head
        and _same_things(compare(head, database.schema, options), changes)
    )
    return ProjectDrift(changes, renames, current, None, unknown, pending, tuple(hand_made), same)


def compare_options(config: Config, *, hooks: bool = True) -> Options:
    """The project's comparison settings; ``hooks=False`` leaves out its include hooks
    (project code, which the language server runs only in its sandbox)."""
    from distill.autogen.generate import options_for

    return options_for(config, hooks=hooks)


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


def _same_things(one: Sequence[Change], other: Sequence[Change]) -> bool:
    """Whether two change lists change the same things (what they change to is checked
    again, exactly, by the command that acts on it)."""

    def keys(changes: Sequence[Change]) -> set[tuple[str, str | None, str | None, str | None]]:
        return {(c.code, c.table, c.schema, c.name) for c in changes}

    return keys(one) == keys(other)


# -- distill check -------------------------------------------------------------------------


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
    """``distill check``: the models imported and the revisions replayed here."""
    from distill.autogen.generate import (
        migration_schema,
        model_schema,
        options_for,
        reflect_database,
        target_dialect,
    )

    dialect = target_dialect(config)
    options = options_for(config)
    notify = _once(notify)  # head and the database's revision may replay the same notes
    head = migration_schema(graph, config, dialect, notify)
    changes = compare(head, model_schema(config, dialect), options)
    database: Database | str
    try:
        current = read_heads()
        database = Database(current, reflect_database(config, engine))
    except DistillError as error:
        database = str(error)
    found = drift(
        graph, changes, database, head,
        lambda target: migration_schema(graph, config, dialect, notify, target=target),
        options,
    )  # fmt: skip
    report = Report(database=found.database_problem or "compared")
    for change in found.model_changes:
        report.differences.append(Difference(
            MODELS_MIGRATIONS, change.code, change.describe("migrations", "models"),
            change.table, change.name,
        ))  # fmt: skip
    for rename in found.renames:
        report.differences.append(Difference(
            MODELS_MIGRATIONS, "possible-rename",
            f"{rename.what}: possible rename; to keep the data, generate it with "
            f"'distill revision --autogenerate --rename {rename.argument}'",
        ))  # fmt: skip
    if found.current is None:
        notify(f"note: the database was not compared: {report.database}")
        return report
    require_known_heads(graph, found.current, config)
    if found.pending:
        at = ", ".join(found.current) or "base"
        report.differences.append(Difference(
            MIGRATIONS_DATABASE, "database.behind",
            f"database is at {at}, {len(found.pending)} revision(s) behind head; "
            "run 'distill upgrade head'",
        ))  # fmt: skip
    if found.hand_made is None:
        notify("note: the database is at several revisions that are not all heads; "
               "its schema was not compared by hand-made changes")  # fmt: skip
        return report
    report.differences += [
        Difference(MIGRATIONS_DATABASE, change.code,
                   change.describe("database", "migrations"), change.table, change.name)
        for change in found.hand_made
    ]  # fmt: skip
    return report


def _once(notify: Callable[[str], None]) -> Callable[[str], None]:
    said: set[str] = set()

    def once(text: str) -> None:
        if text not in said:
            said.add(text)
            notify(text)

    return once
