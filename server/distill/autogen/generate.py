"""Autogenerate and check: the three schemas of a project, and what separates them.

- the models: the project's MetaData, as ``create_all`` would build it;
- the migrations: what the revision scripts build, by symbolic replay (no
  database needed), or on a scratch database when replay cannot be exact;
- the database: the live schema, by reflection.

A revision is the difference models minus migrations, so it can be written
with no database at all, or with a database that is behind.
"""

from __future__ import annotations

import fnmatch
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from distill.autogen.build import sa_type
from distill.autogen.compare import Change, Options, compare
from distill.caches import cache_for
from distill.config import Config
from distill.errors import ConfigError, DistillError, MigrationFailed
from distill.ops.base import Op, TableChange
from distill.replay.cache import FOLDER
from distill.schema.from_metadata import schema_from_metadata
from distill.schema.model import Column, Schema
from distill.scripts.graph import RevisionGraph
from distill.scripts.plans import upgrade_steps
from distill.scripts.resolve import resolve
from distill.scripts.user_metadata import (
    import_project_module,
    load_metadata,
    naming_convention_of,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from distill.autogen.render import Bodies
    from distill.replay.cache import ReplayCache

Notify = Callable[[str], None]


def target_dialect(config: Config) -> sa.Dialect:
    """The dialect the project's URL names; no connection is made for it."""
    if not config.url:
        raise ConfigError(
            "autogenerate and check need the database URL for its dialect (types and defaults "
            "are compared as that database spells them; no connection is needed): set url in "
            f"{config.source or 'the settings'}, export DISTILL_URL, or pass --url"
        )
    from distill.runtime.database import synchronous

    url = synchronous(sa.make_url(config.url))
    dialect: sa.Dialect = url.get_dialect()()
    return dialect


def compared_schemas(config: Config) -> tuple[str | None, ...]:
    """The default schema (None) and the include_schemas setting's."""
    return (None, *config.extra.get("include_schemas", ()))


def model_schema(config: Config, dialect: sa.Dialect) -> Schema:
    remembered = config.extra.get("models_schema")  # env.py's, kept (commands.models_memo)
    if isinstance(remembered, Schema):
        return remembered
    metadata = project_metadata(config)
    return schema_from_metadata(metadata, dialect, schemas=compared_schemas(config))


def project_metadata(config: Config) -> sa.MetaData:
    """The models: an Alembic project's env.py target_metadata, else the ``metadata`` setting."""
    if config.flavour == "alembic":
        from distill.compat.alembic_env import metadata_of
        from distill.compat.env_text import ENV_PY

        metadata = metadata_of(config)
        if metadata is not None and not metadata.tables:
            # Alembic imports every revision file to read its identifiers, and a
            # history whose revisions import the models (mlflow's env.py imports only
            # their Base) has them in target_metadata that way, and only that way.
            _import_revision_files(config)
        if metadata is not None:
            return metadata
        if not config.metadata:
            raise ConfigError(
                f"{config.script_location / ENV_PY} sets no target_metadata: "
                "import your models there and set target_metadata = Base.metadata "
                f"(or set metadata = module:attribute in {config.source})"
            )
    return load_metadata(config)


def _import_revision_files(config: Config) -> None:
    from distill.scripts.script import load_module, scan_revisions, was_loaded

    for revision in scan_revisions(config.version_locations):
        if not was_loaded(revision.path):
            load_module(revision.path)


def migration_schema(
    graph: RevisionGraph, config: Config, dialect: sa.Dialect, notify: Notify, target: str = "heads"
) -> Schema:
    """What the revisions build up to ``target``: replayed symbolically, else on a scratch
    database, else — for a history that begins from tables ``create_all`` made, which
    no empty database can replay — read from the project's database when it is at
    ``target``, as Alembic always compares with the database."""
    convention = naming_convention_of(config)
    if callable(convention):
        convention = convention()
    cache = replay_cache_folder(config)
    kept = _scratch_cache(graph, config, dialect, target, cache, convention)
    # Kept too: that these very files cannot be built from an empty database (a history
    # that begins from create_all), so the database stands in without replaying again.
    no_empty_start = _scratch_cache(graph, config, dialect, target, cache, convention, "failed")
    if no_empty_start is not None and no_empty_start.complete():
        standing_in, _ = _database_at(graph, config, target)
        if standing_in is not None:
            notify(_STANDS_IN.format(target=target))
            return standing_in
    count, schema = kept.longest_prefix() if kept is not None else (0, None)
    if schema is not None and kept is not None and count == len(kept.fingerprints):
        # Kept only where the symbolic replay of these very files was not exact.
        notify("note: the migrations' schema is the one a scratch database gave for these "
               "same revision files before (a revision needs a live database)")  # fmt: skip
        return schema
    # Imported here: a run the caches answer needs none of the ops (a third of
    # what ``check`` imports).
    from distill.replay.recorder import replay

    result = replay(
        graph,
        dialect,
        target,
        cache=cache,
        naming_convention=convention,
        as_alembic=config.flavour == "alembic",
    )
    if result.exact:
        return result.schema
    notes = [f"note: replay is not exact: {reason}" for reason in result.reasons]
    notes.append("note: building the migrations' schema on a scratch database instead")
    try:
        built = _replayed_on_scratch(graph, config, target, kept)
    except MigrationFailed as failure:  # a revision failed: the same files fail again
        why = str(failure)
        if no_empty_start is not None:
            no_empty_start.store(len(no_empty_start.fingerprints), Schema(dialect.name))
    else:
        for note in notes:
            notify(note)
        return built
    standing_in, where = _database_at(graph, config, target)
    if standing_in is None:
        for note in notes:
            notify(note)
        raise MigrationFailed(
            f"the revisions cannot build their schema from an empty database ({why}); a "
            f"history that begins from tables made by create_all is compared with a "
            f"database at {target} instead, as Alembic does, but {where}"
        )
    notify(_STANDS_IN.format(target=target))
    return standing_in


_STANDS_IN = (
    "note: the revisions cannot build their schema from an empty database (a history that "
    "begins from create_all?); the database, at {target}, stands for them, as in Alembic"
)


def _scratch_cache(
    graph: RevisionGraph,
    config: Config,
    dialect: sa.Dialect,
    target: str,
    cache: Path | None,
    convention: Mapping[str, Any] | None,
    outcome: str = "built",
) -> ReplayCache | None:
    """Where the scratch database's schema is kept, like the symbolic replay's: a script
    that asks ``op.get_bind()`` forces a scratch replay, and without this, on every run."""
    if cache is None or not config.url:
        return None
    from distill.replay.cache import ReplayCache

    url = sa.make_url(config.url)
    where = (
        "sqlite " + sqlite3.sqlite_version
        if url.get_backend_name() == "sqlite"
        else (f"{url.get_backend_name()} {url.host}:{url.port}")
    )
    variant = f"scratch\0{where}\0{config.version_table}\0{config.history_table}\0{outcome}"
    steps = upgrade_steps(graph, (), target)
    return ReplayCache(cache, graph, steps, dialect, convention, variant)


def _replayed_on_scratch(
    graph: RevisionGraph, config: Config, target: str, kept: ReplayCache | None
) -> Schema:
    from distill.replay.scratch import replay_on_scratch_database

    built = replay_on_scratch_database(graph, config.require_url(), target=target, config=config)
    if kept is not None:
        kept.store(len(kept.fingerprints), built)
    return built


def _database_at(graph: RevisionGraph, config: Config, target: str) -> tuple[Schema | None, str]:
    """The project's database schema when it is at ``target``; else why it cannot serve."""
    from distill.runtime.database import connect, create_engine
    from distill.runtime.migrate import tables_for
    from distill.runtime.quickread import sqlite_file_missing

    if not config.url:
        return None, "no database URL is set (pass --url, or export DISTILL_URL)"
    if sqlite_file_missing(config.url):
        return None, "the database file does not exist"
    engine = create_engine(config.url)
    try:
        with connect(engine) as conn:
            heads = tables_for(config).heads(conn)
        if set(heads) != set(resolve(graph, target)):
            at = ", ".join(heads) or "base"
            return None, (
                f"the database is at {at}: bring it to {target} first ('distill upgrade "
                f"{target}'; for tables that create_all made, 'distill stamp {target}')"
            )
        return reflect_database(config, lambda: engine), ""
    except DistillError as error:
        return None, f"the database cannot be read: {error}"
    finally:
        engine.dispose()


def reflect_database(config: Config, engine: Callable[[], Engine | Connection]) -> Schema:
    """The live schema of the compared schemas, without Distill's own tables."""
    from distill.runtime.database import connect
    from distill.runtime.quickread import sqlite_file_missing
    from distill.schema.reflect import reflect_schema

    if sqlite_file_missing(config.require_url()):
        # Nothing to reflect, and connecting would create the file.
        return Schema(target_dialect(config).name)
    own = {config.version_table, config.history_table}
    with connect(engine()) as conn:
        return reflect_schema(
            conn, schemas=compared_schemas(config), exclude=lambda name: name in own
        )


def replay_cache_folder(config: Config) -> Path | None:
    """Where replayed schemas are kept: beside the header cache of the first versions folder."""
    if not config.version_locations:
        return None
    return cache_for(config.version_locations[0], FOLDER)


def options_for(config: Config, *, hooks: bool = True) -> Options:
    """The comparison settings; without ``hooks``, the include_object/include_name
    functions are not imported (they are project code, which the language
    server runs only in its worker)."""
    extra = config.extra
    for key in ("compare_type", "compare_server_default"):
        if key in extra and not isinstance(extra[key], bool):
            raise ConfigError(f"{config.source}: '{key}' must be true or false")
    own_tables = {config.version_table, config.history_table}
    excluded = extra.get("exclude_tables", [])
    if not isinstance(excluded, list) or not all(isinstance(g, str) for g in excluded):
        # A bare string would be taken letter by letter, and "*" excludes everything.
        raise ConfigError(
            f'{config.source}: exclude_tables must be a list of globs, e.g. ["spatial_*"]'
        )
    include_object = _hook(config, "include_object") if hooks else None
    include_name = _hook(config, "include_name") if hooks else None

    objects = _HookObjects(extra.get("target_metadata"))

    def include(kind: str, name: str | None, table: str | None, reflected: bool, item: Any) -> bool:
        if kind == "table" and (name in own_tables or any(
            fnmatch.fnmatchcase(name, glob) for glob in excluded
        )):  # fmt: skip
            return False
        # The hooks take Alembic's arguments, so existing hooks keep working.
        kind_name = _ALEMBIC_KINDS.get(kind, kind)
        parents = {"table_name": table, "schema_name": None}
        if include_name is not None and not _call(
            config, "include_name", include_name, name, kind_name, parents
        ):
            return False
        if include_object is None:
            return True
        found = objects.find(kind, name, table, reflected, item)
        return _call(config, "include_object", include_object, found, name, kind_name,
                     reflected, None)  # fmt: skip

    return Options(
        compare_type=extra.get("compare_type", True),
        # Alembic's default for an Alembic project, whose CI reads check's exit code.
        compare_server_default=extra.get("compare_server_default", config.flavour != "alembic"),
        include=include,
    )


_ALEMBIC_KINDS = {
    "unique": "unique_constraint",
    "fk": "foreign_key_constraint",
    "check": "check_constraint",
}


class _HookObjects:
    """The object include_object is given, as Alembic gives it.

    With an Alembic project's target_metadata, an item of the models is the
    SQLAlchemy object itself (``object.info`` and ``object.table`` work as the
    hook expects).  Anything else — the other side, a Distill project, an item
    not found — gets a stand-in with ``name``, ``schema``, ``info`` (empty)
    and, below a table, ``table``: Distill compares plain schema descriptions.  A
    column's stand-in has ``type`` (its SQLAlchemy type, made again as autogenerate
    makes it: hooks read ``object.type.__visit_name__``) and ``nullable`` too.
    """

    def __init__(self, metadata: object) -> None:
        self.metadata = metadata if isinstance(metadata, sa.MetaData) else None

    def find(
        self, kind: str, name: str | None, table: str | None, reflected: bool, item: Any
    ) -> object:
        found = None if reflected or self.metadata is None else self._in_models(kind, name, table)
        if found is not None:
            return found
        parent = SimpleNamespace(name=table, schema=None, info={}) if table else None
        stand_in = SimpleNamespace(name=name, schema=None, info={}, table=parent)
        if isinstance(item, Column):
            stand_in.type, stand_in.nullable = sa_type(item.type), item.nullable
        return stand_in

    def _in_models(self, kind: str, name: str | None, table: str | None) -> object:
        assert self.metadata is not None
        owner = self.metadata.tables.get(table if table is not None else name or "")
        if owner is None or kind == "table":
            return owner
        if kind == "column":
            return owner.c.get(name or "")
        if name is None:
            return None
        pool: Iterable[Any] = owner.indexes if kind == "index" else owner.constraints
        wanted = _CONSTRAINT_TYPES.get(kind, object)
        return next((i for i in pool if i.name == name and isinstance(i, wanted)), None)


_CONSTRAINT_TYPES: dict[str, type] = {
    "index": sa.Index,
    "unique": sa.UniqueConstraint,
    "fk": sa.ForeignKeyConstraint,
    "check": sa.CheckConstraint,
}


def _call(config: Config, key: str, hook: Callable[..., Any], *args: Any) -> bool:
    try:
        return bool(hook(*args))
    except Exception as error:
        raise ConfigError(
            f"the {key} hook {_hook_name(config.extra.get(key))} raised "
            f"{type(error).__name__}: {error} "
            f"(called with {args!r}; unless it comes from an Alembic project's "
            "target_metadata, the object is a stand-in with name, schema, info and table "
            "(a column's with type and nullable too), "
            "since Distill compares plain schema descriptions)"
        ) from None


def _hook_name(spec: object) -> str:
    code = getattr(spec, "__code__", None)
    if code is None:  # a "module:function" setting
        return repr(spec)
    return f"{getattr(spec, '__qualname__', '?')} ({code.co_filename}:{code.co_firstlineno})"


def _hook(config: Config, key: str) -> Callable[..., Any] | None:
    spec = config.extra.get(key)
    if spec is None or callable(spec):  # a function: an Alembic project's env.py passed it
        return spec
    module_name, _, attribute = str(spec).partition(":")
    try:
        module = import_project_module(module_name, config.root, key, config.timeout)
        hook = getattr(module, attribute)
    except (ConfigError, AttributeError) as error:
        raise ConfigError(
            f"{config.source}: {key} = {spec!r} cannot be loaded ({error}); "
            'expected "module:function"'
        ) from None
    if not callable(hook):
        raise ConfigError(f"{config.source}: {key} = {spec!r} is not a function")
    return hook  # type: ignore[no-any-return]


def _has_naming_convention(config: Config, *, models_imported: bool) -> bool:
    """Whether the models name constraints by a convention the revision will run under.

    A Distill project's convention is read from its models only when they were
    imported here anyway; the language server passes their schema instead."""
    convention = naming_convention_of(config)
    if callable(convention):
        convention = convention() if models_imported else None
    return bool(convention)


def in_batches(ops: Sequence[Op]) -> list[Op]:
    """Changes to one existing table grouped in ``op.batch_alter_table`` blocks, which
    Alembic needs on SQLite (Distill rebuilds tables by itself, batch or not)."""
    from distill.ops.batch import BatchAlterTable

    grouped: list[Op] = []
    for item in ops:
        if not isinstance(item, TableChange):
            grouped.append(item)
            continue
        last = grouped[-1] if grouped else None
        if not (
            isinstance(last, BatchAlterTable)
            and (last.table_name, last.schema) == (item.table_name, item.schema)
        ):
            last = BatchAlterTable(item.table_name, item.schema)
            grouped.append(last)
        last.ops.append(item)
    return grouped


@dataclass(frozen=True)
class Generated:
    changes: list[Change]
    bodies: Bodies
    upgrade: list[Op]  # what the bodies render
    downgrade: list[Op]


def autogenerate(
    graph: RevisionGraph,
    config: Config,
    notify: Notify,
    renames: Sequence[str] = (),
    models: Schema | None = None,
    migrations: Schema | None = None,
) -> Generated:
    """What a new revision must do so the migrations match the models.

    ``models`` and ``migrations`` (at heads) are the two schemas when the caller
    already has them: the language server builds both in a worker process, since
    building them runs the user's code (model imports, revision scripts).
    """
    # Imported here: check, which shares this module, writes no revision.
    from distill.autogen.alembic_runnable import alembic_runnable
    from distill.autogen.plan import downgrade_ops, upgrade_ops
    from distill.autogen.renames import apply_renames, possible_renames
    from distill.autogen.render import render_bodies
    from distill.ops.naming import mark_final

    dialect = target_dialect(config)
    wanted = models if models is not None else model_schema(config, dialect)
    now = migrations if migrations is not None else migration_schema(graph, config, dialect, notify)
    options = options_for(config)
    changes = apply_renames(compare(now, wanted, options), renames, wanted.dialect, options)
    ops = upgrade_ops(changes, wanted.dialect)
    down = downgrade_ops(ops)
    if _has_naming_convention(config, models_imported=models is None):
        mark_final([*ops, *down])
    if config.flavour == "alembic" and not config.extra.get("distill_only_ops"):
        ops, down = alembic_runnable(ops, dialect), alembic_runnable(down, dialect)
    if config.extra.get("render_as_batch"):  # an Alembic project's env.py asks for it
        ops, down = in_batches(ops), in_batches(down)
    bodies = render_bodies(ops, down, possible_renames(changes))
    return Generated(changes, bodies, ops, down)
