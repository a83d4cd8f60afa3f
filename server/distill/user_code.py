"""What the project's own code can do to the ``distill`` process, made into user errors.

The CLI runs the project's code in its own process: the models' import, an
Alembic project's ``env.py``, each revision's ``upgrade()``/``downgrade()``,
hooks.  Two things in that code would otherwise end or stall Distill without a
word: ``sys.exit()`` (a ``SystemExit`` that would become Distill's exit code,
0 included, with nothing said) and an endless loop (a CI job that never ends).
This module names where either happened, so the caller can raise one-line
errors.  ``os._exit()`` ends the process at once and cannot be caught.

The language server runs the same code in child processes with its own
timeout; the wording of a timeout is shared so the editor and the CLI say the
same.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from types import FrameType

# Frames of Distill itself and of the import machinery are never where user code went wrong.
_OWN_FOLDER = os.path.dirname(os.path.abspath(__file__)) + os.sep
_INSTALLED = ("site-packages", "dist-packages")


def exit_call(error: SystemExit) -> str:
    """``called sys.exit(0)``: how a SystemExit reads in a message (``raise SystemExit`` too)."""
    if error.code is None:
        return "called sys.exit()"
    try:
        shown = repr(error.code).strip().splitlines()[0]
    except Exception:  # the user's __repr__ may raise
        shown = "(unprintable)"
    return f"called sys.exit({shown})"


def keep_own_loggers() -> None:
    """Enable again Distill's loggers that the project's code switched off.

    An Alembic env.py calls ``logging.config.fileConfig(alembic.ini)``, whose
    default disables every logger already made and not named in the file, so
    Distill's own notices (a rebuilt table's views, a restated MODIFY) would go
    silent for the rest of the command.
    """
    import logging

    for name, logger in logging.Logger.manager.loggerDict.items():
        if (name == "distill" or name.startswith("distill.")) and isinstance(
            logger, logging.Logger
        ):
            logger.disabled = False


def user_frame(error: BaseException, root: Path | None = None) -> tuple[str, int] | None:
    """The file and line of the innermost frame in the user's code that ``error`` passed.

    A frame under ``root`` (the project) wins over a third-party package's.
    """
    frames = [
        (frame.filename, frame.lineno or 1)
        for frame in traceback.extract_tb(error.__traceback__)
        if not _is_machinery(frame.filename)
    ]
    if root is not None:
        folder = str(root.resolve()) + os.sep
        own = [
            f
            for f in frames
            if os.path.abspath(f[0]).startswith(folder) and not any(p in f[0] for p in _INSTALLED)
        ]
        frames = own or frames
    return frames[-1] if frames else None


def _is_machinery(filename: str) -> bool:
    return (
        os.path.abspath(filename).startswith(_OWN_FOLDER)
        or filename.startswith("<frozen importlib")
        or "importlib" + os.sep in filename
    )


def at(location: tuple[str, int] | None) -> str:
    """`` at file:line`` for a message, or nothing when the place is unknown."""
    return f" at {location[0]}:{location[1]}" if location else ""


# -- the time limit on importing the project's code --------------------------------------


def timed_out_text(seconds: float, location: tuple[str, int] | None = None) -> str:
    """``timed out after 60 s in models.py:12``: the editor's words for a models timeout."""
    where = f" in {location[0]}:{location[1]}" if location else ""
    return f"timed out after {seconds:g} s{where}"


class OutOfTime(BaseException):
    """Raised in whatever code runs when the time is up.

    Not an Exception, so the ``except Exception`` blocks of user code let it through.
    """


class ImportOutOfTime(OutOfTime):
    """The ``timeout`` setting's limit on importing the project's code has passed.

    A class of its own so a caller reports only its own limit, never an outer one.
    """


@contextmanager
def time_limit(deadline: float, raising: type[OutOfTime] = OutOfTime) -> Iterator[None]:
    """Interrupt the body with ``raising`` at ``deadline`` (monotonic).

    With SIGALRM, on POSIX, in the main thread; elsewhere the body runs unlimited.
    The process's earlier timer and handler are put back after.  Code stuck in C
    (no Python bytecode runs) does not notice the signal.
    """
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise raising

    handler = signal.signal(signal.SIGALRM, expire)
    started = time.monotonic()
    earlier, _ = signal.setitimer(signal.ITIMER_REAL, max(deadline - started, 0.001))
    try:
        yield
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:  # also when the timer fired just before it was stopped
            signal.signal(signal.SIGALRM, handler)
            if earlier:
                left = earlier - (time.monotonic() - started)
                signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))


@contextmanager
def time_limit_paused() -> Iterator[None]:
    """No time limit for the body, the running one carried on after it.

    env.py's own code is limited like any import of the project's code; the
    migrations it starts with ``context.run_migrations()`` take what they take.
    """
    if not hasattr(signal, "setitimer"):
        yield
        return
    left, _ = signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        yield
    finally:
        if left:
            signal.setitimer(signal.ITIMER_REAL, left)


def import_time_limit(seconds: float) -> AbstractContextManager[None]:
    """The ``timeout`` setting's limit on importing the project's code; 0 is no limit.

    A process that already runs under a timer (the language server's model
    worker) keeps that one: its owner reports the timeout.
    """
    if seconds <= 0 or not hasattr(signal, "getitimer"):
        return nullcontext()
    if signal.getitimer(signal.ITIMER_REAL)[0] > 0:
        return nullcontext()
    return time_limit(time.monotonic() + seconds, ImportOutOfTime)
