"""Where Distill keeps what it can compute again: outside the project.

The project stays as its team made it: no ``__pycache__``, no hidden files of
Distill's in the version folders, nothing new in ``git status`` or in the
editor's file tree.  Each cache belongs to one folder of the project (a
version folder) and lives under the user's cache directory, in a folder named
after that folder and a hash of its absolute path:

- ``$DISTILL_CACHE_DIR`` when set (CI, tests, a shared disk);
- else ``$XDG_CACHE_HOME/distill``, ``~/.cache/distill`` on Linux and BSD;
- ``~/Library/Caches/distill`` on macOS;
- ``%LOCALAPPDATA%\\distill\\Cache`` on Windows.

Everything there can be deleted at any time; a cache directory that cannot be
written means no cache, never an error.
"""

from __future__ import annotations

import os
import sys
import zlib
from pathlib import Path


def cache_for(folder: Path, name: str) -> Path:
    """The path of cache ``name`` (a file or a folder) for project folder ``folder``."""
    where = os.path.abspath(folder)
    # Two CRCs, of the path and of it reversed: a key no two folders of one user share
    # in practice, without hashlib, whose OpenSSL costs graph commands 3 ms to load.
    data = where.encode("utf-8", "surrogateescape")
    key = f"{zlib.crc32(data):08x}{zlib.crc32(data[::-1]):08x}"
    return cache_root() / f"{os.path.basename(where) or 'root'}-{key}" / name


def cache_root() -> Path:
    own = os.environ.get("DISTILL_CACHE_DIR")
    if own:
        return Path(own)
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
        return Path(local) / "distill" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "distill"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg if xdg and os.path.isabs(xdg) else Path.home() / ".cache") / "distill"


def make_parent(path: Path) -> None:
    """Create the folders above ``path``, readable by the user only (schemas are pickled)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
