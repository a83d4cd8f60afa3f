"""Linting revisions: replay them with an ``op`` that records, read each op with the
schema before it, and report what the rules find on the line that called it.

The revisions already applied are replayed first: the tables they leave are
the live ones, with traffic to block.  Then each revision of the run is
recorded op by op, and the rules (``rules``) read every op with the facts of
the run.  A ``# distill: ignore[code]`` comment on a line of the call
suppresses that code there; one that suppresses nothing is a finding itself.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import sqlalchemy as sa

from distill.ddl.context import NamingConvention
from distill.lint.fixes import AUTOMATIC
from distill.lint.locks import ACCESS_EXCLUSIVE, SHARE, TableLock, postgresql_locks
from distill.lint.rules import RULES, Facts, Hit, check_op, table_of
from distill.lint.sql import ops_of_sql
from distill.ops.base import Op
from distill.ops.batch import BatchAlterTable
from distill.ops.constraint import CreateCheck, CreateForeignKey, DropConstraint
from distill.ops.data import Execute
from distill.ops.table import CreateTable, DropTable, RenameTable
from distill.replay.recorder import RecordedOp, Recorder
from distill.schema.catalog_facts import CatalogFacts
from distill.schema.model import Schema
from distill.scripts.graph import RevisionGraph
from distill.scripts.plans import upgrade_steps
from distill.scripts.script import Revision

SEVERITIES = ("off", "information", "warning", "error")
_IGNORE = re.compile(r"#\s*distill:\s*ignore\[([^\]]*)\]")
_LOCK_TIMEOUT = re.compile(r"^\s*SET\s+(SESSION\s+|LOCAL\s+)?lock_timeout\b", re.IGNORECASE)
_VALIDATE = re.compile(r"\bVALIDATE\s+CONSTRAINT\s+\"?(\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # "error" | "warning" | "information"
    path: Path
    line: int  # 1-based
    message: str
    revision: str
    fix: str | None = None  # the rewrite that fixes it, when there is one

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "file": str(self.path),
            "line": self.line,
            "message": self.message,
            "revision": self.revision,
            "fix": self.fix in AUTOMATIC,  # what ``distill lint --fix`` rewrites
        }


@dataclass(frozen=True)
class Run:
    """What the lint knows of the upgrade it reads."""

    dialect: sa.Dialect
    version: tuple[int, ...]  # the server's version: (major,) on PostgreSQL, (10, 11)
    one_transaction: bool  # the whole upgrade in one transaction (Alembic's default)
    lock_timeout: bool = False  # the runner sets one for each revision
    severities: Mapping[str, str] | None = None  # code -> "off" | ... | "error"
    naming_convention: NamingConvention | None = None
    catalog: CatalogFacts = field(default_factory=CatalogFacts)  # when the database was read


def lint(
    graph: RevisionGraph,
    pending: Sequence[str],
    run: Run,
    start: Schema | None = None,
    sources: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Findings on ``pending`` (revision ids in run order); the rest of the graph up to them
    counts as applied: replayed first, or given as ``start`` (the schema it builds, e.g.
    from the replay cache, which the editor reuses).  ``sources`` holds revision files'
    unsaved texts (path -> text), linted in place of the files."""
    replayed = recorded_run(graph, pending, run.dialect, start, run.naming_convention, sources)
    return lint_recorded(replayed, run, sources)


# The applied revisions' schema, and each pending revision with its ops and the schema after.
RecordedRun = tuple[Schema, list[tuple[Revision, list[RecordedOp], Schema]]]


def lint_recorded(
    replayed: RecordedRun, run: Run, sources: Mapping[str, str] | None = None
) -> list[Finding]:
    """Findings on a run ``recorded_run`` recorded (shared with the pre-flight plan, so
    the editor replays the pending revisions once for both)."""
    applied, revisions = replayed
    live = {table.key for table in applied.tables}
    # What the database holds NOT VALID now, applied revisions' checks included.
    unvalidated = run.catalog.unvalidated_checks
    findings: list[Finding] = []
    for count, (revision, recorded, after) in enumerate(revisions):
        checks, unvalidated = _unvalidated_checks(recorded, unvalidated)
        hits = _revision_hits(recorded, checks, after, live, run, len(revisions) - count - 1)
        possible = _possible(recorded, checks, run)
        text = (sources or {}).get(str(revision.path))
        findings += _reported(revision, text, hits, run.severities or {}, possible)
    return findings


