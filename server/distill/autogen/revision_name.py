"""A revision's message made from its changes, as Django names migrations.

``add customers.phone``; ``create products; add customers.phone; index
customers.name``; for many changes the first ones and a count: ``create
products, orders and 6 more changes``.  Used when ``revision --autogenerate``
is given no ``-m`` and by the editor's quick fix; the file name follows the
message as it always does.
"""

from __future__ import annotations

from collections.abc import Sequence

from distill.autogen.compare import Change

# Past this many phrases, or this many characters, the name gives a count instead.
_PHRASES = 3
_LENGTH = 72
_OBJECTS_SHOWN = 2  # objects of the first phrase kept when counting the rest

_TABLE_VERBS = {"added": "create", "removed": "drop"}
_COLUMN_VERBS = {"added": "add", "removed": "remove"}
_CONSTRAINT_WORDS = {"index": "index", "unique": "unique", "fk": "foreign key",
                     "check": "check", "pk": "primary key"}  # fmt: skip


def revision_name(changes: Sequence[Change]) -> str:
    """The message for a revision holding ``changes``; "empty" for none."""
    phrases: dict[str, list[str]] = {}  # verb -> its objects, in the order first met
    for change in changes:
        verb, thing = _phrase(change)
        if thing not in phrases.setdefault(verb, []):
            phrases[verb].append(thing)
    if not phrases:
        return "empty"
    joined = "; ".join(f"{verb} {', '.join(things)}" for verb, things in phrases.items())
    if len(phrases) <= _PHRASES and len(joined) <= _LENGTH:
        return joined
    verb, things = next(iter(phrases.items()))
    shown = things[:_OBJECTS_SHOWN]
    rest = sum(len(t) for t in phrases.values()) - len(shown)
    return f"{verb} {', '.join(shown)} and {rest} more change{'s' if rest != 1 else ''}"


def _phrase(change: Change) -> tuple[str, str]:
    """(verb, object) of one change: ("add", "customers.phone")."""
    kind, _, what = change.code.partition(".")
    table = f"{change.schema}.{change.table}" if change.schema else str(change.table)
    if kind == "table":
        if what == "renamed":
            return "rename", f"{change.old.name} to {change.new.name}"
        return _TABLE_VERBS.get(what, "alter"), table
    if kind == "column":
        if what == "renamed":
            return "rename", f"{table}.{change.old.name} to {change.new.name}"
        return _COLUMN_VERBS.get(what, "alter"), f"{table}.{change.name}"
    if kind == "enum":
        verb = {"added": "create", "removed": "drop"}.get(what, "alter")
        return f"{verb} enum", str(change.name)
    word = _CONSTRAINT_WORDS.get(kind, kind)
    columns = getattr(change.new if change.new is not None else change.old, "columns", None)
    on = f"{table}.{'+'.join(columns)}" if columns else table
    return (word if what == "added" else f"drop {word}"), on
