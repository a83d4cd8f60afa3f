"""Where a models file declares its tables, columns, indexes and constraints.

Drift diagnostics go on the line that declares what drifted.  User code runs
only in the worker's child process, so this index is read from syntax trees
alone: nothing is imported or run.  A text that does not parse (a buffer
mid-edit) gives an empty index that says where the syntax error is.

Recognised at module level, and inside module-level ``if``/``try``/``with``:

- classes whose body declares ``__tablename__``, ``__table__``,
  ``__table_args__`` or a column: ``Column(...)``/``mapped_column(...)`` under
  any prefix (``sa.``, ``db.``), also inside ``deferred()``/``column_property()``,
  or a bare ``x: Mapped[...]``.  Mixins and abstract classes count, with no
  table name: which class maps which table is the worker's knowledge;
- ``Table("name", metadata, Column(...), Index(...), ...)`` calls, assigned or not;
- where the metadata lives: ``MetaData()``, ``declarative_base()``,
  ``registry()``, ``.generate_base()`` and ``SQLAlchemy()`` assignments, and
  classes based on ``DeclarativeBase``/``DeclarativeBaseNoMeta`` or decorated
  with ``as_declarative``/``as_declarative_base``.

Spans are LSP ranges: 0-based lines, UTF-16 columns, end exclusive.
"""

from __future__ import annotations

import ast
import gc
import itertools
import re
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeAlias, TypeGuard

from distill.lsp.positions import LINE_BREAK, Span, utf16_column

__all__ = [
    "ColumnSite",
    "ItemSite",
    "ModelIndex",
    "Span",
    "TableSite",
    "index_source",
    "utf16_column",
]


@dataclass(frozen=True, slots=True)
class ColumnSite:
    name: str  # the database column name
    attribute: str | None  # the ORM attribute; None for a Core Column("x", ...)
    span: Span  # the whole statement (ORM) or the Column(...) call (Core)
    # Each keyword argument by its name ("index", "nullable"...; ``type_`` as
    # "type"); positional ones as "name" (the name string), "type",
    # "foreign_key", "sequence", "identity" or "computed"; and "annotation",
    # the ``Mapped[...]`` that gives type and nullability when no argument does.
    arguments: dict[str, Span]


@dataclass(frozen=True, slots=True)
class ItemSite:
    kind: str  # "index" | "unique" | "check" | "fk" | "pk"
    name: str | None
    columns: tuple[str, ...]  # the column names written as strings
    span: Span  # the whole call


@dataclass(frozen=True, slots=True)
class TableSite:
    table: str | None  # None when the name is not a literal, or for a mixin
    class_name: str | None  # None for a Core Table(...)
    span: Span  # ``class Name``, or ``users = Table("users"``
    columns: tuple[ColumnSite, ...]
    items: tuple[ItemSite, ...]


@dataclass(frozen=True)
class ModelIndex:
    tables: tuple[TableSite, ...]
    metadata_sites: tuple[Span, ...]
    syntax_error: Span | None
    _by_table: dict[str, TableSite] = field(init=False, repr=False, compare=False)
    _by_class: dict[str, TableSite] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_table: dict[str, TableSite] = {}
        by_class: dict[str, TableSite] = {}
        for site in self.tables:  # the first declaration of a name wins
            if site.table is not None:
                by_table.setdefault(site.table, site)
            if site.class_name is not None:
                by_class.setdefault(site.class_name, site)
        object.__setattr__(self, "_by_table", by_table)
        object.__setattr__(self, "_by_class", by_class)

    def table(self, name: str, class_name: str | None = None) -> TableSite | None:
        """Table ``name``'s declaration.  ``class_name`` finds a class whose
        table name is no literal (``declared_attr``, Flask-SQLAlchemy's
        automatic names) and tells apart two classes declaring one name."""
        by_class = None if class_name is None else self._by_class.get(class_name)
        if by_class is not None and by_class.table in (name, None):
            return by_class
        # A class now declaring another name means the text changed since the
        # worker looked: still the best place to point at.
        return self._by_table.get(name, by_class)

    def column(
        self,
        table: str,
        column: str,
        attribute: str | None = None,
        *,
        class_name: str | None = None,
    ) -> ColumnSite | None:
        site = self.table(table, class_name)
        if site is None:
            return None
        found = [c for c in site.columns if c.name == column]
        if attribute is not None:
            # The attribute tells apart two declarations of one name, and finds
            # a column whose name is no literal.
            by_attribute = [c for c in site.columns if c.attribute == attribute]
            found = [c for c in found if c.attribute == attribute] or found or by_attribute
        return found[0] if found else None