def _unvalidated_checks(
    recorded: list[RecordedOp], before: frozenset[str]
) -> tuple[list[frozenset[str]], frozenset[str]]:
    """The CHECKs added NOT VALID and not validated yet: before each op, and after the last."""
    sets = [before]
    for item in recorded:
        now = set(sets[-1])
        op = item.op
        if isinstance(op, CreateCheck) and op.kw.get("postgresql_not_valid") and op.name:
            now.add(str(op.name))
        elif isinstance(op, DropConstraint):
            now.discard(str(op.name))
        elif isinstance(op, Execute):
            now -= set(_VALIDATE.findall(str(op.sqltext)))
        sets.append(frozenset(now))
    return sets[:-1], sets[-1]


def recorded_run(
    graph: RevisionGraph,
    pending: Sequence[str],
    dialect: sa.Dialect,
    start: Schema | None = None,
    naming_convention: NamingConvention | None = None,
    sources: Mapping[str, str] | None = None,
) -> RecordedRun:
    """The schema the applied revisions build (replayed, or ``start``), and each pending
    revision with the ops it recorded and the schema after it."""
    wanted = set(pending)
    recorder = Recorder(dialect, start, naming_convention=naming_convention, sources=sources)
    if start is None:
        for rev_id in upgrade_steps(graph, (), "heads"):
            if rev_id not in wanted:
                recorder.run(graph.revisions[rev_id])
    applied = recorder.schema
    seen: list[RecordedOp] = []
    recorder.observe = seen.append
    revisions = []
    for rev_id in pending:
        recorder.run(graph.revisions[rev_id])
        revisions.append((graph.revisions[rev_id], list(seen), recorder.schema))
        seen.clear()
    return applied, revisions


def _revision_hits(
    recorded: list[RecordedOp],
    unvalidated: list[frozenset[str]],
    after: Schema,
    live: set[tuple[str | None, str]],
    run: Run,
    later: int,
) -> list[tuple[int, Hit]]:
    """(line, hit) of every op of one revision, then the revision-wide rules."""
    dialect = run.dialect.name
    hits: list[tuple[int, Hit]] = []
    timeouts = _Timeouts(run.lock_timeout)
    blocking: list[tuple[int, TableLock, bool]] = []  # (line, lock, a lock timeout holds)
    for item, checks in zip(recorded, unvalidated, strict=True):
        line = item.line or 1
        timeouts.read(item)
        for op in _each(item.op, dialect):
            facts = _facts(item, op, run, frozenset(live), checks)
            table = table_of(op) or (facts.locks[0].table if facts.locks else None)
            found = [_sized(hit, table, run.catalog.rows) for hit in check_op(op, facts)]
            hits += [(line, _in_sql(hit) if item.op is not op else hit) for hit in found]
            blocking += [
                (line, lock, timeouts.held)
                for lock in facts.locks
                if lock.mode in (ACCESS_EXCLUSIVE, SHARE)
                and (None, lock.table) in live
                and not item.in_autocommit_block
            ]
            _follow_tables(op, live)
        for line_, fk in _foreign_keys(item.op, line):
            if dialect == "postgresql" and not _indexed(after, fk):
                hits.append(
                    (
                        line_,
                        Hit(
                            "foreign-key-without-index",
                            f"no index on {fk.table_name}({', '.join(fk.local_cols)}): "
                            f"a delete or key update on {fk.referent_table} scans "
                            f"{fk.table_name}; add one",
                        ),
                    )
                )
    if dialect != "postgresql" or not blocking:
        return hits
    line, lock, _ = blocking[0]
    if run.one_transaction and later:
        held = Hit(
            "locks-held-across-revisions",
            f"{lock.name} on {lock.table} is held until the end of the upgrade "
            f"transaction ({later} more revision{'s' if later > 1 else ''}); "
            "set transaction_per_migration, or split the upgrade",
        )
        hits.append((line, _sized(held, lock.table, run.catalog.rows)))
    unguarded = [(n, held) for n, held, guarded in blocking if not guarded]
    exclusive = next((pair for pair in unguarded if pair[1].mode == ACCESS_EXCLUSIVE), None)
    if exclusive is not None:
        at, strongest = exclusive
        waits = Hit(
            "no-lock-timeout",
            f"ACCESS EXCLUSIVE on {strongest.table} with no lock timeout: "
            "behind a long query it queues every query on the table; "
            "op.execute(\"SET LOCAL lock_timeout = '5s'\") first",
        )
        hits.append((at, _sized(waits, strongest.table, run.catalog.rows)))
    return hits


