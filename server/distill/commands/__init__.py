"""The Python API of every Distill command.

The CLI and the language server both call these functions and format what
they return; nothing here prints or reads argv.  Progress and notices go
through the callables the caller passes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from distill.commands.project import EnvMode, Project, open_project
from distill.commands.project import database_state as database_state
from distill.commands.project import read_heads as read_heads
from distill.errors import ConfigError, DatabaseError, DistillError, RevisionError, ScriptError
from distill.masking import mask_url
from distill.runtime.plan import (
    Direction,
    OnProgress,
    Progress,
    RunResult,
    Step,
    require_known_heads,
)
from distill.scripts.graph import RevisionGraph
from distill.scripts.plans import downgrade_steps, heads_after_stamp, upgrade_steps
from distill.scripts.resolve import resolve, revisions_in_range
from distill.scripts.script import Revision, scan_revisions

# The runtime needs SQLAlchemy and authoring needs tempfile, shutil and
# importlib.resources: graph-only commands (heads, history) load neither.
if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

    from distill import authoring
    from distill.commands.three_schemas import Report as CheckReport
    from distill.runtime.version import HistoryEntry
    from distill.schema.model import Schema
    from distill.scripts.writing import RevisionTemplate

__all__ = [
    "BaselineResult",
    "EnvMode",
    "Progress",
    "Project",
    "RunResult",
    "Step",
    "baseline",
    "branches",
    "check",
    "current",
    "downgrade",
    "heads",
    "history",
    "init",
    "keep_database_change",
    "merge",
    "open_project",
    "revision",
    "show",
    "stamp",
    "upgrade",
]

Write = Callable[[str], None]


def _ignore(_: str) -> None:
    pass


# -- migrating -------------------------------------------------------------------


def upgrade(
    project: Project,
    target: str,
    *,
    sql: Write | None = None,
    notify: Write = _ignore,
    progress: OnProgress | None = None,
) -> RunResult | None:
    """Apply revisions up to ``target``; with ``sql``, write their SQL instead."""
    return _migrate(project, target, "upgrade", sql, notify, progress)


def downgrade(
    project: Project,
    target: str,
    *,
    sql: Write | None = None,
    notify: Write = _ignore,
    progress: OnProgress | None = None,
) -> RunResult | None:
    """Revert revisions down to ``target``; with ``sql``, write their SQL instead."""
    if sql is not None and ":" not in target:
        raise RevisionError(
            f"downgrade --sql needs a range FROM:TO, e.g. 'head:{target}', "
            "because no database is read to find where it starts"
        )
    return _migrate(project, target, "downgrade", sql, notify, progress)


def _migrate(
    project: Project,
    target: str,
    direction: Direction,
    sql: Write | None,
    notify: Write,
    progress: OnProgress | None,
) -> RunResult | None:
    from distill.runtime import migrate

    find_steps = upgrade_steps if direction == "upgrade" else downgrade_steps

    def plan(graph: RevisionGraph, current_heads: tuple[str, ...], goal: str) -> list[Step]:
        return [Step(graph.revisions[i], direction) for i in find_steps(graph, current_heads, goal)]

    if sql is not None:
        # Offline there is no database to ask where it stands: FROM:TO says it.
        graph = project.graph
        start, _, end = target.rpartition(":")
        start_heads = resolve(graph, start) if start else ()
        steps = plan(graph, start_heads, end)
        if direction == "upgrade" and not steps:
            _refuse_reversed_range(graph, target, start_heads, end)
        migrate.run_offline(
            _offline_dialect(project), project.config, graph, steps, start_heads, sql
        )
        return None

    # Online the graph is read once env.py runs: it may choose the versions folders.
    def plan_online(current_heads: tuple[str, ...]) -> list[Step]:
        require_known_heads(project.graph, current_heads, project.config)
        return plan(project.graph, current_heads, target)

    return project.migrate_database(
        lambda database: migrate.run_online(
            database, project.config, project.graph, plan_online, notify=notify, progress=progress
        ),
        notify,
    )


def _refuse_reversed_range(
    graph: RevisionGraph, target: str, start_heads: tuple[str, ...], end: str
) -> None:
    """``upgrade B:A --sql`` with A below B would write nothing: say so (Alembic stays silent)."""
    below = graph.applied(resolve(graph, end, start_heads))
    if below < graph.applied(start_heads):
        start, _, _ = target.rpartition(":")
        raise RevisionError(
            f"upgrade --sql range {target!r} goes down: {end} is below {start}, so there is "
            f"nothing to upgrade; write 'distill upgrade {end}:{start} --sql' to go up, or "
            f"'distill downgrade {target} --sql' to go down"
        )


def _offline_dialect(project: Project) -> Dialect:
    import sqlalchemy as sa

    from distill.runtime.database import synchronous

    url = synchronous(sa.make_url(project.config.require_url()))
    try:
        return url.get_dialect()()
    except sa.exc.NoSuchModuleError:
        raise ConfigError(f"{mask_url(url)}: unknown database dialect {url.drivername!r}") from None


# -- reading the database ----------------------------------------------------------


@dataclass(frozen=True)
class CurrentRevision:
    id: str
    is_head: bool
    revision: Revision | None


def current(project: Project) -> list[CurrentRevision]:
    heads = read_heads(project)
    graph = project.graph
    require_known_heads(graph, heads, project.config)
    # As Alembic shows it: a revision that is applied only as another's
    # depends_on is current too, at the top of its own branch.
    tips = graph.applied_tips(heads)
    return [CurrentRevision(h, h in graph.heads, graph.revisions.get(h)) for h in tips]


# -- stamping ---------------------------------------------------------------------


def stamp(
    project: Project,
    target: str,
    *,
    purge: bool = False,
    sql: Write | None = None,
    notify: Write = _ignore,
) -> RunResult | None:
    """Set the version rows to ``target`` without running any revision."""
    from distill.runtime import migrate

    start, _, end = target.rpartition(":")
    if sql is None:
        # An identifier stamp refuses fails before any connection, unless env.py
        # chooses the versions folders: the revisions are known once it has run.
        from distill.compat.env_text import chooses_versions_folders

        if not (project.inside_env_py and chooses_versions_folders(project.config)):
            heads_after_stamp(project.graph, (), end)

        def new_heads(before: tuple[str, ...]) -> frozenset[str]:
            return heads_after_stamp(project.graph, before, end, purge=purge)

        return project.migrate_database(
            lambda database: migrate.run_stamp(database, project.config, new_heads, notify=notify),
            notify,
        )
    graph = project.graph
    before = resolve(graph, start) if start else ()
    after = heads_after_stamp(graph, before, end, purge=purge)
    migrate.stamp_offline(_offline_dialect(project), project.config, before, after, sql)
    return None


# -- reading the graph --------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    revision: Revision
    is_head: bool
    is_current: bool
    is_branch_point: bool
    applied: HistoryEntry | None  # its history row, when the database keeps one
    is_applied: bool = False  # at or below the database's revisions


def history(
    project: Project,
    range_: str | None = None,
    *,
    indicate_current: bool = False,
    with_applied: bool = False,
) -> tuple[list[HistoryLine], str | None]:
    """Revisions newest first; plus why the database was not read, if it wasn't."""
    graph = project.graph
    current_heads: tuple[str, ...] = ()
    entries: list[HistoryEntry] = []
    problem = None
    needs_current = range_needs_current(range_)
    if indicate_current or with_applied or needs_current:
        state = database_state(project)
        if isinstance(state, str):
            if needs_current:  # without the database the range would be wrong
                raise DatabaseError(f"history -r {range_} needs the database: {state}")
            problem = state
        else:
            current_heads, entries = state
    latest = last_applied(entries)
    applied_set: set[str] = set()
    for head in current_heads:
        if head in graph.revisions:
            applied_set |= graph.ancestors(head) | {head}
    branch_points = set(graph.branch_points())
    lines = [
        HistoryLine(
            revision=rev,
            is_head=rev.id in graph.heads,
            is_current=rev.id in current_heads,
            is_branch_point=rev.id in branch_points,
            applied=latest.get(rev.id) if rev.id in applied_set else None,
            is_applied=rev.id in applied_set,
        )
        for rev in revisions_in_range(graph, range_, current_heads)
    ]
    return lines, problem


