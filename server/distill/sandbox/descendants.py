"""Processes the user's code leaves behind end with the build that started them.

Model code may start processes that leave the build's process group and session
(a double fork with ``setsid``, ``subprocess.Popen(start_new_session=True)``):
killing the worker's process group reaches none of them, and they would outlive
the server.  On Linux the worker host makes itself a *child subreaper*
(``prctl(PR_SET_CHILD_SUBREAPER)``): an orphan anywhere below it is re-parented
to it rather than to init, so every such process becomes the host's own child,
which it can find and end, after each build and before it exits.  Elsewhere
this does nothing (the process group is all there is).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
# Each round ends the children there are; their children, orphaned, are the next round's.
_ROUNDS = 50


def become_subreaper() -> bool:
    """Adopt the orphans of this process's descendants (Linux); whether it could."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def end_descendants() -> int:
    """Kill and reap every child of this process, and theirs as they are re-parented here.

    Only for a process whose children are all the user's (the worker host between
    builds, or leaving): it has no other.  Returns how many processes it ended.
    """
    ended = 0
    for _ in range(_ROUNDS):
        children = _children()
        if not children:
            break
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        ended += len(children)
    return ended


def _children() -> list[int]:
    """This process's children: from the kernel's list where it keeps one, else from /proc."""
    me = os.getpid()
    tasks = Path(f"/proc/{me}/task")
    found: set[int] = set()
    try:
        for task in tasks.iterdir():
            found.update(int(pid) for pid in (task / "children").read_text().split())
        return sorted(found)
    except (OSError, ValueError):
        pass
    if not sys.platform.startswith("linux"):
        return []  # no /proc to read: the process group is all the worker ends there
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                # "pid (comm) state ppid ...": comm may hold spaces and parentheses
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
                if int(fields[1]) == me:
                    found.add(int(entry.name))
    return sorted(found)