# Findings about what an op costs a live table: the table's size says how much.
_UNSIZED = {"drop-column", "drop-table", "rename-column", "rename-table", "unused-ignore",
            "concurrently-in-transaction", "enum-value-in-transaction",
            "concurrent-index-may-be-invalid"}  # fmt: skip


def _sized(hit: Hit, table: str | None, rows: Mapping[str, int]) -> Hit:
    """``hit`` with the table's estimated rows, when the database was read."""
    if hit.code in _UNSIZED or table is None or table not in rows:
        return hit
    count = rows[table]
    return replace(hit, message=f"{hit.message} ({table}: about {count:,} rows, the catalog's "
                                "estimate)")  # fmt: skip


class _Timeouts:
    """Whether a lock timeout holds at each op of a revision.

    ``SET lock_timeout`` holds for the rest of the connection; ``SET LOCAL`` until
    its transaction ends, which an ``autocommit_block()`` does, on entering (it
    commits) and on leaving (a new one begins).  The runner's own timeout
    (``ddl_lock_timeout``) is set again each time a transaction begins."""

    def __init__(self, runner: bool) -> None:
        self.runner = runner
        self.session = False
        self.local = False
        self.in_block = False

    def read(self, item: RecordedOp) -> None:
        if item.in_autocommit_block != self.in_block:
            self.in_block = item.in_autocommit_block
            self.local = False
        if isinstance(item.op, Execute):
            found = _LOCK_TIMEOUT.match(str(item.op.sqltext))
            if found and (found.group(1) or "").strip().upper() == "LOCAL":
                self.local = not self.in_block  # outside a transaction it does nothing
            elif found:
                self.session = True

    @property
    def held(self) -> bool:
        return self.session or self.local or (self.runner and not self.in_block)


def _possible(
    recorded: list[RecordedOp], unvalidated: list[frozenset[str]], run: Run
) -> dict[int, set[str]]:
    """Line -> the codes its call would get on live tables: an ignore written for
    those is not unused when this run's tables happen to be new (``--all``)."""
    possible: dict[int, set[str]] = {}
    for item, checks in zip(recorded, unvalidated, strict=True):
        everything = frozenset(t.key for t in item.before.tables)
        for op in _each(item.op, run.dialect.name):
            for hit in check_op(op, _facts(item, op, run, everything, checks)):
                possible.setdefault(item.line or 1, set()).add(hit.code)
    return possible


def _facts(
    item: RecordedOp,
    op: Op,
    run: Run,
    existing: frozenset[tuple[str | None, str]],
    unvalidated: frozenset[str],
) -> Facts:
    """What the rules read of ``op``: the run's facts, and its locks (PostgreSQL)."""
    dialect = run.dialect.name
    locks = (
        postgresql_locks(op, item.before, run.version, unvalidated)
        if dialect == "postgresql"
        else []
    )
    return Facts(dialect, run.version, item.before, existing, item.in_autocommit_block,
                 tuple(locks))  # fmt: skip


def _each(op: Op, dialect: str) -> list[Op]:
    """A batch's changes one by one (each is a statement on a database that has ALTER);
    the ops an ``op.execute()``'s SQL spells (PostgreSQL's)."""
    if isinstance(op, BatchAlterTable):
        return list(op.ops)
    if isinstance(op, Execute) and dialect == "postgresql":
        return [op, *ops_of_sql(op.sqltext)]
    return [op]


def _in_sql(hit: Hit) -> Hit:
    """A finding on SQL in ``op.execute()``: said so; of the rewrites, only moving the
    statement into an autocommit block applies to it."""
    fixable = RULES[hit.code].fix == "autocommit-block"
    return replace(hit, message=f"in op.execute(): {hit.message}", fixable=fixable)