def index_source(source: str) -> ModelIndex:
    """The declarations in one Python source text (an editor buffer or a file)."""
    # Editors do not count a byte order mark as text; ast.parse refuses it.
    with _gc_paused():
        pieces = _indexed_pieces(source.removeprefix("\ufeff"))
    if isinstance(pieces, Span):
        return ModelIndex((), (), pieces)
    return ModelIndex(
        tuple(site for piece in pieces for site in piece.tables),
        tuple(span for piece in pieces for span in piece.metadata_sites),
        None,
    )


# A models file is re-indexed on every edit, and parsing a large one takes
# longer than a keystroke should.  So the text is cut into pieces before
# top-level statements and each piece's declarations are remembered by its
# text: an edit re-parses only the piece it touches.  The cut is a guess from
# the text; a piece that does not parse alone sends the rest of the text to one
# parse, so a wrong guess costs time, never correctness.  A piece that parses
# alone ends where a statement ends, as the next one starts at column 0 with no
# ``else``/``elif``/``except``/``finally``.
_PIECE_START = re.compile(r'\n(?=[A-Za-z_@])(?!(?:else|elif|except|finally)\b)|"""|\'\'\'')
_PIECES: dict[str, _Piece] = {}  # most recently used last
_PIECES_KEPT = 5_000  # a model class's piece holds about 6 KB


@dataclass(frozen=True, slots=True)
class _Piece:
    first_line: int  # the line its spans start at
    tables: tuple[TableSite, ...]
    metadata_sites: tuple[Span, ...]


def _indexed_pieces(source: str) -> list[_Piece] | Span:
    """Each piece's declarations, or the span of the source's syntax error."""
    texts = _pieces(source)
    indexed: list[_Piece] = []
    first_line = 0
    for number, text in enumerate(texts):
        piece = _remembered_piece(text, first_line)
        if piece is None:
            rest = _index_piece("".join(texts[number:]), first_line)
            return rest if isinstance(rest, Span) else [*indexed, rest]
        indexed.append(piece)
        first_line += _line_breaks(text)
    return indexed


def _pieces(source: str) -> list[str]:
    """``source`` cut before each line that looks like a top-level statement:
    one not in a triple-quoted string, nor right after a decorator."""
    starts = [0]
    quote: str | None = None
    for match in _PIECE_START.finditer(source):
        found = match.group()
        if found == "\n":
            if quote is None and source[source.rfind("\n", 0, match.start()) + 1] != "@":
                starts.append(match.end())
        elif quote is None:
            quote = found
        elif quote == found:
            quote = None
    starts.append(len(source))
    return [source[start:end] for start, end in itertools.pairwise(starts) if end > start]


def _remembered_piece(text: str, first_line: int) -> _Piece | None:
    """The declarations of a piece starting at ``first_line``; None when it
    does not parse alone."""
    piece = _PIECES.pop(text, None)
    if piece is None:
        indexed = _index_piece(text, first_line)
        if isinstance(indexed, Span):
            return None
        piece = indexed
    elif piece.first_line != first_line:
        piece = _moved(piece, first_line)
    if len(_PIECES) >= _PIECES_KEPT:
        _PIECES.pop(next(iter(_PIECES)), None)
    _PIECES[text] = piece
    return piece


def _index_piece(text: str, first_line: int) -> _Piece | Span:
    """The declarations in ``text``, which starts at line ``first_line``; the
    span of its syntax error when it does not parse."""
    positions = _Positions(text, first_line)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as error:  # ValueError: a NUL byte, before 3.11.4
        return positions.syntax_error(error if isinstance(error, SyntaxError) else None)
    indexer = _Indexer(positions)
    indexer.statements(tree.body)
    return _Piece(first_line, tuple(indexer.tables), tuple(indexer.metadata_sites))


