"""What the editor shows in revision files: findings, hovers, go-to-definition, code lenses.

Pure functions over the texts of the files in the version locations (open
buffers in place of the files), so the server only converts the dataclasses
here into LSP types.  Reading is tolerant: a file whose header is broken, two
files with one id or a down_revision naming nothing must not hide what can
still be said about the others, so the view is built even when
``RevisionGraph`` refuses the files.

Headers are read by ``scripts.header`` (what the engine sees); ``ast`` only adds
positions.  Positions are 0-based lines and UTF-16 code units, as in LSP.
"""

from __future__ import annotations

import ast
import difflib
import functools
import hashlib
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill.commands import editor
from distill.errors import RevisionError, ScriptError
from distill.lsp.positions import Span, utf16_length
from distill.lsp.positions import lines as lines_of
from distill.scripts.graph import MIN_PREFIX, RevisionGraph
from distill.scripts.header import Header
from distill.scripts.script import Revision

_REPAIR_TRIES = 20  # top-level statements to step back over when a buffer does not parse


_TOP = Span(0, 0, 0, 0)  # where a finding goes when nothing better is known


@dataclass(frozen=True)
class Literal:
    """A string literal in a revision file."""

    value: str
    span: Span  # quotes included
    key: str | None  # "revision", "down_revision", "depends_on"...: the header key it is part of


@dataclass(frozen=True)
class RevisionFile:
    path: str
    text: str
    header: Header | None  # None: not a revision file, or a header that cannot be read
    error: str | None  # why the header cannot be read (a ScriptError's message)
    error_line: int
    literals: tuple[Literal, ...]  # in source order; empty when the text never parses
    idle_downgrade: Span | None  # ``def downgrade`` when it does nothing and upgrade does

    @property
    def is_revision(self) -> bool:
        return self.header is not None or self.error is not None

    def keyed(self, key: str) -> list[Literal]:
        return [lit for lit in self.literals if lit.key == key]

    @property
    def revision_span(self) -> Span:
        found = self.keyed("revision")
        return found[0].span if found else _TOP

    @property
    def declared_id(self) -> str | None:
        """The id this file declares, read from its literal when the header is broken."""
        if self.header is not None:
            return self.header.revision
        found = self.keyed("revision")
        return found[0].value if len(found) == 1 else None


@dataclass(frozen=True)
class RevisionFiles:
    files: Mapping[str, RevisionFile]  # every path given, in path order
    by_id: Mapping[str, tuple[str, ...]]  # revision id -> the files declaring it (two: a clash)
    labels: Mapping[str, str]  # branch label -> revision id
    graph: RevisionGraph | None  # None when the engine would refuse these files
    graph_error: str | None

    def resolve(self, name: str) -> str | None:
        """The revision id ``name`` means: an id, a branch label or a unique 4+ prefix."""
        if name in self.by_id:
            return name
        if name in self.labels:
            return self.labels[name]
        if len(name) < MIN_PREFIX:
            return None
        matches = [i for i in self.by_id if i.startswith(name)]
        return matches[0] if len(matches) == 1 else None

    def file_of(self, rev_id: str) -> RevisionFile:
        return self.files[self.by_id[rev_id][0]]


# -- reading -------------------------------------------------------------------------------


def read_revision_files(texts: Mapping[str, str]) -> RevisionFiles:
    files = {path: _read_one(path, texts[path]) for path in sorted(texts)}
    by_id: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    for file in files.values():
        rev_id = file.declared_id
        if rev_id is not None:
            by_id.setdefault(rev_id, []).append(file.path)
        if file.header is not None:
            labels.update(dict.fromkeys(file.header.branch_labels, file.header.revision))
    graph, graph_error = None, None
    try:
        graph = RevisionGraph(_revisions(files.values()))
    except RevisionError as error:
        graph_error = str(error)
    frozen_ids = {rev_id: tuple(paths) for rev_id, paths in by_id.items()}
    return RevisionFiles(files, frozen_ids, labels, graph, graph_error)


# The server reads every file again for each hover or lens; most have not
# changed since, and a RevisionFile is immutable, so the parse is shared.
@functools.lru_cache(maxsize=8192)  # a few MB; more revisions than this just re-parse
def _read_one(path: str, text: str) -> RevisionFile:
    header, error, error_line = None, None, 0
    # The engine's scan skips these names (``scan_revisions``): so must we.
    if not Path(path).name.startswith(("_", ".")):
        try:
            header = editor.read_header(text, Path(path))
        except ScriptError as problem:
            error, error_line = _located(str(problem), path)
    tree = _parse(text)
    if tree is None or not (header or error):
        return RevisionFile(path, text, header, error, error_line, (), None)
    lines = lines_of(text)
    return RevisionFile(
        path, text, header, error, error_line, _literals(tree, lines), _idle_downgrade(tree, lines)
    )


