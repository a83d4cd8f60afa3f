"""One handler per sub-command: its arguments, the call into ``commands``, the output.

Results go to stdout (so scripts can read them); notices and progress go to
stderr.  Progress is drawn only on a terminal and never with ``--quiet``.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from distill import cli_safety, commands
from distill.cli_output import count_revisions, display_path, say
from distill.cli_project import project_of
from distill.errors import DistillError
from distill.masking import mask_url
from distill.scripts.script import Revision

if TYPE_CHECKING:
    from distill.authoring import NewRevision
    from distill.runtime.plan import Progress, RunResult

Handler = Callable[[argparse.Namespace], int]


# -- init ----------------------------------------------------------------------


def _init_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", help="folder for the revision scripts, e.g. migrations")


def _init(args: argparse.Namespace) -> int:
    result = commands.init(Path(args.directory), Path.cwd(), args.url)
    where = display_path(result.config_file)
    say(args, f"Created {display_path(result.directory)}/ with versions/ and script.py.tmpl")
    if result.kept_settings:
        say(args, f"Settings in {where} already name this folder; left as they are")
        return 0
    say(
        args,
        f"Settings {'written to' if result.created_config_file else 'added to'} {where}"
        " [tool.distill]; set url and metadata there",
    )
    return 0


# -- revision, merge ---------------------------------------------------------------


def _revision_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-m",
        "--message",
        help="what the revision does; with --autogenerate, named after its changes if left out",
    )
    p.add_argument("--rev-id", help="use this revision id instead of a random one")
    p.add_argument(
        "--head",
        default="head",
        help="revision to build on (default: head); 'base' starts a new root",
    )
    p.add_argument(
        "--splice", action="store_true", help="allow --head to name a revision that is not a head"
    )
    p.add_argument(
        "--branch-label",
        action="append",
        default=[],
        help="label for the branch this revision starts (repeatable)",
    )
    p.add_argument(
        "--depends-on",
        action="append",
        default=[],
        help="revision or label this one depends on (repeatable)",
    )
    p.add_argument("--version-path", help="version location to write the file into")
    p.add_argument(
        "--autogenerate",
        action="store_true",
        help="fill the revision with what changed in the models (metadata setting)",
    )
    p.add_argument(
        "--rename",
        action="append",
        default=[],
        metavar="OLD:NEW",
        help="a rename, not a drop and an add: table.old_column:new_column or "
        "old_table:new_table (repeatable; with --autogenerate)",
    )


def _spec(args: argparse.Namespace) -> NewRevision:
    from distill.authoring import NewRevision

    return NewRevision(
        message=args.message or "",
        rev_id=args.rev_id,
        head=getattr(args, "head", "head"),
        splice=getattr(args, "splice", False),
        branch_labels=tuple(args.branch_label),
        depends_on=tuple(getattr(args, "depends_on", ())),
        version_path=Path(args.version_path) if getattr(args, "version_path", None) else None,
    )


def _revision(args: argparse.Namespace) -> int:
    if args.rename and not args.autogenerate:
        raise DistillError("--rename goes with --autogenerate")
    if not args.message and not args.autogenerate:
        raise DistillError(
            "revision needs -m MESSAGE (only --autogenerate names a revision after its changes)"
        )
    if args.autogenerate:
        _no_cycle_collection()
    path = commands.revision(
        project_of(args, "online" if args.autogenerate else "text", models_memo=True),
        _spec(args),
        autogenerate=args.autogenerate,
        renames=args.rename,
        notify=lambda text: say(args, text),
    )
    if path is not None:  # None: env.py's process_revision_directives asked for none
        print(f"Created {display_path(path)}")
    return 0


def _baseline_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-m", "--message", default="baseline", help="what the revision says (default: baseline)"
    )
    p.add_argument("--rev-id", help="use this revision id instead of a random one")


def _baseline(args: argparse.Namespace) -> int:
    from distill.authoring import NewRevision

    _no_cycle_collection()
    project = project_of(args, "online")
    spec = NewRevision(message=args.message, rev_id=args.rev_id)
    result = commands.baseline(project, spec, notify=lambda text: say(args, text))
    url = mask_url(project.config.url)
    if result.path is None and result.before:
        say(args, f"Nothing to do: {url} is at {result.revision}, the head")
        return 0
    tables = f"{result.tables} table{'s' if result.tables != 1 else ''}"
    if result.path is None:
        say(args, f"Stamped {url} at {result.revision}: its {tables} are what the revisions build")
        return 0
    print(f"Created {display_path(result.path)}")
    say(
        args,
        f"Stamped {url} at {result.revision} ({tables} adopted); "
        "the models, the migrations and the database now agree",
    )
    return 0


def _merge_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("revisions", nargs="+", help="revisions to merge, or 'heads'")
    p.add_argument("-m", "--message", required=True, help="what the merge is for")
    p.add_argument("--rev-id", help="use this revision id instead of a random one")
    p.add_argument(
        "--branch-label",
        action="append",
        default=[],
        help="label for the merged branch (repeatable)",
    )


def _merge(args: argparse.Namespace) -> int:
    path = commands.merge(project_of(args), args.revisions, _spec(args))
    print(f"Created {display_path(path)}")
    return 0


# -- upgrade, downgrade, stamp ------------------------------------------------------


def _migrate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("revision", help="target: head, heads, +N, -N, base, an id, label@head, ...")
    p.add_argument(
        "--sql",
        action="store_true",
        help="print the SQL instead of running it (offline); ranges FROM:TO allowed",
    )
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: one JSON object per line on stdout, for each step as it runs and "
        "finishes, then the result (before, after, the steps that ran)",
    )


def _upgrade_args(p: argparse.ArgumentParser) -> None:
    _migrate_args(p)
    p.add_argument(
        "--preflight",
        action="store_true",
        help="first check, reading only, that the rows let each revision succeed "
        "(NULLs, duplicates, orphans, CHECK violations); run nothing if not",
    )


def _upgrade(args: argparse.Namespace) -> int:
    if args.preflight and not args.sql:
        cli_safety.refuse_on_problems(args, args.revision)
    return _run(args, commands.upgrade)


def _downgrade(args: argparse.Namespace) -> int:
    return _run(args, commands.downgrade)


def _run(args: argparse.Namespace, command: Callable[..., RunResult | None]) -> int:
    _refuse_json_with_sql(args)
    project = project_of(args, "offline" if args.sql else "migrate")
    if args.sql:
        command(project, args.revision, sql=print)
        return 0
    as_json = args.format == "json"
    display: Callable[[Progress], None] = (
        _json_progress
        if as_json
        else _ProgressDisplay(enabled=sys.stderr.isatty() and not args.quiet)
    )
    started = time.monotonic()
    result = command(project, args.revision, notify=lambda text: say(args, text), progress=display)
    if isinstance(display, _ProgressDisplay):
        display.close()
    assert result is not None
    if as_json:
        _json_result(args.command_name, result)
        return 0
    url = mask_url(project.config.url)
    if not result.steps:
        say(args, f"Nothing to do: {url} is at {_heads(result.after)}")
    else:
        verb = "Upgraded" if result.steps[0].direction == "upgrade" else "Downgraded"
        say(
            args,
            f"{verb} {url} from {_heads(result.before)} to {_heads(result.after)} "
            f"({count_revisions(len(result.steps))}, {time.monotonic() - started:.2f}s)",
        )
    return 0


def _refuse_json_with_sql(args: argparse.Namespace) -> None:
    if args.sql and args.format == "json":
        raise DistillError(
            f"'distill {args.command_name} --sql' writes SQL, not JSON: leave out --format json"
        )


def _json_progress(event: Progress) -> None:
    """A step as it starts and as it finishes: the steps that ran, even if a later one fails."""
    revision = event.step.revision
    _json_line({
        "event": "step", "state": "finished" if event.finished else "running",
        "index": event.index, "total": event.total, "direction": event.step.direction,
        "revision": revision.id, "message": revision.message, "seconds": round(event.elapsed, 3),
    })  # fmt: skip


def _json_result(command: str, result: RunResult) -> None:
    _json_line({
        "event": "result", "command": command, "before": list(result.before),
        "after": list(result.after),
        "steps": [{"direction": s.direction, "revision": s.revision.id} for s in result.steps],
    })  # fmt: skip


def _json_line(value: dict[str, object]) -> None:
    print(json.dumps(value), flush=True)


class _ProgressDisplay:
    """Revision k of n, its message and the time so far, redrawn on one line."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.drawn = False

    def __call__(self, event: Progress) -> None:
        if not self.enabled or event.finished:
            return
        rev = event.step.revision
        line = (
            f"[{event.index}/{event.total}] {event.step.direction} {rev.id} "
            f"{rev.message[:50]}  {event.elapsed:.1f}s"
        )
        sys.stderr.write("\r\x1b[K" + line)
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _stamp_args(p: argparse.ArgumentParser) -> None:
    _migrate_args(p)
    p.add_argument(
        "--purge",
        action="store_true",
        help="delete every version row first (for a table that names lost files)",
    )


