"""``distill lint`` and ``distill preflight``, and the check ``upgrade --preflight`` runs.

What they find is ``commands.lint``'s; this module says it: one line per
finding (or JSON), a summary on stderr, exit code 1 on an error.
"""

from __future__ import annotations

import argparse
import json

from distill.cli_output import count_revisions, display_path, say
from distill.cli_project import project_of
from distill.errors import DistillError


def lint_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "range",
        nargs="?",
        help="A:B (what 'upgrade A:B' runs) or one revision; default: the revisions the "
        "database has not applied",
    )
    p.add_argument("--all", action="store_true", help="every revision, applied or not")
    p.add_argument(
        "--fix",
        action="store_true",
        help="rewrite the revisions where a safe form exists (kept only when the "
        "migrations still build the same schema), then lint again",
    )
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (path:line: severity [code] message) or json (one object per finding)",
    )


def lint(args: argparse.Namespace) -> int:
    from distill.commands.lint import fix_findings, lint_project

    project = project_of(args)
    notify = lambda text: say(args, text)  # noqa: E731
    report = lint_project(project, args.range, all_revisions=args.all, notify=notify)
    if args.fix:
        for fixed in fix_findings(project, report, notify):
            say(args, f"Fixed {display_path(fixed.path)}: {', '.join(fixed.codes)}")
        report = lint_project(project, args.range, all_revisions=args.all, notify=notify)
    if args.format == "json":
        for finding in report.findings:
            print(json.dumps(finding.to_dict()))
    else:
        for f in report.findings:
            print(f"{display_path(f.path)}:{f.line}: {f.severity} [{f.code}] {f.message}")
    count = len(report.findings)
    say(
        args,
        f"{count} finding{'s' if count != 1 else ''} ({report.errors} error"
        f"{'s' if report.errors != 1 else ''}) in {count_revisions(len(report.revisions))}, "
        f"for {report.target}",
    )
    return 1 if report.errors else 0


def refuse_on_problems(args: argparse.Namespace, target: str) -> None:
    from distill.commands.lint import preflight_project

    problems = preflight_project(project_of(args), target)
    if not problems:
        return
    for problem in problems:
        say(args, f"{display_path(problem.path)}:{problem.line}: {problem.message}")
    first = problems[0]
    raise DistillError(
        f"pre-flight: {len(problems)} revision step{'s' if len(problems) != 1 else ''} would "
        f"fail on the rows there now, first in revision {first.revision}: {first.message}; "
        "nothing was run"
    )


def preflight_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("revision", nargs="?", default="heads", help="the upgrade's target")


def preflight(args: argparse.Namespace) -> int:
    """``distill preflight``: the checks of ``upgrade --preflight``, and nothing run."""
    from distill.commands.lint import preflight_project

    problems = preflight_project(project_of(args), args.revision)
    for problem in problems:
        print(f"{display_path(problem.path)}:{problem.line}: {problem.message}")
    count = len(problems)
    say(args, f"{count} problem{'s' if count != 1 else ''}: " + (
        "the upgrade would fail" if count else "the rows let every pending revision run"
    ))  # fmt: skip
    return 1 if count else 0
