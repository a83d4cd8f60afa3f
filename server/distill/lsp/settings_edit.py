"""The "Ignore table X" quick fix: add a table to ``exclude_tables`` in the settings file.

The file is the user's: the edit is made on its text, touching only the
``exclude_tables`` line (or adding one), so comments and layout stay.  The
result is read back with ``tomllib`` and written only if every other setting
is unchanged and the table is now excluded; anything else is refused with a
message saying to add it by hand.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from distill.errors import ConfigError
from distill.files import write_atomically

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

_SECTION = re.compile(r"^\[\s*tool\.distill\s*\]\s*(#.*)?$", re.MULTILINE)
_ANY_SECTION = re.compile(r"^\[", re.MULTILINE)
_KEY = re.compile(r"^exclude_tables\s*=\s*\[[^\]]*\][^\n]*$", re.MULTILINE)


def add_excluded_table(path: Path, table: str) -> None:
    text = path.read_text("utf-8")
    before = _settings(text, path)
    excluded = list(before.get("exclude_tables", []))
    if table in excluded:
        return
    edited = _edited(text, path, [*excluded, table])
    after = _settings(edited, path)
    unchanged = {k: v for k, v in after.items() if k != "exclude_tables"} == {
        k: v for k, v in before.items() if k != "exclude_tables"
    }
    if not unchanged or after.get("exclude_tables") != [*excluded, table]:
        raise ConfigError(
            f"{path}: could not add {table!r} to exclude_tables safely; add it by hand"
        )
    write_atomically(path, edited)


def _edited(text: str, path: Path, tables: list[str]) -> str:
    line = f"exclude_tables = {json.dumps(tables)}"
    start, end = _section_bounds(text, path)
    found = _KEY.search(text, start, end)
    if found is not None:
        return text[: found.start()] + line + text[found.end() :]
    # No such key yet: it goes at the end of the section, before its blank lines.
    body = text[start:end]
    kept = body.rstrip("\n")
    tail = body[len(kept) :] or "\n"
    return text[:start] + kept + ("\n" if kept else "") + line + tail + text[end:]


def _section_bounds(text: str, path: Path) -> tuple[int, int]:
    if path.name != "pyproject.toml":
        first = _ANY_SECTION.search(text)  # distill.toml: top-level keys come first
        return 0, first.start() if first else len(text)
    header = _SECTION.search(text)
    if header is None:
        raise ConfigError(f"{path}: no [tool.distill] section; add exclude_tables by hand")
    following = _ANY_SECTION.search(text, header.end())
    return header.end() + 1, following.start() if following else len(text)


def _settings(text: str, path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}; fix the file first") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("distill", {})
    return dict(data)
