"""What a SQLite rebuild carries over besides the table: its AUTOINCREMENT
counter, and the views and triggers that use it.

``DROP TABLE`` takes the table's triggers and its ``sqlite_sequence`` row with
it, and ``ALTER TABLE ... RENAME`` re-reads every view and trigger of the
database, failing ("error in view v: no such table") on any that reads the
table while it is gone.  So a rebuild:

- copies the old table's ``sqlite_sequence`` value to the new table before
  the old one is dropped (the INSERT of the rows alone would set it to the
  highest id left, and ids deleted from the top would be handed out again);
- drops each view and trigger that uses the table (and whatever uses those)
  before the ``DROP TABLE``, and creates them again from the text SQLite kept
  once the new table has the name — all inside the same transaction;
- refuses, before running anything, when one of them names a column the
  change removes or renames: SQLite would create it again without a word and
  fail only when it is used.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect

from distill.ddl.common import quote, table_sql
from distill.ddl.sqlite import views_and_triggers
from distill.errors import OperationError
from distill.schema.sqlite_ddl import names_used, tokenize

log = logging.getLogger("distill.rebuild")


@dataclass(frozen=True)
class Dependent:
    kind: str  # "view" | "trigger"
    name: str
    on: str  # what a trigger is on; a view's own name
    sql: str  # the CREATE statement SQLite kept

    @property
    def what(self) -> str:
        return f"{self.kind} {self.name!r}"


def dependents_of(conn: Connection, table: str, schema: str | None) -> list[Dependent]:
    """Views and triggers that use ``table``, directly or through a view, oldest first."""
    objects = [Dependent(*row) for row in views_and_triggers(conn, schema)]
    used = {table.lower()}
    found: list[Dependent] = []
    grew = True
    while grew:
        grew = False
        for obj in objects:
            if obj not in found and (obj.on.lower() in used or names_used(obj.sql) & used):
                found.append(obj)
                grew = True
                if obj.kind == "view":
                    used.add(obj.name.lower())
    return sorted(found, key=objects.index)


def refuse_broken(
    dependents: Sequence[Dependent], table: str, vanished: Mapping[str, str | None]
) -> None:
    """Refuse when a view or trigger of ``table`` names a column that goes away.

    ``vanished`` maps each old column the new table lacks to its new name
    (None when it is removed).
    """
    for obj in dependents:
        mentioned = names_used(obj.sql)
        if obj.on.lower() != table.lower() and table.lower() not in mentioned:
            continue  # uses the table only through a view, checked when created again
        for column, new_name in vanished.items():
            if column.lower() in mentioned:
                change = f"renames to {new_name!r}" if new_name else "removes"
                then = f"using {new_name!r}" if new_name else f"without column {column!r}"
                raise OperationError(
                    f"{obj.what} uses column {column!r} of table {table!r}, which this change "
                    f"{change}, so the rebuild SQLite needs cannot create the {obj.kind} again; "
                    f"drop it first with op.execute('DROP {obj.kind.upper()} {obj.name}') and "
                    f"create it again after the change, {then}"
                )


def drop_statements(
    dependents: Sequence[Dependent], dialect: Dialect, schema: str | None
) -> list[str]:
    # Triggers first: dropping a view drops the triggers on it.
    ordered = sorted(dependents, key=lambda d: d.kind != "trigger")
    return [
        f"DROP {d.kind.upper()} IF EXISTS {table_sql(dialect, d.name, schema)}" for d in ordered
    ]


def create_statements(
    dependents: Sequence[Dependent], dialect: Dialect, schema: str | None
) -> list[str]:
    # Views first: a trigger may be on a view (INSTEAD OF).
    ordered = sorted(dependents, key=lambda d: d.kind != "view")
    return [_in_schema(d, dialect, schema) for d in ordered]


def _in_schema(obj: Dependent, dialect: Dialect, schema: str | None) -> str:
    """The kept CREATE text, made to create the object in attached database ``schema``."""
    if schema is None:
        return obj.sql
    # SQLite keeps the text without the database name; it goes before the object's name.
    tokens = tokenize(obj.sql)
    at = next((i for i, t in enumerate(tokens) if t.is_word("VIEW", "TRIGGER")), len(tokens))
    for token in tokens[at + 1 :]:
        if token.kind in ("word", "ident") and token.text.lower() == obj.name.lower():
            start = token.start
            return f"{obj.sql[:start]}{quote(dialect, schema)}.{obj.sql[start:]}"
    return obj.sql


def check_views_work(
    conn: Connection, dependents: Sequence[Dependent], table: str, schema: str | None
) -> None:
    """Each view created again must compile; SQLite would only say so when it is used."""
    for view in (d for d in dependents if d.kind == "view"):
        try:
            conn.exec_driver_sql(
                f"SELECT * FROM {table_sql(conn.dialect, view.name, schema)} LIMIT 0"
            )
        except exc.DBAPIError as error:
            reason = str(error.orig).splitlines()[0] if error.orig else "it does not compile"
            raise OperationError(
                f"{view.what} no longer works once table {table!r} is rebuilt ({reason}); drop "
                f"it first with op.execute('DROP VIEW {view.name}') and create it again after, "
                "for the new columns"
            ) from None


def log_kept(dependents: Sequence[Dependent], table: str) -> None:
    if dependents:
        kept = ", ".join(d.what for d in dependents)
        log.info("rebuilding table %r: dropped and created again %s", table, kept)


def sequence_statements(
    dialect: Dialect, schema: str | None, table: str, tmp_name: str
) -> list[tuple[sa.TextClause, dict[str, str]]]:
    """Give the new table ``tmp_name`` the old table's AUTOINCREMENT counter, if higher."""
    seq = table_sql(dialect, "sqlite_sequence", schema)
    names = {"old": table, "new": tmp_name}
    return [
        (
            sa.text(
                f"UPDATE {seq} SET seq = max(seq, coalesce("
                f"(SELECT seq FROM {seq} WHERE name = :old), 0)) WHERE name = :new"
            ),
            names,
        ),
        (  # no rows were copied, so the new table has no counter yet
            sa.text(
                f"INSERT INTO {seq} (name, seq) SELECT :new, seq FROM {seq} WHERE name = :old "
                f"AND NOT EXISTS (SELECT 1 FROM {seq} WHERE name = :new)"
            ),
            names,
        ),
    ]
