"""Which revision created each table and column, and which last changed it ("schema blame").

Read from the revisions' ``upgrade()`` source along the upgrade path to the
heads (``static_ops``: nothing is imported), for the hover card on a model.
Each file's calls are parsed once per text; a hover folds them in path order.
What a script does through ``op.execute()`` or with names it computes is not
seen: the card then names the revision of the last change it could read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from distill.lsp.static_ops import OpCall, column_names, op_calls

# Calls that change a table as a whole (its constraints, indexes, comment).
_TABLE_CHANGES = frozenset({
    "create_index", "drop_index", "create_unique_constraint", "create_foreign_key",
    "create_check_constraint", "create_primary_key", "drop_constraint",
    "create_table_comment", "drop_table_comment",
})  # fmt: skip
# Where the table is in the arguments of those calls: (op.*, batch_op.*)
_TABLE_ARGUMENT = {"create_table_comment": 0, "drop_table_comment": 0, "drop_constraint": 1}


@dataclass(frozen=True)
class Blame:
    created: str | None  # revision id; None: not seen created (outside op.* calls)
    changed: str  # the last revision seen touching it


Key = tuple[str, str | None]  # (table, column or None for the table)


class SchemaBlame:
    """Blame along an upgrade path, with each revision file's calls kept per text."""

    def __init__(self) -> None:
        self._calls: dict[str, tuple[str, list[OpCall]]] = {}  # path -> (text, its calls)
        # The last answer, by the path and its texts' identities (the texts kept with it,
        # so no identity is reused while it is): hovers between edits only look it up.
        self._last: tuple[tuple[tuple[str, str, int], ...], list[str], dict[Key, Blame]] | None
        self._last = None

    def of(self, path: Sequence[tuple[str, str]], texts: Mapping[str, str]) -> dict[Key, Blame]:
        """``path``: (revision id, file) in upgrade order; ``texts``: each file's text."""
        used = [texts.get(file, "") for _, file in path]
        key = tuple((rev, file, id(text)) for (rev, file), text in zip(path, used, strict=True))
        if self._last is not None and self._last[0] == key:
            return self._last[2]
        found: dict[Key, Blame] = {}
        for (revision, file), text in zip(path, used, strict=True):
            for call in self._calls_of(file, text):
                _apply(found, call, revision)
        self._last = (key, used, found)
        return found

    def _calls_of(self, file: str, text: str) -> list[OpCall]:
        kept = self._calls.get(file)
        if kept is None or (kept[0] is not text and kept[0] != text):
            kept = self._calls[file] = (text, op_calls(text, "upgrade"))
        return kept[1]


def _apply(found: dict[Key, Blame], call: OpCall, revision: str) -> None:
    method = call.method
    table = call.table if call.in_batch else call.text(0)
    rest = 0 if call.in_batch else 1  # where the column argument is
    if method == "create_table" and table:
        _created(found, (table, None), revision)
        for column in column_names(call):
            _created(found, (table, column), revision)
    elif method == "drop_table" and table:
        for key in [k for k in found if k[0] == table]:
            del found[key]
    elif method == "rename_table" and table and call.text(1):
        for key in [k for k in found if k[0] == table]:
            found[(call.text(1) or "", key[1])] = _changed(found.pop(key), revision)
    elif method == "add_column" and table:
        for column in column_names(call):
            _created(found, (table, column), revision)
        _touch(found, (table, None), revision)
    elif method == "drop_column" and table and call.text(rest):
        found.pop((table, call.text(rest)), None)
        _touch(found, (table, None), revision)
    elif method == "alter_column" and table and call.text(rest):
        _alter(found, call, table, call.text(rest) or "", revision)
    elif method in _TABLE_CHANGES:
        index = 0 if call.in_batch else _TABLE_ARGUMENT.get(method, 1)
        named = table if call.in_batch else call.text(index)
        if named:
            _touch(found, (named, None), revision)


def _alter(found: dict[Key, Blame], call: OpCall, table: str, column: str, revision: str) -> None:
    renamed = call.keyword("new_column_name")
    key: Key = (table, column)
    blame = _changed(found.pop(key, Blame(None, revision)), revision)
    new_name = getattr(renamed, "value", None)
    found[(table, new_name) if isinstance(new_name, str) else key] = blame
    _touch(found, (table, None), revision)


def _created(found: dict[Key, Blame], key: Key, revision: str) -> None:
    found[key] = Blame(revision, revision)


def _touch(found: dict[Key, Blame], key: Key, revision: str) -> None:
    found[key] = _changed(found.get(key, Blame(None, revision)), revision)


def _changed(blame: Blame, revision: str) -> Blame:
    return Blame(blame.created, revision)
