"""Replayed schemas kept between runs, so a replay only runs the revisions that are new.

Replaying 1,000 tables' worth of revisions costs about a second, and ``check``,
``revision --autogenerate`` and the language server replay the same scripts
again and again.  A replay's result depends on nothing but the scripts on the
upgrade path, in order, and on the code that replays them; so each step of
the path gets a fingerprint that chains the previous one with the revision id
and its file's size and modification time, starting from a fingerprint of the
replay code itself (Distill's and SQLAlchemy's sources) and the dialect.  A
schema is stored under the fingerprint of the last step it includes; a
replay starts from the longest stored prefix of its path.

Timestamps are coarse (a few milliseconds on most file systems), so a file
modified in the last two seconds could be rewritten with the same size and
time: a prefix is stored only up to before such a file ("racy" files, as git
calls them).

The schemas are pickled, in the user's own cache directory (``distill.caches``,
made readable by the user only): a pickle there is as trusted as the user's
own files.  A file that cannot be read back is a miss; a folder that cannot be
written means no cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import time
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from distill.files import write_atomically
from distill.schema.model import Schema
from distill.scripts.graph import RevisionGraph

FOLDER = "replay"  # per project, beside the header cache (distill.caches)
KEEP = 6  # schemas kept per folder: heads, the database's revision, a few before
_RACY_SECONDS = 2.0


class ReplayCache:
    def __init__(
        self,
        folder: Path,
        graph: RevisionGraph,
        steps: Sequence[str],
        dialect: sa.Dialect,
        naming_convention: Mapping[str, Any] | None = None,
        variant: str = "",
    ):
        self.folder = folder
        self.fingerprints, self.settled = _fingerprints(
            graph, steps, dialect, naming_convention, variant
        )

    def longest_prefix(self) -> tuple[int, Schema | None]:
        """How many steps a stored schema already includes, and that schema."""
        for count in range(len(self.fingerprints), 0, -1):
            held = _HELD.get(self.fingerprints[count - 1])
            if held is not None:
                return count, held
        try:
            stored = {p.name for p in os.scandir(self.folder)}
        except OSError:
            return 0, None
        for count in range(len(self.fingerprints), 0, -1):
            name = self.fingerprints[count - 1] + ".pickle"
            if name in stored:
                schema = _load(self.folder / name)
                if schema is not None:
                    with contextlib.suppress(OSError):
                        os.utime(self.folder / name)  # recently used: evicted last
                    return count, schema
        return 0, None

    def complete(self) -> bool:
        """Whether a schema is stored for the whole path."""
        count, _ = self.longest_prefix()
        return count == len(self.fingerprints) > 0

    def store(self, count: int, schema: Schema) -> None:
        """Keep ``schema``, the result of the first ``count`` steps (when they are settled)."""
        if count == 0 or count > self.settled:
            return
        with contextlib.suppress(OSError):
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = self.folder / (self.fingerprints[count - 1] + ".pickle")
            if path.exists():
                return
            write_atomically(path, pickle.dumps(schema, protocol=pickle.HIGHEST_PROTOCOL))
            _evict(self.folder)


# Schemas held in memory by a long-lived process (the language server's model
# worker loads the latest one, and the children it forks inherit it): loading
# a 1,000-table schema from disk costs 0.15 s, an analysis on every keystroke.
_HELD: dict[str, Schema] = {}


def hold_latest(folder: Path) -> Schema | None:
    """Keep the most recently used schema of ``folder`` in this process's memory.

    Returns it when it was not held before.
    """
    try:
        latest = max(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns)
    except (OSError, ValueError):  # no folder, or nothing kept yet
        return None
    if latest.stem in _HELD:
        return None
    schema = _load(latest)
    _HELD.clear()
    if schema is not None:
        _HELD[latest.stem] = schema
    return schema


def _convention_key(convention: Mapping[str, Any] | None) -> str:
    # A token may be a function (its repr holds an address): named by its qualified name.
    def stable(value: Any) -> str:
        if callable(value):
            return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '')}"
        return repr(value)

    return "\0".join(sorted(f"{stable(k)}={stable(v)}" for k, v in (convention or {}).items()))


def _fingerprints(
    graph: RevisionGraph,
    steps: Sequence[str],
    dialect: sa.Dialect,
    naming_convention: Mapping[str, Any] | None = None,
    variant: str = "",
) -> tuple[list[str], int]:
    """One fingerprint per step, and how many leading steps have no racy file.

    ``variant`` names replay rules that differ for the same files (an Alembic
    project's MySQL restatement)."""
    digest = hashlib.blake2b(code_fingerprint().encode(), digest_size=16)
    digest.update(f"{dialect.name}\0{getattr(dialect, 'is_mariadb', False)}\0{variant}".encode())
    # The convention names what the scripts leave unnamed: another one, another schema.
    digest.update(_convention_key(naming_convention).encode())
    racy_after = time.time() - _RACY_SECONDS
    fingerprints: list[str] = []
    settled: int | None = None
    for index, rev_id in enumerate(steps):
        stat = os.stat(graph.revisions[rev_id].file)
        digest.update(f"\0{rev_id}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
        fingerprints.append(digest.copy().hexdigest())
        if settled is None and stat.st_mtime > racy_after:
            settled = index
    return fingerprints, len(steps) if settled is None else settled


@cache
def code_fingerprint() -> str:
    """What identifies the code a replay runs: a new Distill or SQLAlchemy, a new cache."""
    # Distill's own files by size and time, so an edited checkout counts as new too.
    parts = [sa.__version__]
    for path in sorted(Path(__file__).parent.parent.rglob("*.py")):
        stat = path.stat()
        parts.append(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def _load(path: Path) -> Schema | None:
    try:
        schema = pickle.loads(path.read_bytes())
    except Exception:  # a torn or foreign file: replay instead
        return None
    return schema if isinstance(schema, Schema) else None


def _evict(folder: Path) -> None:
    entries = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in entries[KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()
