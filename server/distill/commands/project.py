"""Opening a project: its settings, its revision graph, its database.

``open_project`` is the one way in, for the CLI, the language server and the
sandbox's children alike.  How much of an Alembic project's ``env.py`` it runs
is the ``env_mode``, named here once:

- ``"text"``: none; a version table env.py names as a plain string is read
  from its text (``heads``, ``history``, the language server's own process);
- ``"bookkeeping"``: env.py runs only when its text names the version table
  (or the settings name no URL, which env.py then builds): ``current``;
- ``"online"`` / ``"offline"``: env.py runs as Alembic would run it, with or
  without a database, and what it configures becomes settings;
- ``"editor"``: env.py runs against an in-memory stand-in database, so no
  keystroke connects to the real one (the sandbox's children);
- ``"migrate"``: env.py runs for real and the command's plan runs inside its
  ``context.run_migrations()`` (``upgrade``, ``downgrade``, ``stamp``, ``check``).

Distill projects have no env.py: every mode opens them the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from distill.config import Config, load_config
from distill.errors import DistillError
from distill.scripts.graph import RevisionGraph
from distill.scripts.script import scan_revisions

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from distill.commands import models_memo as models_memo_types
    from distill.runtime.version import HistoryEntry
    from distill.schema.catalog_facts import CatalogFacts

EnvMode = Literal["text", "bookkeeping", "online", "offline", "editor", "migrate"]
Write = Callable[[str], None]
T = TypeVar("T")


def open_project(
    root: Path,
    *,
    config_file: Path | None = None,
    url: str | None = None,
    x: Sequence[str] = (),
    timeout: float | None = None,
    env_mode: EnvMode = "text",
    models_memo: bool = False,
) -> Project:
    """The project whose settings apply to ``root`` (or ``config_file``), with as much of
    its env.py run as ``env_mode`` says.  ``models_memo``: for a command that needs only
    the models and env.py's settings of it, what env.py gave last time stands in for
    running it while nothing it read changed (``models_memo.py``)."""
    config = replace(load_config(root, config_file, url), x_arguments=tuple(x))
    if timeout is not None:
        config = replace(config, timeout=timeout)
    if config.flavour != "alembic":
        return Project(config)
    from distill.compat.env_text import bookkeeping_in_text, require_env_py

    if env_mode not in ("text", "editor"):  # the editor shows a missing env.py itself
        require_env_py(config)
    if models_memo and env_mode in ("migrate", "online"):
        from distill.commands import models_memo as memo

        remembered = memo.remembered(config)
        if remembered is not None:
            return Project(remembered)
    if env_mode == "migrate":
        from distill.compat.env_text import ENV_PY

        if (config.script_location / ENV_PY).is_file():
            return Project(config, inside_env_py=True, models_memo=models_memo)
        env_mode = "online"  # a metadata key and no env.py: Distill alone runs the project
    # The most common FastAPI layout builds the URL in env.py from the app's
    # settings: a command that talks to the database must run env.py to find it.
    if env_mode == "bookkeeping" and not config.url:
        env_mode = "online"
    if env_mode in ("text", "bookkeeping"):
        from distill.compat.env_text import with_literal_bookkeeping

        read = bookkeeping_in_text(config)
        if env_mode == "text" or not read.mentioned:
            # env.py is not run; a version table it names as a plain string still counts
            return Project(with_literal_bookkeeping(config, read))
        env_mode = "online"
    from distill.compat.alembic_env import complete_config

    if env_mode in ("offline", "editor"):
        return Project(complete_config(config, mode=env_mode))
    if not models_memo:
        return Project(complete_config(config, mode="online"))
    from distill.commands import models_memo as memo

    with memo.recording(config) as recorded:
        completed = complete_config(config, mode="online")
    remember_models(recorded, completed)
    return Project(completed)


def remember_models(recorded: models_memo_types.Recording, completed: Config) -> None:
    """Keep env.py's models for next time (``models_memo``), when it gave them online."""
    from distill.autogen.generate import model_schema, target_dialect
    from distill.commands import models_memo as memo

    if completed.extra.get("target_metadata") is None:
        return
    try:
        models = model_schema(completed, target_dialect(completed))
    except DistillError:
        return  # the command itself says what is wrong with the models
    memo.remember(recorded, completed, models)


