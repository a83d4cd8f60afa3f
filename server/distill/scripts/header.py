"""Reading a revision file's header from its text, without importing it.

``heads`` and ``history`` over thousands of revisions must not execute (or
even compile) every file, so the four header assignments are found with a
line-anchored regex and their values evaluated with ``ast.literal_eval``.
Whenever that scan is not certain — a key assigned twice, a value that is not
a literal, a bracket that never closes — the whole file is parsed with
``ast`` instead, which is exact and gives line numbers for the error message.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from distill.errors import ScriptError

KEYS = ("revision", "down_revision", "branch_labels", "depends_on")

# Column-0 assignments only: indented ones belong to functions or classes.
# The optional annotation covers Alembic's ``down_revision: Union[...] = ...``.
_ASSIGNMENT = re.compile(
    r"^(revision|down_revision|branch_labels|depends_on)[ \t]*(?::[^=\n]*)?=(?!=)[ \t]*(.*)$",
    re.MULTILINE,
)
_DOCSTRING = re.compile(
    r"\A(?:[ \t]*(?:#[^\n]*)?\r?\n)*[ \t]*[rRuU]?(\"\"\"|'''|\"|')(.*?)(?<!\\)\1",
    re.DOTALL,
)
_CREATE_DATE = re.compile(r"^[ \t]*Create Date:[ \t]*(.*?)[ \t]*$", re.MULTILINE)
_SIMPLE_VALUE = re.compile(r"""(?:None|"([^"\\\n]*)"|'([^'\\\n]*)')[ \t]*(?:#[^\n]*)?\r?$""")
_MAX_VALUE_LINES = 200  # a header value longer than this is not worth scanning by hand
# The version table's version_num is VARCHAR(32), in Alembic's layout and Distill's.
MAX_REVISION_LENGTH = 32


@dataclass(frozen=True)
class Header:
    revision: str
    down_revisions: tuple[str, ...]
    branch_labels: tuple[str, ...]
    depends_on: tuple[str, ...]
    message: str
    create_date: str | None


class _NotSure(Exception):
    """The fast scan cannot vouch for its answer; parse the file properly."""


def parse_header(text: str, path: Path) -> Header | None:
    """The header of a revision file, or None when the file defines no ``revision``."""
    try:
        values = _scan(text)
    except _NotSure:
        values = _parse(text, path)
    if "revision" not in values:
        return None
    message, create_date = _docstring_fields(text)
    return _build(values, message, create_date, path)


# -- the fast scan ---------------------------------------------------------------


def _scan(text: str) -> dict[str, tuple[object, int]]:
    values: dict[str, tuple[object, int]] = {}
    for match in _ASSIGNMENT.finditer(text):
        key = match.group(1)
        if key in values:  # e.g. a docstring showing an example header
            raise _NotSure
        line = text.count("\n", 0, match.start()) + 1
        values[key] = (_literal_from(text, match.start(2)), line)
    return values


def _literal_from(text: str, start: int) -> object:
    """Evaluate the literal starting at ``start``, growing it line by line if it spans lines."""
    end = text.find("\n", start)
    # Nearly every header value is None or a plain quoted id; reading those
    # directly skips literal_eval's compile, most of a cold scan's time.
    simple = _SIMPLE_VALUE.match(text, start, len(text) if end == -1 else end)
    if simple:
        quoted = simple.group(1) if simple.group(1) is not None else simple.group(2)
        return quoted  # None when the value is None
    for _ in range(_MAX_VALUE_LINES):
        chunk = text[start:] if end == -1 else text[start:end]
        try:
            return ast.literal_eval(chunk.strip())
        except SyntaxError:
            if end == -1:
                break
            end = text.find("\n", end + 1)
        except (ValueError, TypeError, MemoryError, RecursionError):
            break  # a name or call: only the full parse can say what it is
    raise _NotSure


# -- the exact parse -----------------------------------------------------------------


def header_assignments(tree: ast.Module) -> Iterator[tuple[str, ast.expr, ast.stmt]]:
    """(key, value, statement) of each module-level assignment of a header key."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in KEYS:
            yield target.id, value, node


def _parse(text: str, path: Path) -> dict[str, tuple[object, int]]:
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        raise ScriptError(
            f"{path}:{error.lineno or 1}: syntax error: {error.msg}; fix the file"
        ) from None
    values: dict[str, tuple[object, int]] = {}
    for key, value, node in header_assignments(tree):
        try:
            values[key] = (ast.literal_eval(value), node.lineno)
        except ValueError:
            raise ScriptError(
                f"{path}:{node.lineno}: {key} must be written as a literal "
                f"(a string, a tuple of strings or None), not {ast.unparse(value)!r}"
            ) from None
    return values


# -- checking and shaping the values ---------------------------------------------------


def _build(
    values: dict[str, tuple[object, int]], message: str, create_date: str | None, path: Path
) -> Header:
    rev_value, rev_line = values["revision"]
    if not isinstance(rev_value, str) or not rev_value.strip():
        raise ScriptError(
            f"{path}:{rev_line}: revision must be a non-empty string, not {rev_value!r}"
        )
    if len(rev_value) > MAX_REVISION_LENGTH:
        raise ScriptError(
            f"{path}:{rev_line}: revision id {rev_value!r} is {len(rev_value)} characters; "
            f"the version table holds at most {MAX_REVISION_LENGTH} (version_num VARCHAR(32)), "
            "so choose a shorter id"
        )
    return Header(
        revision=rev_value,
        down_revisions=_names(values, "down_revision", path),
        branch_labels=_names(values, "branch_labels", path),
        depends_on=_names(values, "depends_on", path),
        message=message,
        create_date=create_date,
    )


def _names(values: dict[str, tuple[object, int]], key: str, path: Path) -> tuple[str, ...]:
    value, line = values.get(key, (None, 0))
    if value is None:
        return ()
    items = (value,) if isinstance(value, str) else value
    if isinstance(items, (tuple, list)) and all(isinstance(i, str) and i for i in items):
        # Order is kept (it is the order Alembic shows), duplicates are not.
        return tuple(dict.fromkeys(items))
    raise ScriptError(
        f"{path}:{line}: {key} must be None, a string or a tuple of strings, not {value!r}"
    )


def _docstring_fields(text: str) -> tuple[str, str | None]:
    """The message (first docstring line) and the ``Create Date:`` value, if any."""
    match = _DOCSTRING.match(text)
    if match is None:
        return "", None
    body = match.group(2)
    message = body.strip().split("\n", 1)[0].strip() if body.strip() else ""
    date = _CREATE_DATE.search(body)
    return message, (date.group(1) or None) if date else None
