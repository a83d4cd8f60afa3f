"""One project on one database, walked by both tools, each on databases of its own.

Every phase starts both tools from the same state, made by Alembic, so a
difference found in one phase does not spill into the next:

- upgrade: from empty (or, for a baseline history, from the lowest revision
  Alembic's downgrade reaches), ``upgrade +1`` to the head, one step at a time;
- check / autogenerate: at the head (made by Alembic's upgrade, or by the
  project's own ``create_all`` + ``stamp head`` for a baseline history, as the
  project does for a new database);
- downgrade: from that head, ``downgrade -1`` one step at a time.

Each tool has two databases: X2 is brought to the head by Alembic, then the
tool runs check, autogenerate and the downgrade walk on it; X1 is empty (or, for
a baseline history, brought to the head and down as far as Alembic's downgrade
goes), then the tool runs the upgrade walk on it.  Alembic's four legs run in
one process, Distill's (with Alembic's preparations) in another, at the same
time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.conftest import create_scratch_database
from tests.realworld.projects import AUTOGEN_FOLDER, RealProject

REPOSITORY = Path(__file__).resolve().parents[2]
AUTOGEN_ARGS = ["revision", "--autogenerate", "-m", "realworld check", "--rev-id", "rw0autogen00"]
PHASES = ("upgrade", "check", "autogenerate", "downgrade")

Step = dict[str, Any]


def _drive(root: Path, name: str, legs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the legs in one driver process; all their results, in order."""
    plan_file, result_file = root / f"plan-{name}.json", root / f"result-{name}.json"
    plan_file.write_text(json.dumps(legs))
    done = subprocess.run(
        [sys.executable, "-m", "tests.realworld.driver", str(plan_file), str(result_file)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode:
        raise RuntimeError(f"the driver process failed:\n{done.stdout}\n{done.stderr}")
    return [r for leg in json.loads(result_file.read_text()) for r in leg]


def _head(project: RealProject) -> list[Step]:
    """Alembic steps that bring an empty database to the head the project's way."""
    if project.baseline:
        return [
            {"do": "create_all", "metadata": project.metadata},
            {"do": "run", "argv": ["stamp", "head"], "label": "prepare", "snapshot": False},
        ]
    return [{"do": "run", "argv": ["upgrade", "head"], "label": "prepare", "snapshot": False}]


def _at_head(project: RealProject, folder: Path) -> list[Step]:
    return [
        {"do": "run", "argv": ["check"], "label": "check", "snapshot": False},
        {
            "do": "autogenerate",
            "argv": [*AUTOGEN_ARGS, "--version-path", str(folder / AUTOGEN_FOLDER)],
            "folder": str(folder / AUTOGEN_FOLDER),
            "label": "autogenerate",
        },
        {"do": "walk", "argv": ["downgrade", "-1"], "count": len(project.revisions),
         "label": "downgrade"},
    ]  # fmt: skip


def _upgrade(count: int | str) -> Step:
    return {"do": "walk", "argv": ["upgrade", "+1"], "count": count, "label": "upgrade"}


def _lowered(project: RealProject) -> list[Step]:
    """Alembic steps: the head, then down as far as Alembic's downgrade goes."""
    down = {"do": "walk", "argv": ["downgrade", "-1"], "count": len(project.revisions),
            "label": "lowered", "snapshot": False}  # fmt: skip
    return [*_head(project), down]


def walk(project: RealProject, dialect: str) -> dict[str, Any]:
    """Both tools' results, per phase: {"alembic": {...}, "distill": {...}, "start": i}.

    The upgrade walks land on the revisions from index ``start`` on (0 unless a
    baseline history's downgrade stops early).
    """
    with tempfile.TemporaryDirectory(prefix=f"rw-{project.name}-{dialect}-") as tmp:
        root = Path(tmp)
        drops, where = [], {}
        try:
            for name in ("a1", "a2", "d1", "d2"):
                folder = root / name
                folder.mkdir()
                url, drop = create_scratch_database(dialect, folder)
                drops.append(drop)
                project.write_ini(folder, url)
                where[name] = {"project": str(folder), "url": url}
            return _walk(project, root, where)
        finally:
            for drop in drops:
                drop()  # type: ignore[operator]


def _walk(project: RealProject, root: Path, where: dict[str, dict[str, Any]]) -> dict[str, Any]:
    n = len(project.revisions)
    lowered, upgrade = ([], _upgrade(n))
    if project.baseline:
        lowered, upgrade = _lowered(project), _upgrade("successes:lowered")

    def legs(tool: str, x1: dict[str, Any], x2: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"tool": "alembic", **x2, "steps": _head(project)},
            {"tool": tool, **x2, "steps": _at_head(project, Path(x2["project"]))},
            {"tool": "alembic", **x1, "steps": lowered},
            {"tool": tool, **x1, "steps": [upgrade]},
        ]

    with ThreadPoolExecutor(2) as pool:
        a = pool.submit(_drive, root, "alembic", legs("alembic", where["a1"], where["a2"]))
        d = pool.submit(_drive, root, "distill", legs("distill", where["d1"], where["d2"]))
        by_tool = {"alembic": a.result(), "distill": d.result()}
    lowered_by = sum(
        1 for r in by_tool["alembic"] if r["label"] == "lowered" and not r["returncode"]
    )
    walked: dict[str, Any] = {
        tool: {phase: [r for r in results if r["label"] == phase] for phase in PHASES}
        for tool, results in by_tool.items()
    }
    walked["start"] = n - lowered_by if project.baseline else 0
    walked["prepared"] = [r for r in by_tool["alembic"] if r["label"] == "prepare"]
    return walked
