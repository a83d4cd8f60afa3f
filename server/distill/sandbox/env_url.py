"""The database URL an Alembic project's env.py builds, for the language server.

The most common FastAPI layout names no ``sqlalchemy.url`` in alembic.ini: env.py
builds it from the application's settings.  The server process runs no project
code, so it asks this child, once per session: ``python -m distill.sandbox.env_url``
in the project folder prints ``{"url": ..., "error": ...}`` as JSON.  env.py is
read as the editor reads it (``context.config`` names an in-memory database), so
only a URL env.py builds itself comes back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from distill.errors import DistillError
from distill.sandbox.launch import python_module
from distill.user_code import ImportOutOfTime, import_time_limit, timed_out_text

MODULE = "distill.sandbox.env_url"
_GRACE = 10.0  # an interpreter and SQLAlchemy start, on top of the project's own time


def main() -> None:
    root, timeout = Path.cwd(), float(sys.argv[1])
    found: dict[str, str | None] = {"url": None, "error": None}
    try:
        from distill.commands.project import open_project

        with import_time_limit(timeout):
            found["url"] = open_project(root, env_mode="editor").config.url
    except ImportOutOfTime:
        found["error"] = f"env.py {timed_out_text(timeout)}"
    except DistillError as error:
        found["error"] = str(error)
    print(json.dumps(found))


def url_built_by_env_py(root: Path, python: str, timeout: float) -> tuple[str | None, str | None]:
    """(the URL env.py builds, or None; why it could not be read, or None)."""
    try:
        done = subprocess.run(
            python_module(python, MODULE, str(timeout)),
            cwd=root,
            capture_output=True,
            text=True,
            timeout=timeout + _GRACE,
        )
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        return None, f"env.py {timed_out_text(timeout)}"
    except (OSError, ValueError, IndexError):
        return None, "env.py could not be read for its database URL (see the server log)"
    return answer.get("url"), answer.get("error")


if __name__ == "__main__":
    main()
