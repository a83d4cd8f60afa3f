"""``context.script`` for an Alembic project's env.py: its ScriptDirectory.

env.py reads the revisions through it (``get_current_head()``, ``get_heads()``,
``get_revision(...)``) and, in many real projects, chooses the versions folders
there: ``context.script.version_locations = [...]`` per database, tenant or
``-x`` argument.  Alembic reads the revisions only after env.py began, so what
env.py sets is what the command migrates, checks and writes into; commands
that do not run env.py (``heads``, ``history``) keep the settings' folders, in
Alembic as here.  :meth:`ScriptDirectory.chosen_locations` hands env.py's choice
to the settings (``compat.alembic_env.apply_env``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill.alembic_config import package_folder
from distill.config import Config
from distill.errors import ConfigError
from distill.scripts.graph import RevisionGraph
from distill.scripts.script import Revision, scan_revisions


@dataclass(frozen=True)
class ScriptView:
    """A revision as env.py sees it through ``context.script`` (Alembic's ``Script``)."""

    revision: str
    down_revision: str | tuple[str, ...] | None
    branch_labels: frozenset[str]
    dependencies: tuple[str, ...]
    doc: str
    path: str

    @classmethod
    def of(cls, revision: Revision) -> ScriptView:
        down = revision.down_revisions
        return cls(
            revision=revision.id,
            down_revision=None if not down else down[0] if len(down) == 1 else down,
            branch_labels=frozenset(revision.branch_labels),
            dependencies=revision.depends_on,
            doc=revision.message,
            path=str(revision.path),
        )


class ScriptDirectory:
    """Alembic's ScriptDirectory, as env.py uses it, answering from Distill's graph."""

    def __init__(self, config: Config) -> None:
        self.dir = str(config.script_location)
        self.env_py_location = str(config.script_location / "env.py")
        listed = config.extra.get("version_locations_listed", True)
        # As Alembic holds it: the settings' list, or empty (meaning "<dir>/versions").
        self.version_locations: list[str] = (
            [str(folder) for folder in config.version_locations] if listed else []
        )
        self._settings_locations = tuple(config.version_locations)
        self._source = config.source
        self._graph: tuple[tuple[Path, ...], RevisionGraph] | None = None

    def chosen_locations(self) -> tuple[Path, ...] | None:
        """The versions folders env.py chose, or None when it left the settings' own."""
        locations = self._locations()
        return None if locations == self._settings_locations else locations

    def _locations(self) -> tuple[Path, ...]:
        # Alembic keeps the folders of its first read of the revisions (in
        # ``__dict__["_version_locations"]``, which env.py pops to choose again).
        kept = self.__dict__.get("_version_locations")
        if kept is not None:
            return tuple(Path(folder) for folder in kept)
        if not self.version_locations:
            return (Path(self.dir, "versions").absolute(),)
        # As Alembic reads them: "package:path", else a path from the working folder.
        return tuple(
            package_folder(self._source, str(item)) or Path(item).absolute()
            for item in self.version_locations
        )

    @property
    def versions(self) -> str:
        locations = self._locations()
        if len(locations) > 1:
            raise ConfigError(
                f"{self.env_py_location}: context.script.versions asked for the one versions "
                f"folder, and {len(locations)} are listed; read version_locations instead"
            )
        return str(locations[0])

    # -- the revisions ------------------------------------------------------------

    @property
    def graph(self) -> RevisionGraph:
        locations = self._locations()
        self.__dict__["_version_locations"] = list(locations)
        if self._graph is None or self._graph[0] != locations:
            self._graph = (locations, RevisionGraph(scan_revisions(locations)))
        return self._graph[1]

    def get_heads(self) -> list[str]:
        return list(self.graph.heads)

    def get_current_head(self) -> str | None:
        heads = self.graph.heads
        if len(heads) > 1:
            raise ConfigError(
                f"{self.env_py_location}: context.script.get_current_head() found several "
                f"heads ({', '.join(heads)}); use get_heads(), or merge them"
            )
        return heads[0] if heads else None

    def get_bases(self) -> list[str]:
        return list(self.graph.bases)

    def get_base(self) -> str | None:
        bases = self.get_bases()
        if len(bases) > 1:
            raise ConfigError(
                f"{self.env_py_location}: context.script.get_base() found several bases "
                f"({', '.join(bases)}); use get_bases()"
            )
        return bases[0] if bases else None

    def get_revision(self, identifier: str) -> ScriptView | None:
        if identifier in (None, "base"):
            return None
        return ScriptView.of(self.graph.revisions[self._one(identifier)])

    def get_revisions(self, identifier: str | tuple[str, ...] | None) -> tuple[ScriptView, ...]:
        if identifier is None:
            return ()
        wanted = (identifier,) if isinstance(identifier, str) else tuple(identifier)
        ids: list[str] = []
        for item in wanted:
            ids.extend(self.graph.heads if item == "heads" else () if item == "base" else
                       (self._one(item),))  # fmt: skip
        return tuple(ScriptView.of(self.graph.revisions[i]) for i in ids)

    def _one(self, identifier: str) -> str:
        return self.graph.heads[0] if identifier == "head" else self.graph.get(identifier).id

    def walk_revisions(self, base: str = "base", head: str = "heads") -> Iterator[ScriptView]:
        """Every revision, from the heads down (Alembic's order), whole graph only."""
        if (base, head) != ("base", "heads"):
            raise ConfigError(
                f"{self.env_py_location}: context.script.walk_revisions() with bounds is not "
                "offered by Distill; walk the whole history and filter it"
            )
        for rev_id in reversed(self.graph.in_order(self.graph.revisions)):
            yield ScriptView.of(self.graph.revisions[rev_id])

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise ConfigError(
            f"{self.env_py_location}: context.script.{name} is not offered by Distill's "
            "stand-in for Alembic's ScriptDirectory (it offers version_locations, dir, "
            "versions, get_heads, get_current_head, get_base(s), get_revision(s), "
            "walk_revisions)"
        )