def _stamp(args: argparse.Namespace) -> int:
    _refuse_json_with_sql(args)
    project = project_of(args, "offline" if args.sql else "migrate")
    if args.sql:
        commands.stamp(project, args.revision, purge=args.purge, sql=print)
        return 0
    result = commands.stamp(
        project, args.revision, purge=args.purge, notify=lambda text: say(args, text)
    )
    assert result is not None
    if args.format == "json":
        _json_result("stamp", result)
        return 0
    say(
        args,
        f"Stamped {mask_url(project.config.url)}: {_heads(result.before)} -> "
        f"{_heads(result.after)}",
    )
    return 0


def _heads(ids: tuple[str, ...]) -> str:
    return ", ".join(ids) if ids else "base"


# -- current, history, heads, branches, show ---------------------------------------


def _verbose_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-v", "--verbose", action="store_true", help="show details")


def _current(args: argparse.Namespace) -> int:
    project = project_of(args, "bookkeeping")
    rows = commands.current(project)
    if args.verbose:  # on stdout, as Alembic prints it: part of what -v reports
        say(args, f"Current revision(s) for {mask_url(project.config.url)}:", sys.stdout)
    if not rows:
        say(args, "(nothing applied: the database is at base)")
    for row in rows:
        if args.verbose and row.revision is not None:
            print(_details(row.revision, project))
        else:
            print(f"{row.id}{' (head)' if row.is_head else ''}")
    return 0


