"""What SQLite's PRAGMAs do not say, read from the CREATE statements it keeps.

``sqlite_master.sql`` holds each CREATE TABLE / CREATE INDEX exactly as it was
run.  The PRAGMAs give columns, indexes and foreign keys but not the names of
constraints, the text of CHECK conditions, generated-column expressions, the
DEFERRABLE clause, or an index's expressions and WHERE; this module finds those.

It is a tokenizer that understands SQLite's quoting ('str', "id", `id`, [id]),
comments and nested parentheses, and a walk over the constraint clauses of
each column definition and table constraint.  Everything it returns as SQL is
sliced from the original text, so conditions keep their spelling.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# -- tokens -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "string", "ident" (quoted identifier), "punct", "other"
    text: str  # for "ident": unquoted; otherwise as written
    start: int
    end: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


@dataclass
class Group:
    """A parenthesised run of items; ``start``/``end`` are the positions of its parentheses."""

    items: list[Token | Group]
    start: int
    end: int


_CLOSERS = {"'": "'", '"': '"', "`": "`", "[": "]"}


def tokenize(sql: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch.isspace():
            i += 1
        elif sql.startswith("--", i):
            i = _end_of(sql, "\n", i + 2)
        elif sql.startswith("/*", i):
            i = _end_of(sql, "*/", i + 2)
        elif ch in _CLOSERS:
            end, text = _quoted(sql, i, _CLOSERS[ch])
            tokens.append(Token("string" if ch == "'" else "ident", text, i, end))
            i = end
        elif ch in "(),;":
            tokens.append(Token("punct", ch, i, i + 1))
            i += 1
        else:
            j = i
            word = ch.isalnum() or ch == "_"
            while j < n and not sql[j].isspace() and sql[j] not in "(),;'\"`[":
                if (sql[j].isalnum() or sql[j] in "_$") != word:
                    break  # a word ends where an operator begins: "a>=0" -> a, >=, 0
                j += 1
            j = max(j, i + 1)
            tokens.append(Token("word" if word else "other", sql[i:j], i, j))
            i = j
    return tokens


def _end_of(sql: str, marker: str, start: int) -> int:
    found = sql.find(marker, start)
    return len(sql) if found < 0 else found + len(marker)


def _quoted(sql: str, start: int, closer: str) -> tuple[int, str]:
    """(position after the closing quote, unescaped text) of a quoted run."""
    out: list[str] = []
    i = start + 1
    while i < len(sql):
        if sql[i] == closer:
            if closer != "]" and sql.startswith(closer * 2, i):
                out.append(closer)  # a doubled quote stands for one
                i += 2
                continue
            return i + 1, "".join(out)
        out.append(sql[i])
        i += 1
    return len(sql), "".join(out)


def group(tokens: list[Token]) -> list[Token | Group]:
    """Nest the tokens by parentheses."""
    stack: list[tuple[list[Token | Group], int]] = [([], 0)]
    for token in tokens:
        if token.kind == "punct" and token.text == "(":
            stack.append(([], token.start))
        elif token.kind == "punct" and token.text == ")" and len(stack) > 1:
            items, start = stack.pop()
            stack[-1][0].append(Group(items, start, token.end))
        else:
            stack[-1][0].append(token)
    while len(stack) > 1:  # unbalanced text: close what is open rather than fail
        items, start = stack.pop()
        stack[-1][0].append(Group(items, start, items[-1].end if items else start))
    return stack[0][0]


def split_commas(items: list[Token | Group]) -> list[list[Token | Group]]:
    parts: list[list[Token | Group]] = [[]]
    for item in items:
        if isinstance(item, Token) and item.kind == "punct" and item.text == ",":
            parts.append([])
        else:
            parts[-1].append(item)
    return [p for p in parts if p]


def inner_text(sql: str, g: Group) -> str:
    return sql[g.start + 1 : g.end - 1].strip()


def _name(item: Token | Group | None) -> str | None:
    if isinstance(item, Token) and item.kind in ("word", "ident", "string"):
        return item.text
    return None


def _names_in(g: Group) -> tuple[str, ...]:
    # "(a, b COLLATE NOCASE, "c" DESC)": each part's first token is the column.
    return tuple(n for part in split_commas(g.items) if (n := _name(part[0])) is not None)


# -- CREATE TABLE -----------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedForeignKey:
    name: str | None
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    deferrable: bool | None = None
    initially: str | None = None


@dataclass
class ParsedTable:
    pk_name: str | None = None
    checks: list[tuple[str | None, str]] = field(default_factory=list)
    uniques: list[tuple[str | None, tuple[str, ...]]] = field(default_factory=list)
    foreign_keys: list[ParsedForeignKey] = field(default_factory=list)
    computed: dict[str, str] = field(default_factory=dict)  # column -> expression
    # PRIMARY KEY AUTOINCREMENT: ids are never reused (sqlite_sequence keeps the highest).
    autoincrement: bool = False


_TABLE_CONSTRAINT_WORDS = ("CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN")


def parse_create_table(sql: str) -> ParsedTable:
    parsed = ParsedTable()
    items = group(tokenize(sql))
    body = next((i for i in items if isinstance(i, Group)), None)
    if body is None:  # CREATE TABLE ... AS SELECT: no definitions to read
        return parsed
    parsed.autoincrement = any(
        isinstance(t, Token) and t.is_word("AUTOINCREMENT") for t in body.items
    )
    for part in split_commas(body.items):
        first = part[0]
        if isinstance(first, Token) and first.is_word(*_TABLE_CONSTRAINT_WORDS):
            _read_clauses(sql, part, None, parsed)
        else:
            column = _name(first)
            if column is not None:
                _read_clauses(sql, part[1:], column, parsed)
    return parsed


def _read_clauses(
    sql: str, items: list[Token | Group], column: str | None, parsed: ParsedTable
) -> None:
    """Walk one column definition (after its name) or one table constraint."""
    name: str | None = None
    i = 0
    while i < len(items):
        item = items[i]
        following = items[i + 1] if i + 1 < len(items) else None
        if not isinstance(item, Token):
            i += 1
            continue
        if item.is_word("CONSTRAINT"):
            name = _name(following)
            i += 2
            continue
        if item.is_word("CHECK") and isinstance(following, Group):
            parsed.checks.append((name, inner_text(sql, following)))
            name, i = None, i + 2
        elif item.is_word("PRIMARY"):
            parsed.pk_name = name
            name, i = None, i + 1
        elif item.is_word("UNIQUE"):
            if column is None and isinstance(following, Group):
                parsed.uniques.append((name, _names_in(following)))
            elif column is not None:
                parsed.uniques.append((name, (column,)))
            name, i = None, i + 1
        elif item.is_word("FOREIGN") and column is None:
            columns = next((_names_in(g) for g in items[i:] if isinstance(g, Group)), ())
            start = next((j for j in range(i, len(items)) if _is_references(items[j])), None)
            if start is None:  # not a foreign key SQLite would have accepted
                return
            parsed.foreign_keys.append(_references(items, start, name, columns))
            name, i = None, start + 1
        elif item.is_word("REFERENCES") and column is not None:
            parsed.foreign_keys.append(_references(items, i, name, (column,)))
            name, i = None, i + 1
        elif item.is_word("AS") and column is not None and isinstance(following, Group):
            parsed.computed[column] = inner_text(sql, following)
            i += 2
        else:
            i += 1


def _is_references(item: Token | Group) -> bool:
    return isinstance(item, Token) and item.is_word("REFERENCES")


def _references(
    items: list[Token | Group], at: int, name: str | None, columns: tuple[str, ...]
) -> ParsedForeignKey:
    """The REFERENCES clause starting at ``items[at]``."""
    ref_table = _name(items[at + 1]) if at + 1 < len(items) else None
    ref_columns: tuple[str, ...] = ()
    rest = items[at + 2 :]
    if rest and isinstance(rest[0], Group):
        ref_columns = _names_in(rest[0])
        rest = rest[1:]
    deferrable: bool | None = None
    initially: str | None = None
    words = [t.text.upper() if isinstance(t, Token) else "" for t in rest]
    for j, word in enumerate(words):
        if word == "DEFERRABLE":
            deferrable = not (j > 0 and words[j - 1] == "NOT")
        elif word == "INITIALLY" and j + 1 < len(words):
            initially = words[j + 1]
        elif word in ("CONSTRAINT", "CHECK", "UNIQUE", "PRIMARY", "REFERENCES"):
            break  # the next clause of a column definition
    return ParsedForeignKey(name, columns, ref_table or "", ref_columns, deferrable, initially)


def names_used(sql: str) -> set[str]:
    """Every name ``sql`` mentions (words and quoted identifiers), lower-cased.

    SQLite compares names without regard to case; a keyword counts as a name,
    which only makes a caller that looks for a table or column name cautious.
    """
    return {t.text.lower() for t in tokenize(sql) if t.kind in ("word", "ident")}


# -- CREATE INDEX -----------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedIndex:
    elements: tuple[str, ...]  # each indexed term as written: "name", "lower(name)", "x DESC"
    where: str | None


def parse_create_index(sql: str) -> ParsedIndex:
    items = group(tokenize(sql))
    at = next((i for i, t in enumerate(items) if isinstance(t, Group)), None)
    if at is None:
        return ParsedIndex((), None)
    body = items[at]
    assert isinstance(body, Group)
    elements = tuple(
        sql[_start(part[0]) : _end(part[-1])].strip() for part in split_commas(body.items)
    )
    where = next((t for t in items[at + 1 :] if isinstance(t, Token) and t.is_word("WHERE")), None)
    return ParsedIndex(elements, sql[where.end :].strip().rstrip(";").strip() if where else None)


def _start(item: Token | Group) -> int:
    return item.start


def _end(item: Token | Group) -> int:
    return item.end
