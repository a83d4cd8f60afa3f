"""Real public Alembic histories, unchanged, under Distill and under Alembic 1.20.

optuna and jupyterhub ship their migrations inside their packages (installed
by the ``realworld`` extra); each is run from site-packages on SQLite,
PostgreSQL and MariaDB (see walks.py for the phases).  One test per step:

- ``test_upgrade_step``: after ``upgrade +1`` landing on REV, both databases
  hold the same schema and the same ``alembic_version`` rows;
- ``test_downgrade_step``: the same after ``downgrade -1`` undoing REV, as far
  as Alembic gets;
- ``test_check_at_head`` / ``test_autogenerate_at_head``: the same verdict and
  the same number of findings from ``check``, the same operations written by
  ``revision --autogenerate``.

Known disagreements are listed in known.py (xfail, strict).  The figures per
project x database are printed at the end of the run (report.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NoReturn

import pytest

pytest.importorskip("optuna", reason="the realworld extra is not installed")
pytest.importorskip("jupyterhub", reason="the realworld extra is not installed")

from tests.conftest import DIALECTS, require_server
from tests.realworld.compare import (
    autogenerate_differences,
    check_differences,
    step_differences,
)
from tests.realworld.known import KNOWN
from tests.realworld.projects import PROJECTS
from tests.realworld.shared import shared_walk


def _params(phase: str) -> list[Any]:
    params = []
    for name, project in PROJECTS.items():
        revisions = project.revisions
        steps = (
            ["head"]
            if phase in ("check", "autogenerate")
            else list(revisions if phase == "upgrade" else reversed(revisions))
        )
        for dialect in DIALECTS:
            for index, step in enumerate(steps):
                reason = KNOWN.get((name, dialect, phase, step))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                params.append(
                    pytest.param(
                        name, dialect, index, step, marks=marks, id=f"{name}-{dialect}-{step}"
                    )
                )
    return params


@dataclass
class Row:
    """One step's line in the report (report.py), then the test's verdict."""

    record_property: Any
    project: str
    dialect: str
    phase: str
    step: str

    def _record(self, why: list[str] | None, skipped: str | None) -> None:
        row = {"project": self.project, "dialect": self.dialect, "phase": self.phase,
               "step": self.step, "why": why, "skipped": skipped}  # fmt: skip
        self.record_property("realworld", json.dumps(row))

    def skip(self, reason: str) -> NoReturn:
        """Not compared: Alembic itself did not take this step."""
        self._record(None, reason)
        pytest.skip(reason)

    def judge(self, why: list[str]) -> None:
        """Agreed when ``why`` is empty; otherwise the test fails with it."""
        self._record(why, None)
        assert not why, "\n".join(why)


def _walked(project: str, dialect: str) -> dict[str, Any]:
    require_server(dialect)
    return shared_walk(PROJECTS[project], dialect)


def _head_problem(walked: dict[str, Any]) -> str | None:
    """Why Alembic could not bring a database to the head, if it could not."""
    failed = [r for r in walked["prepared"] if r["returncode"]]
    return (
        f"Alembic cannot bring this database to the head: {failed[0]['error']}" if failed else None
    )


@pytest.mark.parametrize(("project", "dialect", "index", "step"), _params("upgrade"))
def test_upgrade_step(
    record_property: Any, project: str, dialect: str, index: int, step: str
) -> None:
    row = Row(record_property, project, dialect, "upgrade", step)
    walked = _walked(project, dialect)
    alembic, distill = walked["alembic"]["upgrade"], walked["distill"]["upgrade"]
    # A baseline history's upgrade starts where Alembic's downgrade stopped.
    position = index - walked["start"]
    if position < 0:
        row.skip(f"Alembic's downgrade does not reach below {step}, so no upgrade to it")
    if position >= len(alembic):
        row.skip("Alembic's upgrade stopped at an earlier revision")
    a = alembic[position]
    d = distill[position] if position < len(distill) else None
    if a["returncode"]:
        also = "Distill fails too" if d is None or d["returncode"] else "Distill goes on"
        row.skip(f"Alembic itself fails here ({also}): {a['error']}")
    assert a["snapshot"]["versions"] == [step], "the walk is out of step with the history"
    row.judge(step_differences(a, d))


@pytest.mark.parametrize(("project", "dialect", "index", "step"), _params("downgrade"))
def test_downgrade_step(
    record_property: Any, project: str, dialect: str, index: int, step: str
) -> None:
    row = Row(record_property, project, dialect, "downgrade", step)
    walked = _walked(project, dialect)
    alembic, distill = walked["alembic"]["downgrade"], walked["distill"]["downgrade"]
    if problem := _head_problem(walked):
        row.skip(problem)
    if index >= len(alembic):
        row.skip("Alembic's downgrade stopped at an earlier revision")
    a = alembic[index]
    d = distill[index] if index < len(distill) else None
    if a["returncode"]:
        also = "Distill refuses too" if d is None or d["returncode"] else "Distill goes on"
        row.skip(f"Alembic itself fails here ({also}): {a['error']}")
    row.judge(step_differences(a, d))


@pytest.mark.parametrize(("project", "dialect", "index", "step"), _params("check"))
def test_check_at_head(
    record_property: Any, project: str, dialect: str, index: int, step: str
) -> None:
    row = Row(record_property, project, dialect, "check", step)
    walked = _walked(project, dialect)
    if problem := _head_problem(walked):
        row.skip(problem)
    row.judge(check_differences(walked["alembic"]["check"][0], walked["distill"]["check"][0]))


@pytest.mark.parametrize(("project", "dialect", "index", "step"), _params("autogenerate"))
def test_autogenerate_at_head(
    record_property: Any, project: str, dialect: str, index: int, step: str
) -> None:
    row = Row(record_property, project, dialect, "autogenerate", step)
    walked = _walked(project, dialect)
    if problem := _head_problem(walked):
        row.skip(problem)
    a, d = walked["alembic"]["autogenerate"][0], walked["distill"]["autogenerate"][0]
    assert not a["returncode"], f"Alembic (the reference) failed: {a['error']}"
    row.judge(autogenerate_differences(a, d))