# "current", or a side of the range that steps from it: -3:, :+2, branch@-1
_RELATIVE_TO_CURRENT = re.compile(r"current|(?:^|:|@)[+-]\d")


def range_needs_current(range_: str | None) -> bool:
    """Whether a history range can only be read with the database's revisions."""
    return bool(range_ and _RELATIVE_TO_CURRENT.search(range_))


def last_applied(entries: Sequence[HistoryEntry]) -> dict[str, HistoryEntry]:
    """The latest upgrade or stamp of each revision in the history, by revision."""
    latest: dict[str, HistoryEntry] = {}
    for entry in entries:  # oldest first, so later runs win
        if entry.direction in ("upgrade", "stamp") and entry.status == "done":
            latest[entry.revision] = entry
    return latest


def heads(project: Project) -> list[Revision]:
    graph = project.graph
    return [graph.revisions[h] for h in graph.heads]


def branches(project: Project) -> list[tuple[Revision, list[Revision]]]:
    """Each branch point with the revisions that branch off it."""
    graph = project.graph
    return [
        (graph.revisions[point], [graph.revisions[c] for c in graph.children(point)])
        for point in graph.branch_points()
    ]


def show(project: Project, identifier: str) -> list[Revision]:
    graph = project.graph
    return [graph.revisions[i] for i in resolve(graph, identifier)]


