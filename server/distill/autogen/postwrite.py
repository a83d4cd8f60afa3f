"""Formatting a generated revision with the project's formatter, when it has one.

``post_write_hooks`` in the settings lists commands run on the new file
(the path is appended), e.g. ``["ruff format"]``; ``[]`` turns formatting
off.  Unset, Distill uses ruff if it is installed, else black, else nothing:
the file is already laid out to their style, so this is a refinement.  A
formatter that fails leaves the file as written and says so; it never undoes
the revision.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from distill.config import Config
from distill.errors import ConfigError

# No cache: ruff would leave .ruff_cache/ in the project (black keeps its own elsewhere).
_AUTO = (("ruff", "format", "--quiet", "--no-cache"), ("black", "--quiet"))


def format_revision(path: Path, config: Config, notify: Callable[[str], None]) -> None:
    for command in _commands(config):
        try:
            done = subprocess.run([*command, str(path)], capture_output=True, text=True,
                                  timeout=60, cwd=config.root)  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as error:
            notify(f"warning: post-write hook {' '.join(command)} could not run: {error}")
            continue
        if done.returncode != 0:
            reason = (done.stderr or done.stdout).strip().splitlines()[:1]
            notify(f"warning: post-write hook {' '.join(command)} failed: {' '.join(reason)}")


def _commands(config: Config) -> list[Sequence[str]]:
    hooks = config.extra.get("post_write_hooks")
    if hooks is None:
        found = next((c for c in _AUTO if _which(c[0])), None)
        return [(_which(found[0]) or found[0], *found[1:])] if found else []
    if not isinstance(hooks, list) or not all(isinstance(h, str) for h in hooks):
        raise ConfigError(f"{config.source}: post_write_hooks must be a list of commands")
    return [shlex.split(h) for h in hooks]


def _which(program: str) -> str | None:
    # The project's own environment first: that is where its formatter lives.
    beside_python = Path(sys.executable).parent / program
    return str(beside_python) if beside_python.exists() else shutil.which(program)