def _follow_tables(op: Op, live: set[tuple[str | None, str]]) -> None:
    """A live table renamed stays live under its new name; one dropped is gone."""
    if isinstance(op, RenameTable) and (op.schema, op.old_name) in live:
        live.discard((op.schema, op.old_name))
        live.add((op.schema, op.new_name))
    elif isinstance(op, DropTable):
        live.discard((op.schema, op.table_name))


def _foreign_keys(op: Op, line: int) -> list[tuple[int, CreateForeignKey]]:
    if isinstance(op, CreateForeignKey):
        return [(line, op)]
    if not isinstance(op, CreateTable):
        return []
    found = []
    for constraint in op.to_table().foreign_key_constraints:
        targets = [element.target_fullname.split(".") for element in constraint.elements]
        name = constraint.name if isinstance(constraint.name, str) else None
        found.append(
            (
                line,
                CreateForeignKey(
                    name,
                    op.table_name,
                    targets[0][-2],
                    [c.parent.name for c in constraint.elements],
                    [t[-1] for t in targets],
                    schema=op.schema,
                ),
            )
        )
    return found


def _indexed(schema: Schema, fk: CreateForeignKey) -> bool:
    table = schema.table(fk.table_name, fk.schema)
    if table is None:
        return True  # dropped again in the same revision
    wanted = tuple(fk.local_cols)
    leading = [index.columns[: len(wanted)] for index in table.indexes]
    leading += [u.columns[: len(wanted)] for u in table.uniques]
    if table.primary_key is not None:
        leading.append(table.primary_key.columns[: len(wanted)])
    return any(tuple(cols) == wanted for cols in leading)


# -- suppression and severity ----------------------------------------------------------------


def _reported(
    revision: Revision,
    text: str | None,
    hits: list[tuple[int, Hit]],
    severities: Mapping[str, str],
    possible: Mapping[int, set[str]],
) -> list[Finding]:
    path, rev_id = revision.path, revision.id
    ignores = _ignores(path, text)
    used: set[tuple[int, str]] = set()
    found: list[Finding] = []
    for line, hit in hits:
        rule = RULES[hit.code]
        severity = severities.get(hit.code, rule.severity)
        if severity == "off":
            continue
        ignored = next((key for key in ignores.get(line, ()) if key[1] == hit.code), None)
        if ignored is not None:
            used.add(ignored)
            continue
        fix = rule.fix if hit.fixable else None
        found.append(Finding(hit.code, severity, path, line, hit.message, rev_id, fix))
    unused = severities.get("unused-ignore", RULES["unused-ignore"].severity)
    if unused != "off":
        written = {(call, key) for call, keys in ignores.items() for key in keys}
        for call, (line, code) in sorted(written):
            if (line, code) in used or code in possible.get(call, ()):
                continue
            found.append(
                Finding(
                    "unused-ignore",
                    unused,
                    path,
                    line,
                    f"'# distill: ignore[{code}]' suppresses nothing here; remove it",
                    rev_id,
                )
            )
    return sorted(found, key=lambda f: (f.line, f.code))


def _ignores(path: Path, text: str | None) -> dict[int, set[tuple[int, str]]]:
    """Line of each call -> the (comment line, code) ignores written on any of its lines
    (of ``text``, the unsaved file, else of the file)."""
    try:
        text = path.read_text(encoding="utf-8") if text is None else text
        tree = ast.parse(text)
    except (OSError, SyntaxError, ValueError):
        return {}
    written: dict[int, set[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _IGNORE.finditer(line):
            codes = {c.strip() for c in match.group(1).split(",") if c.strip()}
            written.setdefault(number, set()).update(codes)
    if not written:
        return {}
    # Each comment belongs to the outermost call (or ``with``) on whose lines it is.
    nodes = [n for n in ast.walk(tree) if isinstance(n, (ast.Call, ast.With))]
    spans: dict[int, set[tuple[int, str]]] = {}
    for number, codes in written.items():
        around = [
            n
            for n in nodes
            if n.lineno <= number <= (n.lineno if isinstance(n, ast.With) else n.end_lineno or 0)
        ]
        if not around:
            continue
        owner = min(around, key=lambda n: (n.lineno, -(n.end_lineno or n.lineno)))
        spans.setdefault(owner.lineno, set()).update((number, code) for code in codes)
    return spans
