"""``distill lint``: what the pending revisions would do to the live database.

Which revisions: those not yet applied (the database is read for that, and
for its server version), every revision with ``all_revisions``, or a range
``A:B`` (what ``upgrade A:B`` would run) or one revision.  The rules run for
the project's dialect at ``target_version`` (else the connected server's, else
the newest); the transaction scope is the runner's (``transaction_per_migration``).
"""

from __future__ import annotations

from collections.abc import Callable, Set
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from distill.commands.project import Project
from distill.config import Config
from distill.errors import DistillError
from distill.lint.engine import Finding, Run, lint
from distill.lint.preflight import Problem
from distill.lint.settings import NEWEST, lint_settings
from distill.schema.catalog_facts import CatalogFacts
from distill.scripts.plans import upgrade_steps
from distill.scripts.resolve import resolve


@dataclass(frozen=True)
class Fixed:
    path: Path
    codes: tuple[str, ...]  # what the rewrite fixed there


@dataclass(frozen=True)
class LintReport:
    findings: list[Finding]
    revisions: list[str]  # the revisions read, in run order
    target: str  # e.g. "postgresql 16"

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")


def lint_project(
    project: Project,
    range_: str | None = None,
    *,
    all_revisions: bool = False,
    notify: Callable[[str], None] = lambda _: None,
) -> LintReport:
    from distill.autogen.generate import target_dialect

    config, graph = project.config, project.graph
    dialect = target_dialect(config)
    read = _DatabaseRead()
    if not all_revisions and range_ is None:
        read = _database(project, notify)
    pending = _revisions(project, range_, all_revisions, read.current)
    run = lint_run(config, dialect, read.version, read.catalog)
    findings = lint(graph, pending, run)
    return LintReport(findings, pending, target_name(dialect, run.version))


def target_name(dialect: sa.Dialect, version: tuple[int, ...]) -> str:
    """What the lint read the revisions for: "postgresql 15", "mariadb 10.11"."""
    mariadb = getattr(dialect, "is_mariadb", False) or (
        dialect.name == "mysql" and version >= (10,)
    )
    name = "mariadb" if mariadb else dialect.name  # MySQL is 5.x to 9.x, MariaDB 10 and on
    return f"{name} {'.'.join(map(str, version))}"


def lint_run(
    config: Config,
    dialect: sa.Dialect,
    server: tuple[int, ...] | None = None,
    catalog: CatalogFacts | None = None,
) -> Run:
    """What the lint knows of the upgrade the project's runner would make: the target
    server version (``target_version``, else ``server``, the connected one's, else the
    newest), its transaction scope, its lock timeout, the rules' severities, and what
    the catalog said (row estimates, unvalidated CHECKs) when the database was read."""
    from distill.runtime.migrate import commits_each_revision

    settings = lint_settings(config)
    version = settings.target_versions.get(dialect.name) or server or NEWEST[dialect.name]
    return Run(
        dialect,
        version,
        one_transaction=not commits_each_revision(config, dialect.name),
        lock_timeout=config.ddl_lock_timeout is not None,
        severities=settings.severities,
        catalog=catalog or CatalogFacts(),
    )


def fix_findings(
    project: Project,
    report: LintReport,
    notify: Callable[[str], None] = lambda _: None,
    fixes: Set[str] | None = None,
) -> list[Fixed]:
    """Rewrite each revision with findings that have a fix (of ``fixes``: default, every
    one ``--fix`` applies); a rewrite is kept only when the migrations still build the
    same schema (replayed before and after)."""
    from distill.autogen.generate import target_dialect
    from distill.files import write_atomically
    from distill.lint.fixes import AUTOMATIC, fixed
    from distill.replay.recorder import replay

    dialect = target_dialect(project.config)
    graph = project.graph
    wanted = AUTOMATIC if fixes is None else AUTOMATIC & fixes
    by_file: dict[Path, list[Finding]] = {}
    for finding in report.findings:
        if finding.fix in wanted:
            by_file.setdefault(finding.path, []).append(finding)
    if not by_file:
        return []
    expected = replay(graph, dialect).schema
    done: list[Fixed] = []
    for path, found in sorted(by_file.items()):
        text = path.read_text(encoding="utf-8")
        new = fixed(text, [(f.line, f.fix) for f in found if f.fix])
        if new == text:
            continue
        write_atomically(path, new.encode())
        if replay(graph, dialect).schema != expected:
            write_atomically(path, text.encode())
            notify(f"note: {path}: the fixes would change the schema the migrations build; "
                   "left as it was")  # fmt: skip
            continue
        done.append(Fixed(path, tuple(sorted({f.code for f in found}))))
    return done


