"""A walk runs once per project x database per test run, also under pytest-xdist.

The steps of a walk are separate tests, which xdist may hand to different
workers; the first worker to need a walk runs it and leaves its results in a
file beside the workers' temporary folders, the others wait on a lock and read
them.  Without xdist a walk is kept in memory.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tests.realworld.projects import RealProject
from tests.realworld.walks import walk

_walked: dict[tuple[str, str], dict[str, Any]] = {}


def shared_walk(project: RealProject, dialect: str) -> dict[str, Any]:
    key = (project.name, dialect)
    if key not in _walked:
        _walked[key] = _walk_once_per_run(project, dialect)
    return _walked[key]


def _walk_once_per_run(project: RealProject, dialect: str) -> dict[str, Any]:
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run is None:
        return walk(project, dialect)
    stem = Path(tempfile.gettempdir()) / f"distill-realworld-{run}-{project.name}-{dialect}"
    result_file = stem.with_suffix(".json")
    with open(stem.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result_file.exists():
            result_file.write_text(json.dumps(walk(project, dialect)))
        walked: dict[str, Any] = json.loads(result_file.read_text())
    return walked
