"""What a run does, as plain data: steps, progress, outcome.

Kept free of SQLAlchemy so that commands which only read revision files can
use these types without paying for the import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from distill.config import Config
from distill.errors import RevisionError
from distill.scripts.graph import RevisionGraph
from distill.scripts.script import Revision

Direction = Literal["upgrade", "downgrade"]


@dataclass(frozen=True)
class Step:
    revision: Revision
    direction: Direction

    @property
    def label(self) -> str:
        return f"{self.direction} {self.revision.id}"


@dataclass(frozen=True)
class Progress:
    index: int  # 1-based
    total: int
    step: Step
    finished: bool
    elapsed: float


@dataclass
class RunResult:
    before: tuple[str, ...]
    after: tuple[str, ...]
    steps: list[Step] = field(default_factory=list)


Planner = Callable[[tuple[str, ...]], list[Step]]
Notify = Callable[[str], None]
OnProgress = Callable[[Progress], None]


def require_known_heads(graph: RevisionGraph, heads: Sequence[str], config: Config) -> None:
    """Refuse a database whose version rows name a revision no file defines."""
    unknown = [h for h in heads if h not in graph.revisions]
    if unknown:
        where = ", ".join(str(p) for p in config.version_locations)
        raise RevisionError(
            f"the database is at revision {', '.join(unknown)}, which no file under {where} "
            "defines; restore that file, or set the database with 'distill stamp <rev> --purge'"
        )
