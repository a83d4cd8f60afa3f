"""Where a drift item goes: the file and line that declares what drifted.

The worker says which class maps which table and in which file (``origins``);
``locate`` finds, in that file's current text, the column statement, the
argument (``index=True``, the type, ``nullable=``...) or the ``Index(...)`` in
``__table_args__``.  Core ``Table(...)`` calls have no origin: every file the
models import is searched for them.  What cannot be placed more precisely goes
on the table's line, and failing that on the Base/MetaData definition, so no
item is ever lost.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from distill.lsp.drift import Drift
from distill.lsp.locate import ModelIndex, TableSite, index_source
from distill.lsp.positions import Span, lines, utf16_length
from distill.sandbox.client import ModelsResult


@dataclass(frozen=True)
class Placed:
    span: Span
    drift: Drift


def place(
    items: Iterable[Drift],
    models: ModelsResult,
    buffers: Mapping[str, str],
    home: str | None,
    read: Callable[[str], str],
) -> dict[str, list[Placed]]:
    """Drift items by file, each on one line; every file the models load gets an entry.

    ``home``: the models module's file, where an item goes when no Base/MetaData
    line can be found (the models do not parse just now); ``read`` reads a file
    that is not open in the editor.
    """
    files = _Files(models, buffers, home, read)
    placed: dict[str, list[Placed]] = {path: [] for path in models.files}
    for item in items:
        where = files.locate(item)
        if where is not None:
            placed.setdefault(where[0], []).append(Placed(where[1], item))
    return placed


class _Files:
    def __init__(
        self,
        models: ModelsResult,
        buffers: Mapping[str, str],
        home: str | None,
        read: Callable[[str], str],
    ) -> None:
        self.buffers = buffers
        self.read = read
        self.home = home
        self.paths = list(models.files)
        self.origins = {(o.schema, o.table): o for o in models.origins}
        self._texts: dict[str, str] = {}

    def text(self, path: str) -> str:
        if path not in self._texts:
            # An emptied buffer is still the buffer: "" must not fall back to the file.
            buffer = self.buffers.get(path)
            self._texts[path] = buffer if buffer is not None else self.read(path)
        return self._texts[path]

    def index(self, path: str) -> ModelIndex:
        return _index(self.text(path))

    def locate(self, item: Drift) -> tuple[str, Span] | None:
        if item.target != "metadata" and item.table is not None:
            found = self._table(item.table, item.schema)
            if found is not None:
                path, site = found
                return path, self._line(path, _within(site, item))
        return self._metadata()

    def _table(self, table: str, schema: str | None) -> tuple[str, TableSite] | None:
        origin = self.origins.get((schema, table))
        if origin is not None and origin.file is not None:
            site = self.index(origin.file).table(table, origin.class_name)
            if site is not None:
                return origin.file, site
        for path in self.paths:  # Core tables, or a class the index could not name
            site = self.index(path).table(table)
            if site is not None:
                return path, site
        return None

    def _metadata(self) -> tuple[str, Span] | None:
        for path in self.paths:
            sites = self.index(path).metadata_sites
            if sites:
                return path, self._line(path, sites[0])
        fallback = self.home or (self.paths[0] if self.paths else None)
        return (fallback, Span(0, 0, 0, 0)) if fallback else None

    def _line(self, path: str, span: Span) -> Span:
        """The span cut to its first line: a squiggle under one line, not a whole class."""
        if span.end_line == span.line:
            return span
        text = lines(self.text(path))
        end = utf16_length(text[span.line]) if span.line < len(text) else span.character
        return Span(span.line, span.character, span.line, end)


def _within(site: TableSite, item: Drift) -> Span:
    """The most precise span for ``item`` inside a table's declaration."""
    if item.item is not None:
        named = next((i for i in site.items if i.name == item.item), None)
        if named is not None:
            return named.span
    if item.column is None or item.target == "table":
        return site.span
    column = next((c for c in site.columns if c.name == item.column), None)
    if column is None:
        return site.span  # e.g. a column from a mixin: the class line
    return column.arguments.get(item.target, column.span)


# Indexes by text: the same file is indexed once per version of its text, and a
# large models file is the most expensive part of placement.
_INDEXES: dict[str, ModelIndex] = {}
_INDEXES_KEPT = 64


def declared_on(text: str, line: int) -> tuple[str, str | None] | None:
    """(table, column or None) whose class, ``Table(`` or column declaration is on ``line``."""
    for site in _index(text).tables:
        if site.table is None:
            continue
        for column in site.columns:
            if column.span.line <= line <= column.span.end_line:
                return site.table, column.name
        if site.span.line == line:
            return site.table, None
    return None


def _index(text: str) -> ModelIndex:
    key = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    found = _INDEXES.get(key)
    if found is None:
        if len(_INDEXES) >= _INDEXES_KEPT:
            _INDEXES.pop(next(iter(_INDEXES)))
        found = _INDEXES[key] = index_source(text)
    return found
