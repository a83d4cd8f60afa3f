"""One Distill project as the language server sees it: settings, caches, analysis.

``analyse`` is the whole pipeline the editor's diagnostics come from, run in a
thread (it blocks on the model worker and the database):

1. the database: its revision and, when that changes or the user saves, its
   reflected schema; an unreachable database is retried with backoff;
2. in the worker process, in one build: the models' schema from the editor's
   buffers, and the migrations' schema at head (and at the database's revision),
   by replaying the revision scripts (kept in the replay cache) — both are user
   code, which never runs in this process;
3. the three-way drift, placed on source lines; the revision files' findings.

Nothing here knows about LSP messages: ``server`` turns an ``Analysis`` into them.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from distill import commands
from distill.commands import editor, three_schemas
from distill.commands.three_schemas import Database, HandMadeMemo, ProjectDrift
from distill.config import Config, project_folder
from distill.errors import ConfigError, DistillError, ScriptError
from distill.files import FileTexts
from distill.lint.preflight import Check
from distill.lsp import drift as drifts
from distill.lsp import migration_files
from distill.lsp.model_hover import BlameLines
from distill.lsp.placement import Placed, declared_on, place
from distill.lsp.positions import Span, utf16_length
from distill.lsp.schema_blame import SchemaBlame
from distill.sandbox.client import ModelError, ModelsResult, ModelWorker
from distill.sandbox.log_mask import LOG_MASK
from distill.sandbox.protocol import LintItem
from distill.schema.catalog_facts import CatalogFacts
from distill.schema.model import Schema
from distill.scripts.graph import RevisionGraph

log = logging.getLogger("distill.lsp")

_BACKOFF = (2.0, 5.0, 15.0, 30.0, 60.0)  # seconds between tries of an unreachable database
_FRESH = 1.0  # seconds a database read stands for, unless a save or a command forces one
PREFLIGHT_TIMEOUT = 3.0  # seconds a pre-flight count may take in the editor


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None  # overrides the project's url
    timeout: float = 10.0  # for building the models in the worker
    python: str | None = None  # interpreter of the worker (default: this one)
    inlay_hints: bool = False  # a word after each model line that is not in sync
    # The client confirms downgrades and stamps itself (the VS Code extension); else
    # the server asks through window/showMessageRequest.
    client_confirms: bool = False
    # ``op.`` completes with the operations (signature, docstring), for editors whose
    # Python language server does not (the VS Code extension turns it off for Pylance).
    op_completion: bool = True


@dataclass
class DatabaseState:
    current: tuple[str, ...] | None = None  # None: not read (unreachable, no url)
    error: str | None = None
    actual: Schema | None = None  # reflected, for hand-made changes
    # revision -> sha256 of the file when it ran (None: stamped, or not recorded);
    # None when the database was not read
    applied: dict[str, str | None] | None = None
    catalog: CatalogFacts = field(default_factory=CatalogFacts)  # row estimates, ...
    version: tuple[int, ...] | None = None  # the server's, for the lint
    read_at: float = 0.0
    failures: int = 0


@dataclass(frozen=True)
class Analysis:
    placed: dict[str, list[Placed]]  # model file -> drift items on its lines
    findings: dict[str, list[migration_files.Finding]]  # revision file -> findings
    model_error: ModelError | None
    drift_count: int  # model changes no revision captures (what a new revision would hold)
    current: tuple[str, ...] | None
    heads: tuple[str, ...]
    pending: int
    database_error: str | None
    seconds: float
    hand_made_count: int = 0  # database changes made by hand: no revision would hold them


@dataclass(frozen=True)
class View:
    """What the handlers on the main loop read: made whole by the analysis thread at the end
    of each analysis and swapped in with one assignment, never changed after, so a hover or
    a lens never sees half of an analysis (the thread's own state keeps changing)."""

    analysis: Analysis | None = None  # the last one whose models built
    models: ModelsResult | None = None  # that analysis's build
    heads: Schema | None = None  # the migrations at the heads
    current: tuple[str, ...] | None = None  # the database's revisions; None: not read
    applied: Mapping[str, str | None] | None = None  # revision -> sha256 of the file that ran
    database_error: str | None = None
    rows: Mapping[str, int] = field(default_factory=dict)  # table -> the catalog's estimate


class Session:
    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.settings = settings
        self.env_url_problem: str | None = None  # why env.py gave no URL, when it did not
        self.config = self._load_config()
        self._worker: ModelWorker | None = None
        self.database = DatabaseState()
        self.view = View()
        self.last_good: Analysis | None = None
        self._last_models: ModelsResult | None = None  # of the last build that imported
        self._hand_made_memo = HandMadeMemo()
        self._lint: _LintState | None = None
        # pre-flight: what each check found, for the database at ``_counted_at``
        self._counted: dict[Check, tuple[str, ...]] = {}
        self._counted_at: tuple[str, ...] | None = None
        self._replayed: dict[str, tuple[str, Schema]] = {}  # target -> (digest, schema)
        self.files = FileTexts()
        self._blame = SchemaBlame()
        self._revision_files: (
            tuple[tuple[tuple[str, int], ...], dict[str, str], migration_files.RevisionFiles] | None
        ) = None
        self.last_error: str | None = None

    # -- settings and the parts that depend on them ----------------------------------------

    def _load_config(self) -> Config:
        # An Alembic project may name its version table in env.py, which this
        # process never runs: a plain string there is read from the text.
        config = commands.open_project(self.root, url=self.settings.database_url).config
        self.env_url_problem = None
        if config.flavour == "alembic" and not config.url:
            config = self._with_url_from_env_py(config)
        LOG_MASK.add_password_of(config.url)  # the settings' own URL: masked in the log too
        return config

    def _with_url_from_env_py(self, config: Config) -> Config:
        """The URL env.py builds from the app's settings (alembic.ini names none), read
        by a child process: this one runs no project code."""
        from distill.sandbox.env_url import url_built_by_env_py

        python = self.settings.python or sys.executable
        url, problem = url_built_by_env_py(self.root, python, self.settings.timeout)
        if problem:
            log.warning("the database URL env.py builds could not be read: %s", problem)
            self.env_url_problem = problem
        return replace(config, url=url) if url else config

    @property
    def config_file(self) -> Path | None:
        return self.config.source

    @property
    def models_file(self) -> Path | None:
        """The file of the module the metadata setting names, where model errors go
        when the error itself names no file (a hang, a crash)."""
        module = (self.config.metadata or "").partition(":")[0]
        if not module:
            return None
        base = self.config.root.joinpath(*module.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.exists():
                return candidate
        return None

    def schema_at_heads(self) -> Schema | None:
        """What the last analysis replayed at the heads (held in memory), if it did."""
        return self.view.heads

    def project(self) -> commands.Project:
        return commands.Project(self.config)

    def reload(self) -> None:
        """Settings changed on disk: read them again and start a fresh worker."""
        self.config = self._load_config()
        self.close_worker()
        self.database = DatabaseState()
        self.view = View()

    def worker(self) -> ModelWorker:
        if self._worker is None:
            if not self.config.metadata and self.config.flavour != "alembic":
                where = self.config.source
                raise DistillError(f'no metadata setting in {where}: add metadata = "module:attr"')
            if not self.config.url and self.env_url_problem:
                raise ConfigError(
                    f"no database URL: {self.config.source} names none, and env.py, which "
                    f"builds it, failed: {self.env_url_problem}; fix env.py, or set the "
                    "databaseUrl setting"
                )
            dialect, schemas = editor.worker_settings(self.config)
            self._worker = ModelWorker(
                self.config.root,
                # "": an Alembic project, whose env.py names the models (the child reads it)
                "" if self.config.flavour == "alembic" else self.config.metadata or "",
                dialect,
                schemas,
                timeout=self.settings.timeout,
                python=self.settings.python or sys.executable,
                url=self.settings.database_url,  # the worker reads the rest of the settings
            )
        return self._worker

    def close_worker(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    # -- the pipeline ------------------------------------------------------------------------

    def analyse(self, buffers: Mapping[str, str], *, refresh_database: bool = False) -> Analysis:
        started = time.perf_counter()
        project = self.project()
        graph = _graph_or_none(project)
        # First: which revisions to replay depends on the database's.
        self.read_database(project, force=refresh_database)
        targets = replay_targets(graph, self.database.current)
        known = {t: self._replayed[t][0] for t in targets if t in self._replayed}
        current, to_lint, texts = self._lint_request(graph, buffers, refresh_database)
        reachable = self.database.current is not None  # pre-flight counts its rows
        models = self.worker().build(
            _under(self.root, buffers), targets=targets, compare=True, known=known, lint=to_lint,
            lint_start=current[0] if len(current) == 1 else None, preflight=reachable,
            catalog=self.database.catalog, server_version=self.database.version,
        )  # fmt: skip
        models = self._with_known_schemas(models)
        migrations = models.migrations
        if to_lint is not None and migrations.lint is not None:
            self._lint = _LintState(current, texts, migrations.lint, migrations.preflight or ())
        findings = migration_files.findings(
            self.revision_files(buffers),
            self.database.applied,
        )
        for item in self._lint.items if self._lint is not None else ():
            findings.setdefault(item.path, []).append(self._lint_finding(item, buffers))
        for path, line, severity, message in self._preflight(project, refresh_database):
            findings.setdefault(path, []).append(
                self._line_finding(path, line, severity, "preflight.would-fail", message, buffers)
            )
        items: list[drifts.Drift] = []
        heads: tuple[str, ...] = ()
        pending = 0
        if graph is not None:
            heads = graph.heads
            found = self._drift(graph, models)
            items = drifts.editor_drift(found)
            pending = len(found.pending)
        for note in models.migrations.notes:
            log.info(note)
        placed = self._placed(items, models, buffers)
        analysis = Analysis(
            placed=placed,
            findings=findings,
            model_error=models.error,
            drift_count=sum(1 for d in items if d.pair == drifts.MODELS),
            hand_made_count=sum(1 for d in items if d.pair == drifts.HAND_MADE),
            current=self.database.current,
            heads=heads,
            pending=pending,
            database_error=self.database.error,
            seconds=time.perf_counter() - started,
        )
        if models.error is None:
            self.last_good, self._last_models = analysis, models
        self._publish()
        return analysis

    def _publish(self) -> None:
        state, held = self.database, self._replayed.get("heads")
        self.view = View(
            self.last_good, self._last_models, held[1] if held is not None else None,
            state.current, None if state.applied is None else MappingProxyType(dict(state.applied)),
            state.error, MappingProxyType(dict(state.catalog.rows)),
        )  # fmt: skip

    def model_hover(self, path: str, line: int, buffers: Mapping[str, str]) -> str | None:
        """The card for the model class or column declared on ``line`` of ``path``."""
        from distill.lsp.model_hover import DatabaseView, card

        view = self.view
        models, heads = view.models, view.heads
        if models is None or heads is None or models.changes is None:
            return None
        hit = declared_on(self.text_of(path, buffers), line)
        if hit is None:
            return None
        analysis = view.analysis
        drift = [
            p.drift.message
            for p in (analysis.placed.get(path, []) if analysis else [])
            if p.span.line == line
        ]
        database = DatabaseView(
            view.current, analysis.pending if analysis else 0, view.database_error,
            view.rows.get(hit[0]),
        )  # fmt: skip
        return card(*hit, heads, models.changes, database, drift, self._blamed(hit, buffers))

    def _blamed(self, hit: tuple[str, str | None], buffers: Mapping[str, str]) -> BlameLines:
        """Which revision created ``hit`` and which last changed it, by id and message."""
        files = self.revision_files(buffers)
        graph = files.graph
        if graph is None:
            return None
        # The texts the files were read from: no second look at the folders.
        texts = {path: file.text for path, file in files.files.items()}
        up = editor.steps(graph, (), "upgrade", "heads")
        path = [(i, str(graph.revisions[i].path)) for i in up]
        blame = self._blame.of(path, texts).get(hit)
        if blame is None:
            return None

        def named(rev_id: str | None) -> str | None:
            revision = graph.revisions.get(rev_id) if rev_id else None
            return (
                f"`{rev_id[:7]}` {revision.message or ''}".rstrip() if rev_id and revision else None
            )

        return named(blame.created), named(blame.changed)

    def text_of(self, path: str, buffers: Mapping[str, str]) -> str:
        """What the user sees of ``path``: its buffer when open ("" too), else the file."""
        buffer = buffers.get(path)
        return buffer if buffer is not None else self.files.read(path)

    def proposed_message(self) -> str | None:
        """The name a revision of the last analysis's model changes gets ("add
        customers.phone"), for the editor to propose; None when there are none."""
        models = self.view.models
        changes = models.changes if models is not None else None
        return editor.revision_name(changes) if changes else None

    def model_location(
        self, table: str, column: str | None, buffers: Mapping[str, str]
    ) -> tuple[str, Span] | None:
        """Where the models declare ``table`` (its class) or ``column`` (its attribute),
        from the last good build: placed as a drift item on them would be."""
        models = self.view.models
        if models is None:
            return None
        placed = self._placed([_probe(table, None, column)], models, buffers)
        return next(((path, p.span) for path, items in placed.items() for p in items), None)

    def _placed(
        self, items: list[drifts.Drift], models: ModelsResult, buffers: Mapping[str, str]
    ) -> dict[str, list[Placed]]:
        home = self.models_file
        return place(items, models, buffers, str(home) if home else None, self.files.read)

    def _with_known_schemas(self, models: ModelsResult) -> ModelsResult:
        """The build's replayed schemas, those it did not resend taken from the last build."""
        schemas = dict(models.migrations.schemas)
        for target, digest in models.migrations.digests.items():
            if target in schemas:
                self._replayed[target] = (digest, schemas[target])
            elif self._replayed.get(target, ("", None))[0] == digest:
                schemas[target] = self._replayed[target][1]
        return replace(models, migrations=replace(models.migrations, schemas=schemas))

    def _lint_request(
        self, graph: RevisionGraph | None, buffers: Mapping[str, str], saved: bool
    ) -> tuple[tuple[str, ...], tuple[str, ...] | None, tuple[tuple[str, str], ...]]:
        """The revisions to lint in this build: those the database has not applied (all
        when it cannot be read), and the editor's texts of those open.  Asked again only
        when something was saved or changed on disk, or a command ran (``saved``: what
        also refreshes the database), the database moved, or one of those texts changed
        (the lint as you type); None keeps the last findings: a keystroke in a model
        lints nothing."""
        current = self.database.current or ()
        if graph is None:
            return current, None, ()
        pending = tuple(editor.steps(graph, current, "upgrade", "heads"))
        paths = (str(graph.revisions[rev].path) for rev in pending if rev in graph.revisions)
        texts = tuple(sorted((path, buffers[path]) for path in paths if path in buffers))
        kept = self._lint
        if kept is not None and not saved and (kept.current, kept.texts) == (current, texts):
            return current, None, texts
        return current, pending, texts

    def _lint_finding(self, item: LintItem, buffers: Mapping[str, str]) -> migration_files.Finding:
        code = f"lint.{item.code}"
        return self._line_finding(item.path, item.line, item.severity, code, item.message,
                                  buffers, item.fix)  # fmt: skip

    def _line_finding(
        self,
        path: str,
        line: int,
        severity: str,
        code: str,
        message: str,
        buffers: Mapping[str, str],
        fix: str | None = None,
    ) -> migration_files.Finding:
        """A finding on a revision's line (1-based), from its first character to the end."""
        lines = self.text_of(path, buffers).splitlines()
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        start = len(text) - len(text.lstrip())
        span = Span(line - 1, utf16_length(text[:start]), line - 1, utf16_length(text))
        data = {"fix": fix, "line": line} if fix else {"line": line}
        return migration_files.Finding(path, span, severity, code, message, data)

    def _preflight(
        self, project: commands.Project, refresh: bool
    ) -> list[tuple[str, int, str, str]]:
        """(path, line, severity, message) of what the database's rows would make fail in
        the pending revisions.  Each count is made once per database revision: again after
        a save or a command (``refresh``: the rows may have changed), never per keystroke,
        and each query gives up after a few seconds (a large table is for the CLI)."""
        checks = self._lint.checks if self._lint is not None else ()
        current = self.database.current
        if not checks or current is None:
            return []
        if refresh or self._counted_at != current:
            self._counted.clear()
            self._counted_at = current
        missing = [check for check in checks if check.counted() not in self._counted]
        shown: list[_Shown] = []
        if missing:
            try:
                for check, messages in editor.preflight_counts(
                    project, missing, PREFLIGHT_TIMEOUT
                ).items():
                    self._counted[check.counted()] = messages
            except DistillError as error:  # not counted: said once, on the first op
                log.info("pre-flight not counted: %s", error)
                self._counted.update((check.counted(), ()) for check in missing)
                why = f"{error}; 'distill preflight' counts without a time limit"
                shown.append((missing[0].path, missing[0].line, "information", why))
        for check in checks:
            shown += [
                (check.path, check.line, "warning", f"pre-flight: {message}")
                for message in self._counted.get(check.counted(), ())
            ]
        return shown

    def _drift(self, graph: RevisionGraph, models: ModelsResult) -> ProjectDrift:
        """The three schemas' drift; of the models' and the hand-made, none while the
        models do not build (the database's standing is still shown)."""
        state = self.database
        database: Database | str = (
            Database(state.current, state.actual)
            if state.current is not None and state.actual is not None
            else state.error or "not read"
        )
        built = models.error is None
        # Database vs its own revision: the hooks are the project's code and stay
        # in the worker; exclude_tables and the compare switches still apply.
        return three_schemas.drift(
            graph,
            (models.changes or ()) if built else (),
            database,
            replayed(models, "heads") if built else None,
            lambda target: replayed(models, target),
            three_schemas.compare_options(self.config, hooks=False),
            self._hand_made_memo,
        )

    def revision_files(self, buffers: Mapping[str, str]) -> migration_files.RevisionFiles:
        """The revision files as the user sees them, read again only when a text changed.

        Every lens, hover and completion asks; the texts are the same objects until a
        file or buffer changes (``FileTexts``), so identity says nothing changed.  The
        texts are kept with the answer, so no identity is reused while it is.
        """
        texts = self.revision_texts(buffers)
        key = tuple((path, id(text)) for path, text in texts.items())
        kept = self._revision_files
        if kept is None or kept[0] != key:
            kept = self._revision_files = (key, texts, migration_files.read_revision_files(texts))
        return kept[2]

    def revision_texts(self, buffers: Mapping[str, str]) -> dict[str, str]:
        """Every revision file's text: the editor's buffer when open, else the file's."""
        texts: dict[str, str] = {}
        for folder in self.config.version_locations:
            for path in sorted(folder.glob("*.py")):
                texts[str(path)] = self.text_of(str(path), buffers)
        return texts

    # -- the database ------------------------------------------------------------------------

    def read_database(self, project: commands.Project, *, force: bool = False) -> DatabaseState:
        """The database's revision, and its schema when that changed (or when forced)."""
        state = self.database
        if not force and state.error is None and time.monotonic() - state.read_at < _FRESH:
            return state  # read a moment ago: keystrokes do not each ask the database
        if state.error is not None and not force:
            wait = _BACKOFF[min(state.failures, len(_BACKOFF)) - 1] if state.failures else 0
            if time.monotonic() - state.read_at < wait:
                return state  # still unreachable, most likely: no flood of connection attempts
        try:
            current = commands.read_heads(project)
            if force or current != state.current or state.actual is None:
                read = editor.snapshot(project, current)
                state.actual, state.applied, state.catalog = read.schema, read.applied, read.catalog
                state.version = read.version
            state.current, state.error, state.failures = current, None, 0
        except DistillError as error:
            if state.error is None:
                log.warning("database not compared: %s", error)
            state.current, state.actual, state.error = None, None, str(error)
            state.applied = None
            state.failures += 1
        finally:
            state.read_at = time.monotonic()
            project.dispose()
        return state

    def close(self) -> None:
        self.close_worker()


def replay_targets(graph: RevisionGraph | None, current: tuple[str, ...] | None) -> tuple[str, ...]:
    """What the worker replays: the heads and, for a database elsewhere, its one revision."""
    if graph is None:
        return ()
    single = current[0] if current and len(current) == 1 else ""
    if single in graph.revisions and (single,) != graph.heads:
        return ("heads", single)
    return ("heads",)


def replayed(models: ModelsResult, target: str) -> Schema:
    """The worker's replay of ``target``; a script that failed or hung is a user error."""
    error = models.migrations.error
    if error is not None:
        raise (ConfigError if error.kind == "config" else ScriptError)(error.message)
    schema = models.migrations.schemas.get(target)
    if schema is None:  # it was not asked for: a bug of ours
        raise RuntimeError(f"the model worker did not replay {target!r}")
    return schema


def find_project_root(folder: Path) -> Path | None:
    """The folder of the Distill (or Alembic) settings that apply to ``folder``, if any."""
    return project_folder(folder)


def _probe(table: str, schema: str | None, column: str | None) -> drifts.Drift:
    """A drift item placed only to find where the models declare a table or column."""
    target = "column" if column else "table"
    return drifts.Drift("probe", drifts.MODELS, "", table=table, schema=schema, column=column,
                        target=target)  # fmt: skip


def _graph_or_none(project: commands.Project) -> RevisionGraph | None:
    try:
        return project.graph
    except DistillError as error:  # duplicate ids, cycles: the revision files say where
        log.info("revision graph not usable: %s", error)
        return None


_Shown = tuple[str, int, str, str]  # path, line (1-based), severity, message


@dataclass(frozen=True)
class _LintState:
    """The editor's last lint: the database's revisions and the unsaved texts it read."""

    current: tuple[str, ...]
    texts: tuple[tuple[str, str], ...]  # (path, text) of the pending revisions open
    items: tuple[LintItem, ...]
    checks: tuple[Check, ...] = ()  # pre-flight counts to make, when a database is there


def _under(root: Path, buffers: Mapping[str, str]) -> dict[str, str]:
    prefix = str(root)
    return {path: text for path, text in buffers.items() if path.startswith(prefix)}
