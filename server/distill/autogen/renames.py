"""``--rename``: turn a drop plus an add into the rename the user says it is.

Autogenerate cannot know that a column or table was renamed rather than
replaced, and guessing wrong loses data; so it shows the likely renames as
comments, and the user confirms one with ``--rename``:

- ``--rename users.name:full_name`` (or ``users.name:users.full_name``) for a column,
- ``--rename customers:clients`` for a table.

Anything else that changed about the renamed item is still carried out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from distill.autogen.compare import Change, Options, column_changes, table_changes
from distill.errors import ConfigError


def apply_renames(
    changes: list[Change], renames: Sequence[str], dialect: str, options: Options
) -> list[Change]:
    for spec in renames:
        old, sep, new = spec.partition(":")
        if not sep or not old or not new:
            raise ConfigError(f"--rename {spec!r}: expected OLD:NEW, e.g. users.name:full_name")
        if "." in old:
            table, _, column = old.rpartition(".")
            changes = _rename_column(changes, spec, table, column, new.rpartition(".")[2],
                                     dialect, options)  # fmt: skip
        else:
            changes = _rename_table(changes, spec, old, new, dialect, options)
    return changes


def _rename_column(
    changes: list[Change],
    spec: str,
    table: str,
    old: str,
    new: str,
    dialect: str,
    options: Options,
) -> list[Change]:
    dropped = _find(changes, "column.removed", table, old)
    added = _find(changes, "column.added", table, new)
    if dropped is None or added is None:
        raise ConfigError(
            f"--rename {spec}: this revision does not drop {table}.{old} and add "
            f"{table}.{new}; check the names (distill check lists the differences)"
        )
    renamed = Change("column.renamed", table, added.schema, old, dropped.old, added.new)
    at = changes.index(dropped)
    rest = [c for c in changes if c is not dropped and c is not added]
    rest[at:at] = [renamed, *_column_follow_ups(renamed, dialect, options)]
    return rest


def _column_follow_ups(renamed: Change, dialect: str, options: Options) -> list[Change]:
    from distill.schema.model import Table

    table = Table(renamed.table or "", (), schema=renamed.schema)
    return column_changes(table, renamed.old, renamed.new, dialect, options)


def _rename_table(
    changes: list[Change], spec: str, old: str, new: str, dialect: str, options: Options
) -> list[Change]:
    dropped = _find(changes, "table.removed", None, old)
    added = _find(changes, "table.added", None, new)
    if dropped is None or added is None:
        raise ConfigError(
            f"--rename {spec}: this revision does not drop table {old} and add table {new}; "
            "check the names (distill check lists the differences)"
        )
    renamed = Change("table.renamed", new, added.schema, old, dropped.old, added.new)
    follow_ups = table_changes(replace(dropped.old, name=new), added.new, dialect, options)
    at = changes.index(dropped)
    rest = [c for c in changes if c is not dropped and c is not added]
    rest[at:at] = [renamed, *follow_ups]
    return rest


def _find(changes: list[Change], code: str, table: str | None, name: str) -> Change | None:
    for change in changes:
        if change.code != code:
            continue
        if code.startswith("table.") and change.table == name:
            return change
        if change.table == table and change.name == name:
            return change
    return None


@dataclass(frozen=True)
class PossibleRename:
    """A drop plus an add that may be a rename: ``column`` names it within ``table``."""

    table: str
    old: str
    new: str
    column: bool

    @property
    def what(self) -> str:
        if self.column:
            return f"{self.table}.{self.old} -> {self.table}.{self.new}"
        return f"{self.old} -> {self.new}"

    @property
    def argument(self) -> str:
        """What ``--rename`` takes to make it one."""
        return f"{self.table}.{self.old}:{self.new}" if self.column else f"{self.old}:{self.new}"


def possible_renames(changes: Sequence[Change]) -> list[PossibleRename]:
    """Each drop+add that looks like a rename; the one rule ``check`` and revisions share.

    A table losing exactly one column while gaining exactly one of the same
    type, or a table dropped while one with the same column names appears.
    """
    found: list[PossibleRename] = []
    tables = {c.table for c in changes if c.code in ("column.added", "column.removed")}
    for table in sorted(t for t in tables if t):
        gone = [c for c in changes if c.code == "column.removed" and c.table == table]
        new = [c for c in changes if c.code == "column.added" and c.table == table]
        if len(gone) == 1 and len(new) == 1 and gone[0].old.type.sql == new[0].new.type.sql:
            found.append(PossibleRename(table, gone[0].name or "", new[0].name or "", True))
    dropped = [c for c in changes if c.code == "table.removed"]
    created = [c for c in changes if c.code == "table.added"]
    for drop in dropped:
        names = [col.name for col in drop.old.columns]
        twins = [c for c in created if [col.name for col in c.new.columns] == names]
        if len(twins) == 1:
            found.append(PossibleRename(twins[0].table or "", drop.table or "",
                                        twins[0].table or "", False))  # fmt: skip
    return found
