"""Three-way drift as the editor shows it: models, migration head, database.

What disagrees is ``commands.three_schemas``; this module turns its answer into
``Drift`` items: a stable code, a message written for someone looking at
the model line, and which part of the declaration to point at.  Where an item
goes in a file is ``placement``'s business.

| pair                | meaning                                  | code prefix          |
|---------------------|------------------------------------------|----------------------|
| models / migrations | model changes no revision captures yet   | ``drift.`` (several) |
| head / database     | the database is behind or elsewhere      | ``drift.database-*`` |
| database / revision | the database was altered by hand         | ``drift.hand-made``  |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from distill.autogen.compare import Change
from distill.commands.three_schemas import ProjectDrift

MODELS = "models-migrations"
DATABASE = "migrations-database"
HAND_MADE = "database-revision"


@dataclass(frozen=True)
class Drift:
    code: str  # stable, e.g. "drift.column-not-migrated"
    pair: str  # MODELS, DATABASE or HAND_MADE
    message: str
    severity: str = "warning"  # "error" | "warning" | "information"
    table: str | None = None
    schema: str | None = None
    column: str | None = None
    # What to point at within the declaration: a locate argument key such as
    # "index", "type", "nullable", "server_default", "foreign_key"; or
    # "table" (the class / Table line), or "metadata" (the Base/MetaData line).
    target: str = "column"
    item: str | None = None  # an index or constraint name, to find it in __table_args__
    data: dict[str, Any] = field(default_factory=dict)


# change code -> (drift code, what to point at)
_CODES: dict[str, tuple[str, str]] = {
    "table.added": ("drift.table-not-migrated", "table"),
    "table.removed": ("drift.table-not-in-models", "metadata"),
    "table.comment": ("drift.table-comment", "table"),
    "column.added": ("drift.column-not-migrated", "column"),
    "column.removed": ("drift.column-not-in-models", "table"),
    "column.type": ("drift.column-type", "type"),
    "column.nullable": ("drift.column-nullable", "nullable"),
    "column.default": ("drift.column-default", "server_default"),
    "column.comment": ("drift.column-comment", "comment"),
    "pk.columns": ("drift.primary-key", "primary_key"),
    "index.added": ("drift.index-not-migrated", "index"),
    "index.removed": ("drift.index-not-in-models", "table"),
    "unique.added": ("drift.unique-not-migrated", "unique"),
    "unique.removed": ("drift.unique-not-in-models", "table"),
    "fk.added": ("drift.foreign-key-not-migrated", "foreign_key"),
    "fk.removed": ("drift.foreign-key-not-in-models", "table"),
    "check.added": ("drift.check-not-migrated", "table"),
    "check.removed": ("drift.check-not-in-models", "table"),
    "enum.added": ("drift.enum-not-migrated", "metadata"),
    "enum.removed": ("drift.enum-not-in-models", "metadata"),
    "enum.values": ("drift.enum-values", "metadata"),
}


def editor_drift(found: ProjectDrift) -> list[Drift]:
    """Every item the editor shows of ``found``: the database's, then the models'."""
    return [*database_drift(found), *model_drift(found), *hand_made_drift(found)]


def model_drift(found: ProjectDrift) -> list[Drift]:
    """Model changes no revision captures yet: ``compare(head, models)``."""
    items = [_model_item(change) for change in found.model_changes]
    for rename in found.renames:
        items.append(Drift(
            "drift.possible-rename", MODELS,
            f"{rename.what} looks like a rename; generating a revision would drop and add "
            "(losing the data) unless it is generated as a rename",
            severity="information", table=rename.table if rename.column else rename.new,
            column=rename.new if rename.column else None,
            target="column" if rename.column else "table",
            data={"rename": rename.argument, "old": rename.old, "new": rename.new},
        ))  # fmt: skip
    return items


def _model_item(change: Change) -> Drift:
    code, target = _CODES.get(change.code, ("drift.other", "table"))
    column = change.name if change.code.startswith("column.") else None
    item = change.name if not change.code.startswith(("column.", "table.")) else None
    if change.code == "index.added" and change.new is not None and len(change.new.columns) == 1:
        column = change.new.columns[0]  # an index=True on that column, most likely
    if change.code in ("unique.added", "fk.added") and len(change.new.columns) == 1:
        column = change.new.columns[0]
    return Drift(
        code, MODELS, _model_message(change), table=change.table, schema=change.schema,
        column=column, target=target, item=item,
        data={"change": change.code, "name": change.name},
    )  # fmt: skip


def _model_message(change: Change) -> str:
    where = change.where
    if change.code == "table.added":
        return f"table {where} is not in any migration"
    if change.code == "table.removed":
        return f"table {where} is in the migrations but no longer in the models"
    if change.code == "column.added":
        return f"{where} is not in any migration"
    if change.code == "column.removed":
        return f"{where} is in the migrations but no longer in the models"
    return change.describe("migrations", "models")


def database_drift(found: ProjectDrift) -> list[Drift]:
    """Where the database stands against the migration head."""
    if found.database_problem is not None:
        return [Drift("drift.database-unreachable", DATABASE,
                      f"database not compared: {found.database_problem}",
                      target="metadata")]  # fmt: skip
    current = found.current
    if current is None:
        return []
    if found.unknown:
        message = f"database is at {', '.join(found.unknown)}, which no revision file defines"
        return [Drift("drift.database-unknown-revision", DATABASE, message, severity="error",
                      target="metadata", data={"current": list(current)})]  # fmt: skip
    pending = found.pending
    if not pending:
        return []
    at = ", ".join(c[:12] for c in current) or "base"
    return [Drift(
        "drift.database-behind", DATABASE,
        f"database is at {at}, {len(pending)} revision{'s' if len(pending) > 1 else ''} "
        "behind head",
        target="metadata", data={"current": list(current), "pending": len(pending)},
    )]  # fmt: skip


def hand_made_drift(found: ProjectDrift) -> list[Drift]:
    """The database against the schema its own revision gives: changes made by hand.

    Keepable when the models made the same change at head: a revision of it,
    stamped as applied, keeps the database as it is."""
    keepable = {"keepable": True} if found.models_made_the_same else {}
    return [
        Drift("drift.hand-made", HAND_MADE,
              f"changed in the database by hand: {change.describe('database', 'migrations')}",
              table=change.table, schema=change.schema,
              column=change.name if change.code.startswith("column.") else None,
              target="table" if change.table else "metadata",
              data={"change": change.code, "name": change.name, **keepable})
        for change in found.hand_made or ()
    ]  # fmt: skip