def _history_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-r", "--rev-range", help="range FROM:TO, e.g. base:head, -3: (from current), ae10:current"
    )
    _verbose_args(p)
    p.add_argument(
        "-i",
        "--indicate-current",
        action="store_true",
        help="mark the revisions the database is at",
    )


def _history(args: argparse.Namespace) -> int:
    needs_database = (
        args.indicate_current or args.verbose or commands.range_needs_current(args.rev_range)
    )
    project = project_of(args, "bookkeeping" if needs_database else "text")
    lines, problem = commands.history(
        project, args.rev_range, indicate_current=args.indicate_current, with_applied=args.verbose
    )
    if problem:
        say(args, f"note: {problem}")
    out: list[str] = []  # written at once: thousands of print() calls cost more than the work
    for line in lines:
        rev = line.revision
        marks = "".join(
            [
                " (head)" if line.is_head else "",
                " (current)" if line.is_current and args.indicate_current else "",
                " (branchpoint)" if line.is_branch_point else "",
                " (mergepoint)" if rev.is_merge else "",
            ]
        )
        parents = ", ".join(rev.down_revisions) or "<base>"
        if args.verbose:
            out.append(_details(rev, project, marks))
            applied = line.applied
            if applied is not None:
                who = f" by {applied.os_user}" if applied.os_user else ""
                took = f" in {applied.duration_ms / 1000:.2f}s" if applied.duration_ms else ""
                out.append(f"Applied: {applied.started_at:%Y-%m-%d %H:%M:%S} UTC{who}{took}")
            elif line.is_applied:  # stamped, or run where no history is kept (Alembic)
                out.append("Applied: yes (when is not recorded)")
            elif not problem:
                out.append("Applied: no")
            out.append("")
        else:
            out.append(f"{parents} -> {rev.id}{marks}, {rev.message}")
    if out:
        sys.stdout.write("\n".join(out) + "\n")
    return 0


def _details(rev: Revision, project: commands.Project, marks: str = "") -> str:
    graph = project.graph
    lines = [
        f"Rev: {rev.id}{marks or (' (head)' if rev.id in graph.heads else '')}",
        f"Parent: {', '.join(rev.down_revisions) or '<base>'}",
    ]
    if rev.branch_labels:
        lines.append(f"Branch names: {', '.join(rev.branch_labels)}")
    if rev.depends_on:
        lines.append(f"Also depends on: {', '.join(rev.depends_on)}")
    children = graph.children(rev.id)
    if children:
        lines.append(f"{'Branches into' if len(children) > 1 else 'Child'}: {', '.join(children)}")
    lines.append(f"Path: {display_path(rev.path)}")
    if rev.create_date:
        lines.append(f"Create Date: {rev.create_date}")
    lines.append(f"\n    {rev.message}")
    return "\n".join(lines)


