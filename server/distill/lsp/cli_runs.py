"""Commands that run revision scripts or import the models, run as ``distill`` processes.

Upgrading, downgrading, stamping, writing SQL and checking all run project
code (``upgrade()``/``downgrade()``, the models, the include hooks): as in the
worker, that code never runs in the language server.  Each command is the CLI
itself, in the project's folder and environment, so its behaviour, locking and
one-line errors are exactly the terminal's.  The URL override travels in
``DISTILL_URL``, never on a command line that ``ps`` shows.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from distill.errors import DistillError
from distill.sandbox.launch import python_module


@dataclass(frozen=True)
class Finished:
    stdout: str
    stderr: str
    returncode: int


async def run_cli(
    root: Path,
    arguments: Sequence[str],
    *,
    python: str | None = None,
    url: str | None = None,
    ok_codes: Sequence[int] = (0,),
    on_line: Callable[[str], None] | None = None,
) -> Finished:
    """``distill ARGUMENTS`` in ``root``; a ``distill: error:`` becomes a DistillError.

    ``on_line``: called with each line of stdout as it comes (``--format json``
    progress), else the output is read when the process ends."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if url:
        env["DISTILL_URL"] = url
    # The project on sys.path after the installed packages: its own modules import
    # (revision scripts may use them), never in place of Distill or SQLAlchemy.
    command = python_module(python or sys.executable, "distill", *arguments, project_last=True)
    process = await asyncio.create_subprocess_exec(
        *command, cwd=str(root), env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    if on_line is None:
        out, err = await process.communicate()
    else:
        assert process.stdout is not None and process.stderr is not None
        out, err = await asyncio.gather(_each_line(process.stdout, on_line), process.stderr.read())
        await process.wait()
    done = Finished(out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                    process.returncode or 0)  # fmt: skip
    if done.returncode not in ok_codes or _error_line(done.stderr):
        exited = f"distill {' '.join(arguments)} exited with {done.returncode}"
        raise DistillError(_error_line(done.stderr) or _last_line(done.stderr) or exited)
    return done


async def _each_line(stream: asyncio.StreamReader, on_line: Callable[[str], None]) -> bytes:
    read = bytearray()
    while line := await stream.readline():
        read += line
        on_line(line.decode("utf-8", "replace").rstrip("\n"))
    return bytes(read)


def _error_line(stderr: str) -> str | None:
    prefix = "distill: error: "
    for line in reversed(stderr.splitlines()):
        if line.startswith(prefix):
            return line[len(prefix) :]
    return None


def _last_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else ""