def _moved(piece: _Piece, first_line: int) -> _Piece:
    lines = first_line - piece.first_line

    def move(span: Span) -> Span:
        return Span(span.line + lines, span.character, span.end_line + lines, span.end_character)

    def column(c: ColumnSite) -> ColumnSite:
        arguments = {key: move(span) for key, span in c.arguments.items()}
        return ColumnSite(c.name, c.attribute, move(c.span), arguments)

    tables = tuple(
        TableSite(
            site.table,
            site.class_name,
            move(site.span),
            tuple(column(c) for c in site.columns),
            tuple(ItemSite(i.kind, i.name, i.columns, move(i.span)) for i in site.items),
        )
        for site in piece.tables
    )
    return _Piece(first_line, tables, tuple(move(span) for span in piece.metadata_sites))


def _line_breaks(text: str) -> int:
    """How many lines ``text`` ends, counted as ast counts them."""
    if "\r" not in text:
        return text.count("\n")
    return text.count("\n") + text.count("\r") - text.count("\r\n")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """ast.parse allocates hundreds of thousands of nodes, none in a cycle, and
    each burst of them makes the cycle collector walk the whole heap: in a
    language server's heap that costs more than the parse itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_Node: TypeAlias = ast.stmt | ast.expr | ast.keyword


class _Positions:
    """ast's positions in a piece (1-based lines, UTF-8 byte columns) as spans
    in the whole source."""

    def __init__(self, text: str, first_line: int) -> None:
        self._ascii = text.isascii()
        self._lines = LINE_BREAK.split(text)
        self._line_shift = first_line - 1

    def span(self, first: _Node, last: _Node | None = None) -> Span:
        """From the start of ``first`` to the end of ``last`` (default: ``first``)."""
        last = first if last is None else last
        # Every node read here has an end; the fallbacks are for the type checker.
        end_line = last.end_lineno if last.end_lineno is not None else last.lineno
        end = last.end_col_offset if last.end_col_offset is not None else last.col_offset
        start = first.col_offset
        if not self._ascii:
            start, end = self._column(first.lineno, start), self._column(end_line, end)
        return Span(first.lineno + self._line_shift, start, end_line + self._line_shift, end)

    def class_header(self, node: ast.ClassDef) -> Span:
        """``class Name``: a diagnostic about a whole class goes under its name."""
        text = self._lines[node.lineno - 1]
        start = self._str_index(text, node.col_offset)
        name_at = text.find(node.name, start + len("class"))
        end = name_at + len(node.name) if name_at >= 0 else start + len("class")
        line = node.lineno + self._line_shift
        return Span(line, utf16_column(text, start), line, utf16_column(text, end))

    def syntax_error(self, error: SyntaxError | None) -> Span:
        """From the error to the end of its line (Python's end for it is often
        missing, or before its start)."""
        if error is None or not error.lineno or error.lineno > len(self._lines):
            return Span(self._line_shift + 1, 0, self._line_shift + 1, 0)
        text = self._lines[error.lineno - 1]
        start = min(max((error.offset or 1) - 1, 0), len(text))  # offset: 1-based, in str
        line = error.lineno + self._line_shift
        return Span(line, utf16_column(text, start), line, utf16_column(text, len(text)))

    def _column(self, lineno: int, byte_offset: int) -> int:
        text = self._lines[lineno - 1]
        return utf16_column(text, self._str_index(text, byte_offset))

    def _str_index(self, text: str, byte_offset: int) -> int:
        if text.isascii():
            return byte_offset
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8"))


# Callee names, compared on the last dotted part so that ``sa.Column``,
# ``db.Column`` and ``orm.mapped_column`` all count.
_TABLE = frozenset({"Table"})
_COLUMNS = frozenset({"Column", "mapped_column"})
_COLUMN_WRAPPERS = frozenset({"deferred", "column_property"})  # when given a Column(...)
_COLUMN_ITEMS = {  # positional Column arguments that are not its type
    "ForeignKey": "foreign_key",
    "Sequence": "sequence",
    "Identity": "identity",
    "Computed": "computed",
}
_ITEMS = {
    "Index": "index",
    "UniqueConstraint": "unique",
    "CheckConstraint": "check",
    "ForeignKeyConstraint": "fk",
    "PrimaryKeyConstraint": "pk",
}
_METADATA_CALLS = frozenset(
    {"MetaData", "declarative_base", "registry", "generate_base", "SQLAlchemy"}
)
_DECLARATIVE_BASES = frozenset({"DeclarativeBase", "DeclarativeBaseNoMeta"})
_DECLARATIVE_DECORATORS = frozenset({"as_declarative", "as_declarative_base"})


class _Indexer:
    def __init__(self, positions: _Positions) -> None:
        self.positions = positions
        self.tables: list[TableSite] = []
        self.metadata_sites: list[Span] = []

    def statements(self, body: Sequence[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.ClassDef):
                self.class_def(stmt)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.Expr)):
                self.declaration(stmt)
            elif isinstance(stmt, ast.With):
                self.statements(stmt.body)
            elif isinstance(stmt, ast.If):
                self.statements(stmt.body)
                self.statements(stmt.orelse)
            elif isinstance(stmt, ast.Try):
                for block in (stmt.body, *(h.body for h in stmt.handlers), stmt.orelse):
                    self.statements(block)
                self.statements(stmt.finalbody)

    def declaration(self, stmt: ast.Assign | ast.AnnAssign | ast.Expr) -> None:
        call = stmt.value
        if not isinstance(call, ast.Call):
            return
        name = _name(call.func)
        if name == "Table":
            table, columns, items = self.table_call(call)
            self.tables.append(TableSite(table, None, self._header(stmt, call), columns, items))
        elif name in _METADATA_CALLS and not isinstance(stmt, ast.Expr):
            self.metadata_sites.append(self._header(stmt, call))

    def _header(self, stmt: ast.stmt, call: ast.Call) -> Span:
        """Through the callee and its first argument: ``users = Table("users"``,
        ``metadata = MetaData``."""
        return self.positions.span(stmt, call.args[0] if call.args else call.func)

    def class_def(self, node: ast.ClassDef) -> None:
        header = self.positions.class_header(node)
        if any(_name(base) in _DECLARATIVE_BASES for base in node.bases) or any(
            _call_to(decorator, _DECLARATIVE_DECORATORS) for decorator in node.decorator_list
        ):
            self.metadata_sites.append(header)
        table: str | None = None
        columns: list[ColumnSite] = []
        items: tuple[ItemSite, ...] = ()
        declares_table = False
        for stmt in node.body:
            assignment = _assignment(stmt)
            if assignment is None:
                continue
            target, annotation, value = assignment
            if target == "__tablename__":
                table, declares_table = _string(value), True
            elif target == "__table_args__":
                items, declares_table = self.table_args(value), True
            elif target == "__table__" and (core := _call_to(value, _TABLE)) is not None:
                table, core_columns, items = self.table_call(core)
                columns.extend(core_columns)
                declares_table = True
            elif (column := self.orm_column(stmt, target, annotation, value)) is not None:
                columns.append(column)
        if declares_table or columns:
            self.tables.append(TableSite(table, node.name, header, tuple(columns), items))

    def table_call(
        self, call: ast.Call
    ) -> tuple[str | None, tuple[ColumnSite, ...], tuple[ItemSite, ...]]:
        """Table("name", metadata, *columns_and_items): name, columns, items."""
        columns: list[ColumnSite] = []
        items: list[ItemSite] = []
        for arg in call.args[1:]:
            if (column_call := _call_to(arg, _COLUMNS)) is not None:
                column = self.column_call(column_call, None, column_call, None)
                if column is not None:
                    columns.append(column)
            elif (item_call := _call_to(arg, _ITEMS)) is not None:
                items.append(self.item(item_call))
        table = _string(call.args[0]) if call.args else None
        return table, tuple(columns), tuple(items)

    def table_args(self, value: ast.expr | None) -> tuple[ItemSite, ...]:
        """``__table_args__``: a tuple or list of items, maybe ending in a dict
        of options; a dict alone holds no items."""
        if not isinstance(value, (ast.Tuple, ast.List)):
            return ()
        calls = (_call_to(element, _ITEMS) for element in value.elts)
        return tuple(self.item(call) for call in calls if call is not None)

    def item(self, call: ast.Call) -> ItemSite:
        kind = _ITEMS[_name(call.func) or ""]
        args = call.args
        name = _keyword_string(call, "name")
        if kind == "index":  # Index(name, *expressions)
            name = _string(args[0]) if args else name
            args = args[1:]
        elif kind == "fk":  # ForeignKeyConstraint(columns, refcolumns)
            args = args[0].elts if args and isinstance(args[0], (ast.List, ast.Tuple)) else []
        elif kind == "check":  # CheckConstraint(sqltext): no column names
            args = []
        columns = tuple(text for arg in args if (text := _string(arg)) is not None)
        return ItemSite(kind, name, columns, self.positions.span(call))

    def orm_column(
        self, stmt: ast.stmt, attribute: str, annotation: ast.expr | None, value: ast.expr | None
    ) -> ColumnSite | None:
        wrapper = _call_to(value, _COLUMN_WRAPPERS)  # deferred(Column(...))
        call = _call_to(wrapper.args[0] if wrapper and wrapper.args else value, _COLUMNS)
        if call is not None:
            return self.column_call(call, attribute, stmt, annotation)
        if value is None and _is_mapped(annotation):  # ``nickname: Mapped[str | None]``
            arguments = {"annotation": self.positions.span(annotation)}
            return ColumnSite(attribute, attribute, self.positions.span(stmt), arguments)
        return None

    def column_call(
        self, call: ast.Call, attribute: str | None, whole: _Node, annotation: ast.expr | None
    ) -> ColumnSite | None:
        """A Column(...)/mapped_column(...) call, ``whole`` being its statement
        (ORM) or itself (Core); None for a Core column with no literal name."""
        span = self.positions.span
        arguments: dict[str, Span] = {}
        name: str | None = None
        for position, arg in enumerate(call.args):
            text = _string(arg) if position == 0 else None
            if text is not None:
                name = text
                arguments["name"] = span(arg)
            else:  # the first argument that is no schema item is the type
                callee = _name(arg.func) if isinstance(arg, ast.Call) else None
                key = _COLUMN_ITEMS.get(callee or "", "type")
                arguments.setdefault(key, span(arg))
        for keyword in call.keywords:
            if keyword.arg is not None:
                arguments["type" if keyword.arg == "type_" else keyword.arg] = span(keyword)
        if annotation is not None:
            arguments["annotation"] = span(annotation)
        name = name or _keyword_string(call, "name") or attribute
        return None if name is None else ColumnSite(name, attribute, span(whole), arguments)


def _assignment(stmt: ast.stmt) -> tuple[str, ast.expr | None, ast.expr | None] | None:
    """(name, annotation, value) of ``name = value`` or ``name: annotation [= value]``."""
    if isinstance(stmt, ast.Assign):
        if len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            return stmt.targets[0].id, None, stmt.value
    elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.annotation, stmt.value
    return None


def _is_mapped(annotation: ast.expr | None) -> TypeGuard[ast.expr]:
    return isinstance(annotation, ast.Subscript) and _name(annotation.value) == "Mapped"


def _name(node: ast.expr) -> str | None:
    """The last part of a dotted name: ``sa.orm.Column`` -> "Column"."""
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _call_to(node: ast.expr | None, names: Collection[str]) -> ast.Call | None:
    """``node`` if it is a call to one of ``names``."""
    return node if isinstance(node, ast.Call) and _name(node.func) in names else None


def _string(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _keyword_string(call: ast.Call, keyword: str) -> str | None:
    return next((_string(k.value) for k in call.keywords if k.arg == keyword), None)
