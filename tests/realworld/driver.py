"""Runs the two tools through lists of steps, reading the schema after each.

``python -m tests.realworld.driver PLAN.json RESULT.json``: PLAN is a list of
legs, each naming the tool (``alembic`` or ``distill``), the project folder,
the database and the steps.  Each command goes through the tool's own
command-line entry point (``alembic.config.main`` / ``distill.cli.main``), as
typing it would, but the commands share one process: a fresh interpreter per
step would pay the imports of the project (optuna, jupyterhub) each time and
the suite would take many minutes.  Each step's exit status, output and the
database read right after it are written to RESULT as JSON, one list per leg.

Steps:
- ``{"do": "run", "argv": [...], "label": ..., "snapshot": true}``: one command.
- ``{"do": "walk", "argv": [...], "count": N, "label": ...}``: the command N
  times (``upgrade +1``), stopping at the first failure; ``"count":
  "successes:LABEL"`` repeats it as often as the steps labelled LABEL (in this
  leg or an earlier one) succeeded.
- ``{"do": "autogenerate", "argv": [...], "folder": ...}``: a ``revision
  --autogenerate`` whose written file is read and removed at once, so it never
  becomes part of the history under test.
- ``{"do": "create_all", "metadata": "module:attr.path"}``: the project's own
  ``metadata.create_all(engine)`` (how a project without a history makes its tables).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.realworld.snapshot import snapshot


def _alembic(plan: dict[str, Any], argv: list[str]) -> int:
    from alembic.config import main

    # --raiseerr: an exception, not a logged line and exit, so its message is kept.
    main(argv=["-c", str(Path(plan["project"]) / "alembic.ini"), "--raiseerr", *argv])
    return 0


def _distill(plan: dict[str, Any], argv: list[str]) -> int:
    from distill.cli import main

    return main(["-C", plan["project"], *argv])


def run_command(plan: dict[str, Any], argv: list[str]) -> dict[str, Any]:
    """One command of the plan's tool: exit status, stdout, and the error's last line."""
    out, err = io.StringIO(), io.StringIO()
    code, error, started = 0, "", time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = (_alembic if plan["tool"] == "alembic" else _distill)(plan, argv)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except Exception as exc:
            code = 1
            lines = [line for line in str(exc).splitlines() if line.strip()]
            error = f"{type(exc).__name__}: {lines[0] if lines else ''}"
            err.write(traceback.format_exc())
    if code and not error:
        lines = [line for line in err.getvalue().splitlines() if line.strip()]
        marked = [line for line in lines if line.startswith("distill: error:")]
        error = (marked or lines or ["(no message)"])[-1]
    return {
        "argv": argv,
        "returncode": code,
        "stdout": out.getvalue(),
        "stderr": err.getvalue()[-4000:],
        "error": error,
        "seconds": round(time.perf_counter() - started, 3),
    }


def _create_all(url: str, where: str) -> None:
    module_name, _, path = where.partition(":")
    target: Any = importlib.import_module(module_name)
    for attr in path.split("."):
        target = getattr(target, attr)
    engine = sa.create_engine(url)
    try:
        target.create_all(engine)
    finally:
        engine.dispose()


def _autogenerate(plan: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    folder = Path(step["folder"])
    result = run_command(plan, step["argv"])
    written = sorted(folder.glob("*.py"))
    result["script"] = written[0].read_text() if written else None
    for path in written:
        path.unlink()
    shutil.rmtree(folder / "__pycache__", ignore_errors=True)
    return result


def _count(step: dict[str, Any], results: list[dict[str, Any]]) -> int:
    count = step.get("count", 1)
    if isinstance(count, int):
        return count
    label = count.removeprefix("successes:")
    return sum(1 for r in results if r["label"] == label and not r["returncode"])


def run_leg(plan: dict[str, Any], earlier: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One leg's results; ``earlier`` are those of the legs before it in this process."""
    results: list[dict[str, Any]] = []
    for step in plan["steps"]:
        if step["do"] == "create_all":
            _create_all(plan["url"], step["metadata"])
            continue
        if step["do"] == "autogenerate":
            results.append({"label": step["label"], **_autogenerate(plan, step)})
            continue
        for _ in range(_count(step, earlier + results)):
            result = {"label": step["label"], **run_command(plan, step["argv"])}
            if step.get("snapshot", True):
                result["snapshot"] = snapshot(plan["url"])
            results.append(result)
            if result["returncode"]:
                break
    return results


def main() -> None:
    # jupyterhub's env.py imports jupyterhub.app when jupyterhub is already
    # imported (it is, after the first command of a shared process); that pulls
    # in jsonschema's URI checkers, which compile ~40 lark grammars (~10 s of
    # CPU).  Nothing of migrations uses them; without the module jsonschema
    # simply leaves those checkers out.
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
    legs, done = json.loads(Path(sys.argv[1]).read_text()), []
    for leg in legs:
        done.append(run_leg(leg, [r for results in done for r in results]))
    Path(sys.argv[2]).write_text(json.dumps(done))


if __name__ == "__main__":
    main()
