"""The agreement figures of the real-histories suite, printed at the end of a run.

Each step test records one row (see ``Row`` in test_histories.py) as a user
property, which also reaches the terminal summary from pytest-xdist workers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest

PHASES = ("upgrade", "downgrade", "check", "autogenerate")


def _rows(terminalreporter: pytest.TerminalReporter) -> list[dict[str, Any]]:
    rows = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", "") not in ("call", "setup"):
                continue
            for key, value in getattr(report, "user_properties", ()):
                if key == "realworld":
                    rows.append(json.loads(value))
    unique = {(r["project"], r["dialect"], r["phase"], r["step"]): r for r in rows}
    return list(unique.values())


def summarize(terminalreporter: pytest.TerminalReporter) -> None:
    rows = _rows(terminalreporter)
    if not rows:
        return
    table: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in rows:
        table[(row["project"], row["dialect"])][row["phase"]].append(row)
    write = terminalreporter.write_line
    terminalreporter.section("real histories: Alembic 1.20 vs Distill")
    write("steps agreeing / steps compared; 'not compared': steps Alembic itself did not take")
    write(f"{'project':<12}{'database':<12}" + "".join(f"{p:<14}" for p in PHASES) + "not compared")
    for (project, dialect), phases in sorted(table.items()):
        cells = []
        for phase in PHASES:
            compared = [r for r in phases[phase] if r["why"] is not None]
            agreed = sum(1 for r in compared if not r["why"])
            cells.append(f"{agreed}/{len(compared)}" if phases[phase] else "-")
        skipped = sum(1 for phase in PHASES for r in phases[phase] if r["why"] is None)
        write(f"{project:<12}{dialect:<12}" + "".join(f"{c:<14}" for c in cells) + str(skipped))
    differ = sorted(
        (r for r in rows if r["why"]), key=lambda r: (r["project"], r["dialect"], r["phase"])
    )
    if differ:
        write("where they differ:")
    for r in differ:
        write(f"  {r['project']} {r['dialect']} {r['phase']} {r['step']}: {r['why'][0][:200]}")
    alembic_fails = sorted(
        {
            (r["project"], r["dialect"], r["phase"], r["step"], r["skipped"][:160])
            for r in rows
            if r["skipped"] and r["skipped"].startswith("Alembic itself fails")
        }
    )
    if alembic_fails:
        write("where Alembic itself fails (not compared):")
    for project, dialect, phase, step, why in alembic_fails:
        write(f"  {project} {dialect} {phase} {step}: {why}")
