"""Reading a SQLite project's version table without loading SQLAlchemy.

``distill current`` (and the editor's status bar) ask one question many times
a day: which revisions are applied?  On SQLite the stdlib driver answers it in
a millisecond, while importing SQLAlchemy costs a quarter of a second.  Any
case this module is not sure about returns None and takes the ordinary path,
so its answers and errors never differ from the full runtime's.
"""

from __future__ import annotations

import os
import sqlite3
from urllib.parse import quote

_SQLITE_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///", "sqlite+aiosqlite:///")


def sqlite_file_missing(url: str) -> bool:
    """True for a SQLite file database whose file does not exist (yet)."""
    path = _sqlite_file(url)
    return path is not None and not os.path.exists(path)


def _sqlite_file(url: str) -> str | None:
    prefix = next((p for p in _SQLITE_PREFIXES if url.startswith(p)), None)
    if prefix is None:
        return None
    path = url[len(prefix) :]
    if not path or "?" in path or path.startswith((":memory:", "file:")):
        return None
    return path


def sqlite_heads(url: str, version_table: str, schema: str | None) -> tuple[str, ...] | None:
    """Applied heads of a SQLite file database, or None when not applicable here."""
    path = _sqlite_file(url)
    if path is None or schema is not None:
        return None
    if not os.path.exists(path):
        return ()  # no database file yet: nothing applied, and looking creates none
    try:
        # Read-only: unlike a normal connect, looking never creates the file.
        conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        quoted = '"' + version_table.replace('"', '""') + '"'
        rows = conn.execute(f"SELECT version_num FROM {quoted}").fetchall()
    except sqlite3.OperationalError as error:
        # A database without the table has nothing applied; anything else
        # (locked, not a database) is reported by the full runtime.
        return () if str(error).startswith("no such table") else None
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return tuple(sorted(str(row[0]) for row in rows))