def _heads_cmd(args: argparse.Namespace) -> int:
    project = project_of(args)
    for rev in commands.heads(project):
        if args.verbose:
            print(_details(rev, project) + "\n")
        else:
            labels = "".join(f" ({label})" for label in rev.branch_labels)
            print(f"{rev.id}{labels} (head)")
    return 0


def _branches(args: argparse.Namespace) -> int:
    project = project_of(args)
    for point, children in commands.branches(project):
        print(f"{point.id} (branchpoint), {point.message}")
        for child in children:
            print(f"    -> {child.id}, {child.message}")
    return 0


def _show_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("revision", help="revision id, prefix, label or head")


def _show(args: argparse.Namespace) -> int:
    project = project_of(args)
    print("\n\n".join(_details(rev, project) for rev in commands.show(project, args.revision)))
    return 0


def _check_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (one line per difference) or json",
    )


def _check(args: argparse.Namespace) -> int:
    _no_cycle_collection()
    project = project_of(args, "migrate", models_memo=True)
    report = commands.check(project, notify=lambda text: say(args, text))
    if args.format == "json":
        print(report.to_json())
    else:
        for line in report.lines():
            print(line)
        if report.ok:
            say(args, "No differences: models, migrations and database agree"
                if report.database == "compared" else
                "No differences between models and migrations")  # fmt: skip
    return 0 if report.ok else 1


def _no_cycle_collection() -> None:
    """Turn off Python's cycle collector for the rest of this one-shot process.

    Building the models', migrations' and database's schemas allocates millions
    of objects, and each burst sets off full collections that find next to
    nothing to free: a quarter of ``check``'s time for 1,000 tables, for no
    gain in peak memory (measured: 97 MiB either way).  Reference counting
    still frees everything that is not in a cycle.
    """
    gc.disable()


def _lsp_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stdio", action="store_true", help="talk LSP on stdin/stdout (the default)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def _lsp(args: argparse.Namespace) -> int:
    import logging

    from distill.lsp.server import main as serve

    # stdout carries the protocol: everything else goes to stderr, which
    # editors show as the server's log.
    logging.basicConfig(stream=sys.stderr, level=args.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    serve()
    return 0


def _none(_: argparse.ArgumentParser) -> None:
    pass


def _doctor(args: argparse.Namespace) -> int:
    from distill.compat.doctor import diagnose, render

    findings = diagnose(project_of(args).config)
    render(findings, print)
    return 1 if any(f.level == "problem" for f in findings) else 0


COMMANDS: list[tuple[str, str, Callable[[argparse.ArgumentParser], None], Handler]] = [
    ("init", "create a migrations folder and settings", _init_args, _init),
    ("revision", "create a new revision file", _revision_args, _revision),
    ("upgrade", "apply revisions up to a target", _upgrade_args, _upgrade),
    ("downgrade", "revert revisions down to a target", _migrate_args, _downgrade),
    ("current", "show the revision(s) the database is at", _verbose_args, _current),
    ("history", "list revisions, newest first", _history_args, _history),
    ("heads", "show the head revisions", _verbose_args, _heads_cmd),
    ("branches", "show branch points", _none, _branches),
    ("show", "show one revision", _show_args, _show),
    ("merge", "create a revision that joins several heads", _merge_args, _merge),
    ("stamp", "set the database's revision without running anything", _stamp_args, _stamp),
    (
        "baseline",
        "adopt a database made without migrations: first revision from the models, stamped",
        _baseline_args,
        _baseline,
    ),
    (
        "check",
        "compare models, migrations and database; exit 1 on any difference",
        _check_args,
        _check,
    ),
    (
        "preflight",
        "check, reading only, that the rows let the pending revisions succeed; exit 1 if not",
        cli_safety.preflight_args,
        cli_safety.preflight,
    ),
    (
        "lint",
        "what the pending revisions would do to a live database; exit 1 on an error",
        cli_safety.lint_args,
        cli_safety.lint,
    ),
    (
        "doctor",
        "say what of the project (an Alembic env.py) Distill honours; exit 1 on a problem",
        _none,
        _doctor,
    ),
    ("lsp", "run the language server (for editors)", _lsp_args, _lsp),
]