def _located(message: str, path: str) -> tuple[str, int]:
    """The message without its ``path:line:`` prefix (the editor shows both), and the line."""
    found = re.match(re.escape(str(Path(path))) + r":(\d+): ", message)
    if found is None:
        return message, 0
    return message[found.end() :], max(int(found.group(1)) - 1, 0)


def _parse(text: str) -> ast.Module | None:
    """The module; for a buffer mid-edit, the whole top-level statements before the error.

    A half-typed line in ``upgrade()`` must not make the header's positions (and so
    every finding in the file) disappear while the user types.
    """
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError) as error:
        bad = getattr(error, "lineno", None) or 1
    lines = lines_of(text)
    starts = [n for n in range(min(bad, len(lines))) if lines[n][:1] not in ("", " ", "\t", "#")]
    for cut in reversed(starts[-_REPAIR_TRIES:]):
        try:
            return ast.parse("\n".join(lines[:cut]))
        except (SyntaxError, ValueError):
            continue
    return None


def _literals(tree: ast.Module, lines: list[str]) -> tuple[Literal, ...]:
    assigned: dict[str, list[ast.Constant]] = {}  # header key -> its literals; the last one wins
    for key, value, _ in editor.header_statements(tree):  # the statements header.py reads
        items = value.elts if isinstance(value, (ast.Tuple, ast.List)) else [value]
        assigned[key] = [c for c in items if isinstance(c, ast.Constant)]
    keys = {id(c): key for key, constants in assigned.items() for c in constants}
    found = [
        Literal(node.value, _span(node, lines), keys.get(id(node)))
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    return tuple(sorted(found, key=lambda lit: (lit.span.line, lit.span.character)))


def _idle_downgrade(tree: ast.Module, lines: list[str]) -> Span | None:
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    upgrade, downgrade = functions.get("upgrade"), functions.get("downgrade")
    if upgrade is None or downgrade is None:
        return None
    if _does_nothing(downgrade.body) and not _does_nothing(upgrade.body):
        line, text = downgrade.lineno - 1, lines[downgrade.lineno - 1]
        name_end = text.index("downgrade") + len("downgrade")  # the first one follows "def"
        return Span(line, _column(text, downgrade.col_offset), line, utf16_length(text[:name_end]))
    return None


def _does_nothing(body: list[ast.stmt]) -> bool:
    """Only ``pass``, ``...`` or a docstring (what a template leaves behind)."""
    return all(
        isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in body
    )


def _span(node: ast.expr, lines: list[str]) -> Span:
    # ast columns are UTF-8 byte offsets; LSP counts UTF-16 code units.
    end_line = (node.end_lineno or node.lineno) - 1
    end_col = node.col_offset if node.end_col_offset is None else node.end_col_offset
    return Span(
        node.lineno - 1,
        _column(lines[node.lineno - 1], node.col_offset),
        end_line,
        _column(lines[end_line], end_col),
    )


def _column(line: str, byte_offset: int) -> int:
    if line.isascii():
        return byte_offset
    return utf16_length(line.encode()[:byte_offset].decode(errors="replace"))


def _revisions(files: Iterable[RevisionFile]) -> list[Revision]:
    return [editor.revision_of(f.header, Path(f.path)) for f in files if f.header is not None]


# -- findings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    path: str
    span: Span
    severity: str  # "error" | "warning" | "information"
    code: str  # stable: "migration.<what>"; code actions key on it
    message: str
    data: dict[str, Any]  # what a quick fix needs


def findings(
    files: RevisionFiles, applied: Mapping[str, str | None] | None
) -> dict[str, list[Finding]]:
    """Findings by path, with every path of ``files`` present so old diagnostics get cleared.

    ``applied``: revision id -> sha256 of the file that ran (None when not known,
    e.g. stamped); None or empty when there is no database to ask.
    """
    revisions = [f for f in files.files.values() if f.is_revision]
    found = [
        *(finding for file in revisions for finding in _file_findings(file, applied or {})),
        *_duplicate_ids(files),
        *_missing_targets(files, revisions),
    ]
    # A broken header or a dangling parent makes a false head (and is the graph's
    # error too): the count of heads only means something once those are fixed.
    if not any(
        f.code in ("migration.bad-header", "migration.missing-down-revision") for f in found
    ):
        found += _multiple_heads(files)
    if files.graph_error is not None and not any(f.severity == "error" for f in found):
        found += _graph_error(files.graph_error, revisions)
    by_path: dict[str, list[Finding]] = {path: [] for path in files.files}
    for finding in found:
        by_path[finding.path].append(finding)
    return by_path


def _file_findings(file: RevisionFile, applied: Mapping[str, str | None]) -> Iterable[Finding]:
    """What a file shows whatever the other files say."""
    rev_id = file.declared_id
    if file.error is not None:
        span = _line_span(file.text, file.error_line)
        yield Finding(file.path, span, "error", "migration.bad-header", file.error, {})
    if file.idle_downgrade is not None:
        yield Finding(
            file.path,
            file.idle_downgrade,
            "warning",
            "migration.empty-downgrade",
            "downgrade() does nothing while upgrade() does: 'distill downgrade' would leave "
            "the changes in place; write the reverse, or raise NotImplementedError if it "
            "cannot be undone",
            {"revision": rev_id},
        )
    recorded = applied.get(rev_id) if rev_id is not None else None
    if recorded is not None and not _same_file(file.text, recorded):
        yield Finding(
            file.path,
            file.revision_span,
            "warning",
            "migration.changed-after-apply",
            f"{rev_id} was applied from a different version of this file (sha256 "
            f"{recorded[:12]}); a database that ran the old one will not get your change "
            "— write a new revision instead",
            {"revision": rev_id, "recorded": recorded, "current": _sha256(file.text)},
        )


def _duplicate_ids(files: RevisionFiles) -> Iterable[Finding]:
    for rev_id, paths in files.by_id.items():
        for path in paths if len(paths) > 1 else ():
            others = [p for p in paths if p != path]
            yield Finding(
                path,
                files.files[path].revision_span,
                "error",
                "migration.duplicate-id",
                f"revision id {rev_id} is also declared in {', '.join(map(_name, others))}; "
                "give one of them a new id (and update what revises it)",
                {"revision": rev_id, "files": others},
            )


def _missing_targets(files: RevisionFiles, revisions: list[RevisionFile]) -> Iterable[Finding]:
    for file in revisions:
        if file.header is None:
            continue
        named = [("down_revision", d) for d in file.header.down_revisions if d not in files.by_id]
        named += [("depends_on", d) for d in file.header.depends_on if files.resolve(d) is None]
        for key, name in named:
            spans = [lit.span for lit in file.keyed(key) if lit.value == name]
            suggestion = _suggest(files, name)
            hint = f" (did you mean {suggestion}?)" if suggestion else ""
            yield Finding(
                file.path,
                spans[0] if spans else file.revision_span,
                "error",
                "migration.missing-down-revision",
                f"{key} {name!r} names no revision{hint}; restore the missing file or fix "
                f"{key} here",
                {"field": key, "name": name, "suggestion": suggestion},
            )


def _suggest(files: RevisionFiles, name: str) -> str | None:
    # A short id typed by hand is usually a prefix; anything else, a typo.
    starting = [i for i in files.by_id if i.startswith(name)]
    if len(starting) == 1:
        return starting[0]
    close = difflib.get_close_matches(name, list(files.by_id), n=1, cutoff=0.75)
    return close[0] if close else None


def _same_file(text: str, recorded: str) -> bool:
    """Whether ``text`` is the file whose bytes hashed to ``recorded`` (``file_sha256``).

    Line endings do not count: a checkout with other line endings (git's autocrlf),
    or a text read in text mode, is still the file that ran.
    """
    unix = text.replace("\r\n", "\n")
    return recorded in {_sha256(t) for t in (text, unix, unix.replace("\n", "\r\n"))}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _multiple_heads(files: RevisionFiles) -> Iterable[Finding]:
    if files.graph is not None:
        heads = list(files.graph.heads)
    else:  # the same rule as the graph's (no revision names it as down_revision), tolerantly
        parents = {d for f in files.files.values() if f.header for d in f.header.down_revisions}
        heads = [i for i in files.by_id if i not in parents and files.file_of(i).header]
    if len(heads) < 2:
        return
    message = (
        f"{len(heads)} heads: {', '.join(heads)}; merge them with 'distill merge heads -m \"...\"'"
    )
    for head in heads:
        for path in files.by_id[head]:
            span = files.files[path].revision_span
            data: dict[str, Any] = {"heads": heads}
            yield Finding(path, span, "warning", "migration.multiple-heads", message, data)


def _graph_error(message: str, revisions: list[RevisionFile]) -> list[Finding]:
    """What the graph refuses beyond the checks above (a cycle, a branch label used twice)."""
    named = [f for f in revisions if str(Path(f.path)) in message] or revisions
    return [
        Finding(f.path, f.revision_span, "error", "migration.invalid-graph", message, {})
        for f in named
    ]


def _line_span(text: str, line: int) -> Span:
    lines = lines_of(text)
    line = min(line, len(lines) - 1)
    content = lines[line]
    indent = len(content) - len(content.lstrip())
    return Span(line, indent, line, utf16_length(content))


def _name(path: str) -> str:
    return Path(path).name


# -- hover and go to definition -------------------------------------------------------------


def hover(
    files: RevisionFiles,
    path: str,
    line: int,
    character: int,
    applied: Mapping[str, str | None] | None,
) -> str | None:
    """Markdown about the revision a string literal names, or None when it names none.

    ``applied`` is None when there is no database: then the state is "unknown".
    """
    found = _revision_at(files, path, line, character)
    if found is None:
        return None
    file = files.file_of(found[1])
    header = file.header
    lines = [f"**Revision `{found[1]}`**" + (f": {header.message}" if header else ""), ""]
    lines.append(f"- file: `{_name(file.path)}`")
    if header is not None:
        lines.append(f"- created: {header.create_date or 'unknown'}")
        parents = ", ".join(f"`{d}`" for d in header.down_revisions)
        lines.append(f"- revises: {parents or 'nothing (a base revision)'}")
    if applied is None:
        state = "unknown (no database)"
    else:
        state = "applied" if found[1] in applied else "not applied"
    lines.append(f"- database: {state}")
    recorded = applied.get(found[1]) if applied is not None else None
    if recorded is not None and not _same_file(file.text, recorded):
        lines += ["", "**Warning:** the file changed since it was applied; write a new revision."]
    return "\n".join(lines)


def definition(
    files: RevisionFiles, path: str, line: int, character: int
) -> tuple[str, Span] | None:
    """The ``revision = "..."`` value of the revision a string literal names."""
    found = _revision_at(files, path, line, character)
    if found is None:
        return None
    literal, rev_id = found
    target = files.file_of(rev_id)
    if target.path == path and literal.key == "revision":
        return None  # already there
    return target.path, target.revision_span


def _revision_at(
    files: RevisionFiles, path: str, line: int, character: int
) -> tuple[Literal, str] | None:
    file = files.files.get(path)
    if file is None or not file.is_revision:
        return None
    for literal in file.literals:
        if literal.span.contains(line, character):
            rev_id = files.resolve(literal.value)
            return (literal, rev_id) if rev_id is not None else None
    return None


# -- code lenses ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lens:
    span: Span
    title: str
    command: str
    arguments: list[Any]


def lenses(
    files: RevisionFiles,
    path: str,
    applied: Collection[str] | None = None,
    current: Collection[str] = (),
) -> list[Lens]:
    """The revision line's actions, as the database's state allows them.

    ``applied``: the revisions the database has (None: it was not read).  Upgrade
    only to a revision not applied (or when the state is unknown: the command then
    says why it cannot); downgrade only to an applied revision below a current one,
    never to one that was never applied nor to where the database already is.
    """
    file = files.files.get(path)
    if file is None or file.header is None:
        return []
    rev_id, span = file.header.revision, file.revision_span
    found = []
    if applied is None or rev_id not in applied:
        found.append(Lens(span, "Upgrade to here", "distill.upgrade", [rev_id]))
    if applied is not None and rev_id in applied and rev_id not in current:
        found.append(Lens(span, "Downgrade to here", "distill.downgrade", [rev_id]))
    found.append(Lens(span, "Show SQL", "distill.showSql", [_own_range(file.header)]))
    return found


def _own_range(header: Header) -> str:
    """The ``FROM:TO`` whose offline upgrade is this revision alone.

    FROM is the state just before it: its parent, or ``base``.  A merge stands on
    all its parents, and naming only one as FROM would also show the other
    branch's revisions; ``<rev>-1`` steps down a merge to all of its parents at
    once, so the range holds just the merge.  Revisions named only in
    ``depends_on`` and not below FROM are shown too: without them it cannot run.
    """
    rev_id, parents = header.revision, header.down_revisions
    if not parents:
        return f"base:{rev_id}"
    if len(parents) == 1:
        return f"{parents[0]}:{rev_id}"
    return f"{rev_id}-1:{rev_id}"