@dataclass
class Project:
    """A configured project: its settings, its revision graph, its database."""

    config: Config
    # An Alembic project's command that migrates or reads the database runs inside
    # its env.py (compat.env_run); ``config`` then gains what env.py configures, and
    # ``database`` is env.py's connection, while the command runs.
    inside_env_py: bool = False
    # Keep env.py's models when it runs (``models_memo``): check, revision --autogenerate.
    models_memo: bool = False
    _borrowed: Connection | None = field(default=None, init=False, repr=False)

    @cached_property
    def graph(self) -> RevisionGraph:
        return RevisionGraph(scan_revisions(self.config.version_locations))

    @cached_property
    def engine(self) -> Engine:
        from distill.runtime.database import create_engine

        return create_engine(self.config.require_url())

    def use_settings(self, config: Config) -> None:
        """The settings env.py completed; the graph again if it chose other versions
        folders (``context.script.version_locations``)."""
        if config.version_locations != self.config.version_locations:
            self.__dict__.pop("graph", None)
        self.config = config

    def dispose(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()

    @property
    def database(self) -> Engine | Connection:
        """Where the database is read: env.py's connection while inside it, else the engine."""
        return self._borrowed if self._borrowed is not None else self.engine

    def migrate_database(
        self,
        run: Callable[[Engine | Connection], T],
        notify: Write,
        *,
        unreachable: Callable[[], T] | None = None,
    ) -> T:
        """``run`` on the project's database: inside env.py when ``inside_env_py``,
        else on Distill's own engine.  ``unreachable``: what to do instead when env.py
        cannot connect (else that is the command's error)."""
        if not self.inside_env_py:
            return run(self.engine)
        from sqlalchemy.engine import Connection

        from distill.compat import env_run

        def configured_by_env(database: Engine | Connection, config: Config) -> T:
            self.use_settings(config)
            self._borrowed = database if isinstance(database, Connection) else None
            try:
                return run(database)
            finally:
                self._borrowed = None

        def cannot_connect(config: Config) -> T:
            assert unreachable is not None
            self.use_settings(config)
            self.inside_env_py = False
            return unreachable()

        return env_run.run_in_env(
            self.config,
            configured_by_env,
            own_engine=lambda: self.engine,
            notify=notify,
            unreachable=cannot_connect if unreachable is not None else None,
        )


def read_heads(project: Project) -> tuple[str, ...]:
    from distill.runtime.quickread import sqlite_heads

    config = project.config
    quick = sqlite_heads(config.require_url(), config.version_table, config.version_table_schema)
    if quick is not None:
        return quick
    from distill.runtime.database import connect
    from distill.runtime.migrate import tables_for

    with connect(project.database) as conn:
        return tables_for(config).heads(conn)


def database_state(project: Project) -> tuple[tuple[str, ...], list[HistoryEntry]] | str:
    """Current heads and history, or the reason the database could not be read."""
    from distill.runtime.database import connect
    from distill.runtime.migrate import tables_for

    try:
        tables = tables_for(project.config)
        with connect(project.database) as conn:
            return tables.heads(conn), tables.history_entries(conn)
    except DistillError as error:  # no URL, unreachable: the graph is still worth showing
        return str(error)


def catalog_facts(project: Project) -> CatalogFacts:
    """The tables' row estimates and the unvalidated CHECKs, from the catalog; none for
    a SQLite file not made yet (connecting would create it)."""
    from distill.runtime.database import connect
    from distill.runtime.quickread import sqlite_file_missing
    from distill.schema.catalog_facts import CatalogFacts
    from distill.schema.catalog_facts import catalog_facts as read

    if sqlite_file_missing(project.config.require_url()):
        return CatalogFacts()
    with connect(project.engine) as conn:
        return read(conn)