# What ``autogenerate_safe_forms`` writes: the same schema, built without long locks.  Not
# the lock timeout: whether to give up waiting is the runner's setting (ddl_lock_timeout).
SAFE_FORMS = frozenset({"concurrent-index", "not-valid", "autocommit-block"})


def write_safe_forms(
    config: Config, path: Path, notify: Callable[[str], None] = lambda _: None
) -> tuple[str, ...]:
    """The new revision at ``path`` rewritten into its safe forms when the project's
    ``autogenerate_safe_forms`` setting asks for it; the codes rewritten."""
    if not lint_settings(config).autogenerate_safe_forms:
        return ()
    project = Project(config)  # a new graph: it holds the new revision
    try:
        rev_id = next(
            r.id for r in project.graph.revisions.values() if r.path.resolve() == path.resolve()
        )
        done = fix_findings(project, lint_project(project, rev_id), notify, SAFE_FORMS)
    except DistillError as error:  # the history does not replay: the revision stays as written
        notify(f"note: the safe forms were not written: {error}")
        return ()
    return done[0].codes if done else ()


def _revisions(
    project: Project, range_: str | None, all_revisions: bool, current: tuple[str, ...] | None
) -> list[str]:
    graph = project.graph
    if all_revisions or (range_ is None and current is None):
        return upgrade_steps(graph, (), "heads")
    if range_ is None:
        assert current is not None
        return upgrade_steps(graph, current, "heads")
    start, sep, end = range_.rpartition(":")
    if sep:
        return upgrade_steps(graph, resolve(graph, start) if start else (), end or "heads")
    return list(resolve(graph, range_))


def server_version(dialect: sa.Dialect) -> tuple[int, ...] | None:
    """The connected server's version as the lint reads it: the major on PostgreSQL (its
    minor releases change no DDL), major and minor on MariaDB/MySQL; None when the
    dialect learnt none (a SQLite file read without connecting)."""
    numbers = tuple(n for n in dialect.server_version_info or () if isinstance(n, int))
    if not numbers:
        return None
    return numbers[:1] if dialect.name == "postgresql" else numbers[:2]


@dataclass(frozen=True)
class _DatabaseRead:
    current: tuple[str, ...] | None = None  # None: the database was not read
    version: tuple[int, ...] | None = None
    catalog: CatalogFacts = field(default_factory=CatalogFacts)


def _database(project: Project, notify: Callable[[str], None]) -> _DatabaseRead:
    """The applied revisions, the server's version and what the catalog says.

    The version is what the engine learnt on connecting to read the revisions (a
    SQLite file read without a connection has none: its version does not matter)."""
    from distill.commands.project import catalog_facts, read_heads

    try:
        current = read_heads(project)
        catalog = catalog_facts(project) if current else CatalogFacts()
        return _DatabaseRead(current, server_version(project.engine.dialect), catalog)
    except DistillError as error:
        notify(f"note: the database was not read ({error}); linting every revision")
        return _DatabaseRead()
    finally:
        project.dispose()


def preflight_project(project: Project, target: str = "heads") -> list[Problem]:
    """What the rows of the database would make fail in ``upgrade target`` (read-only)."""
    from distill.autogen.generate import target_dialect
    from distill.commands.project import read_heads
    from distill.lint.preflight import preflight
    from distill.runtime.database import connect
    from distill.runtime.plan import require_known_heads

    graph = project.graph
    current = read_heads(project)
    require_known_heads(graph, current, project.config)
    pending = upgrade_steps(graph, current, target)
    if not pending:
        return []
    try:
        with connect(project.engine) as conn:
            return preflight(conn, graph, pending, target_dialect(project.config))
    finally:
        project.dispose()
