"""The command line of every Python process the language server starts.

``python -m MODULE`` puts its working directory first on ``sys.path``, before
anything is imported; the server starts its processes in the project's folder,
so a project folder named ``distill/`` or ``sqlalchemy/`` (or a planted one, in
a workspace the editor does not trust) would be imported in place of the real
package.  ``-P`` (Python 3.11+) would leave it out, but Distill supports 3.10,
and ``-I`` would also drop ``PYTHONPATH`` and the user site, which the
project's own imports may need.  So each process runs a short ``-c`` bootstrap
instead: it takes the start folder (``-c``'s ``''``) off ``sys.path`` before its
first import, then runs the module as ``-m`` would.

Where the project's modules must still import (the CLI running revision
scripts), the folder goes back at the *end* of ``sys.path``: the project's own
packages are found, and never in place of an installed one.  The model worker
needs no such thing: its child puts the project root first itself, after
Distill and SQLAlchemy are imported (``load_metadata``).
"""

from __future__ import annotations

_BOOTSTRAP = """\
import sys
if sys.path and sys.path[0] == "":
    del sys.path[0]
    if {project_last}:
        import os
        sys.path.append(os.getcwd())
import runpy
runpy.run_module(sys.argv.pop(1), run_name="__main__", alter_sys=True)
"""


def python_module(
    python: str, module: str, *arguments: str, project_last: bool = False
) -> list[str]:
    """``python -m module arguments`` with the working folder off ``sys.path``.

    ``project_last``: the working folder (the project) at the end of ``sys.path`` instead.
    """
    return [python, "-c", _BOOTSTRAP.format(project_last=project_last), module, *arguments]