# -- writing files ----------------------------------------------------------------------


def init(directory: Path, cwd: Path, url: str | None = None) -> authoring.InitResult:
    from distill import authoring

    return authoring.init(directory, cwd, url)


def revision_template(project: Project) -> RevisionTemplate:
    """The project's template: script.py.tmpl, an Alembic project's script.py.mako,
    or Distill's own."""
    from distill import authoring
    from distill.scripts.writing import RevisionTemplate

    config = project.config
    mako = config.script_location / "script.py.mako"
    if config.flavour == "alembic" and mako.is_file():
        return RevisionTemplate(_read_template(mako), str(mako), mako=True)
    if config.template_path.is_file():
        path = config.template_path
        return RevisionTemplate(_read_template(path), str(path))
    return RevisionTemplate(authoring.default_template(), "Distill's default template")


def _read_template(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScriptError(f"{path}: cannot be read as UTF-8 text ({error}); fix the file") from None


def revision(
    project: Project,
    spec: authoring.NewRevision,
    *,
    autogenerate: bool = False,
    renames: Sequence[str] = (),
    notify: Write = _ignore,
    models: Schema | None = None,
    migrations: Schema | None = None,
) -> Path | None:
    """Write a new revision; with ``autogenerate``, filled with what the models changed.

    ``models``: the models' schema when already built (else the models are imported here);
    ``migrations``: the schema the revisions build at heads, when already replayed
    (else the revision scripts are replayed here).  None: env.py's
    ``process_revision_directives`` asked for no revision.
    """
    from distill import authoring

    config = project.config
    template = revision_template(project)
    if not autogenerate:
        return authoring.revision(
            project.graph, config.version_locations, template, config.file_template, spec
        )
    from distill.autogen.generate import autogenerate as generate
    from distill.autogen.postwrite import format_revision

    generated = generate(project.graph, config, notify, renames, models, migrations)
    if not spec.message:
        from distill.autogen.revision_name import revision_name

        spec = replace(spec, message=revision_name(generated.changes))
    bodies = generated.bodies
    spec = replace(spec, upgrades=bodies.upgrades, downgrades=bodies.downgrades,
                   imports=bodies.imports)  # fmt: skip
    hook = config.extra.get("process_revision_directives")
    if callable(hook):
        from distill.commands.revision_hook import directed as hook_directed

        directed = hook_directed(project, spec, generated, hook)
        if directed is None:
            skipped = "env.py's process_revision_directives asked for no revision"
            notify(f"No changes between the models and the migrations; {skipped}"
                   if not generated.changes else f"No revision written: {skipped}")  # fmt: skip
            return None
        spec = directed
    if not generated.changes:
        notify("No changes between the models and the migrations; the revision is empty")
    path = authoring.revision(
        project.graph, config.version_locations, template, config.file_template, spec
    )
    format_revision(path, config, notify)
    from distill.commands.lint import write_safe_forms

    safe = write_safe_forms(config, path, notify)
    if safe:
        format_revision(path, config, notify)
        notify(f"Wrote the safe forms ({', '.join(safe)}), as autogenerate_safe_forms asks")
    if config.flavour == "alembic":
        _warn_distill_only(path, bodies.upgrades + bodies.downgrades, notify)
    return path


# Operations Distill has and Alembic does not (PostgreSQL enum types).
_DISTILL_ONLY = re.compile(
    r"\bop\.(create_enum_type|drop_enum_type|add_enum_value|recreate_enum_type)\("
)


def keep_database_change(
    project: Project, spec: authoring.NewRevision, *, models: Schema, migrations: Schema
) -> Path:
    """The revision of what the database has beyond its head, written when the models
    (``models``, already built) have exactly that too; else a one-line refusal saying
    what differs.  The caller stamps it, so nothing runs on the database."""
    from distill.autogen.compare import compare
    from distill.autogen.generate import options_for, reflect_database

    graph = project.graph
    current = read_heads(project)
    if set(current) != set(graph.heads):
        raise DistillError(
            f"the database is at {', '.join(current) or 'base'}, not at head: upgrade it "
            "first, then keep the change made by hand"
        )
    options = options_for(project.config, hooks=False)
    actual = reflect_database(project.config, lambda: project.engine)
    differs = compare(actual, models, options)
    if differs:
        raise DistillError(
            f"the models and the database differ ({differs[0].describe('database', 'models')}"
            f"{f' and {len(differs) - 1} more' if len(differs) > 1 else ''}): a revision of the "
            "models would not keep the database as it is; change the models to match, or "
            "generate a revision and upgrade"
        )
    path = revision(project, spec, autogenerate=True, models=models, migrations=migrations)
    return _written(path, "the database change was not kept")


def _written(path: Path | None, so: str) -> Path:
    if path is None:
        raise ScriptError(
            f"env.py's process_revision_directives asked for no revision, so {so}; let the "
            "hook write revisions that have operations"
        )
    return path


def _warn_distill_only(path: Path, text: str, notify: Write) -> None:
    used = sorted(set(_DISTILL_ONLY.findall(text)))
    if used:
        names = ", ".join(f"op.{name}" for name in used)
        notify(
            f"warning: {path.name} uses {names}, which Alembic does not have: "
            "only Distill can run this revision"
        )


@dataclass(frozen=True)
class BaselineResult:
    revision: str
    path: Path | None  # the revision written; None when the revisions already existed
    before: tuple[str, ...]  # the version rows before (empty: stamped now)
    tables: int


def baseline(
    project: Project, spec: authoring.NewRevision, *, notify: Write = _ignore
) -> BaselineResult:
    """Adopt a database made without migrations (see ``autogen.baseline``).

    With no revisions: write a first revision from the models, check that it
    rebuilds the database exactly, and stamp the database at it.  With
    revisions: stamp a database with no version rows that is what they build.
    A database already at the heads is left as it is.
    """
    from distill.autogen import baseline as adoption
    from distill.autogen.generate import (
        migration_schema,
        model_schema,
        options_for,
        reflect_database,
        target_dialect,
    )
    from distill.masking import mask_url
    from distill.runtime import migrate

    config, graph = project.config, project.graph
    url = mask_url(config.require_url())
    current_heads = read_heads(project)
    require_known_heads(graph, current_heads, config)
    if current_heads:
        if set(current_heads) == set(graph.heads):
            head = ", ".join(current_heads)
            return BaselineResult(head, None, current_heads, 0)
        raise RevisionError(
            f"the database {url} is at {', '.join(current_heads)}, not at the heads: it is "
            "migrated already, so there is nothing to adopt; run 'distill upgrade head'"
        )
    dialect = target_dialect(config)
    options = options_for(config)
    database = reflect_database(config, lambda: project.engine)
    if graph.revisions:
        heads = tuple(graph.heads)
        built = migration_schema(graph, config, dialect, notify)
        adoption.require_revisions_match(database, built, options, url, heads)
        result = migrate.run_stamp(project.engine, config, lambda _: frozenset(heads),
                                   notify=notify)  # fmt: skip
        return BaselineResult(", ".join(heads), None, result.before, len(database.tables))
    models = model_schema(config, dialect)
    adoption.require_models_match(database, models, options, url)
    path = _written(
        revision(project, spec, autogenerate=True, notify=notify, models=models,
                 migrations=adoption.empty_like(models)),
        "nothing was adopted or stamped",
    )  # fmt: skip
    try:
        written = RevisionGraph(scan_revisions(config.version_locations))
        [rev_id] = written.heads
        rebuilt = migration_schema(written, config, dialect, notify)
        missing = adoption.rebuilt_differences(database, rebuilt, options)
        if missing:
            raise adoption.NotAdoptable(
                f"the revision made from the models does not rebuild the database {url} "
                f"exactly: {missing}; nothing was kept or stamped"
            )
        result = migrate.run_stamp(project.engine, config, lambda _: frozenset({rev_id}),
                                   notify=notify)  # fmt: skip
    except BaseException:
        path.unlink(missing_ok=True)  # nothing half-done: no revision without its stamp
        raise
    return BaselineResult(rev_id, path, result.before, len(database.tables))


def check(project: Project, *, notify: Write = _ignore) -> CheckReport:
    """Compare models, migrations and database; see ``commands.three_schemas``."""
    from distill.commands.three_schemas import check as run_check

    def compare_all(_: object = None) -> CheckReport:
        return run_check(
            project.graph,
            project.config,
            notify,
            lambda: read_heads(project),
            lambda: project.database,
        )

    # In an Alembic project, inside env.py as Alembic compares (its SET search_path
    # applies); a database env.py cannot reach is reported, the rest still compared.
    if not (project.inside_env_py and project.models_memo):
        return project.migrate_database(compare_all, notify, unreachable=compare_all)
    from distill.commands import models_memo
    from distill.commands.project import remember_models

    with models_memo.recording(project.config) as recorded:
        report = project.migrate_database(compare_all, notify, unreachable=compare_all)
    if project.inside_env_py:  # env.py connected: its online settings, not the offline ones
        remember_models(recorded, project.config)
    return report


def merge(project: Project, revisions: Sequence[str], spec: authoring.NewRevision) -> Path:
    from distill import authoring

    config = project.config
    return authoring.merge(
        project.graph,
        config.version_locations,
        revision_template(project),
        config.file_template,
        revisions,
        spec,
    )
